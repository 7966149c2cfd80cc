"""How fast does the speaker go quiet after `audio_interrupted`? (issue 5: within 10 ms)

Runs `agentgraph run examples/graphs/weather.yaml` in microphone mode in this process on
REAL PortAudio, with the ALSA file-device rig from the tests as the sound card, against the
embedded engine. A scripted caller asks for the weather, waits until the reply is audible,
then talks over it. The speaker queue is instrumented (timestamps only): for each barge-in
we measure from the moment the transport handles `audio_interrupted` to the end of the
5 ms fade in the first output callback after it, i.e. the last agent sample handed to
PortAudio, and how much agent audio was handed over after it (the fade). Also printed:
the output callback cadence and the stop time at the fake card's far end. Note: the rig's
named pipe wakes ALSA's file plugin one 4 KiB page (~85 ms) at a time, so on the rig
PortAudio's 10 ms callbacks arrive in bursts every ~80 ms and the wall-clock figures are
bounded by that burst, not by the transport; on a sound card with 10 ms periods the next
callback (<= 10 ms) carries the 5 ms fade and then silence.

    python bench/barge_in_stop.py [--rounds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.cli_run.speech import speak  # noqa: E402
from tests.transports.alsa_rig import AlsaRig  # noqa: E402

LOUD = 300.0


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


async def main(rounds: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="agentgraph-bargein-"))
    from agentgraph.audio import read_wav_pcm16

    question = read_wav_pcm16(speak("What's the weather in Tokyo?", tmp / "q.wav"))
    barge = read_wav_pcm16(speak("Wait, stop, stop please.", tmp / "b.wav", voice="en-us+f3"))
    with AlsaRig(tmp) as rig:
        os.environ["ALSA_CONFIG_PATH"] = str(rig.config_path)
        os.environ.pop("OPENAI_API_KEY", None)
        from agentgraph.app.run import RunOptions, run_app
        from agentgraph.transports import local

        interrupts: list[float] = []
        pulls: list[tuple[float, int]] = []
        orig_interrupt, orig_pull = local._Output.interrupt, local._Output.pull

        def interrupt(self: local._Output) -> None:
            interrupts.append(time.monotonic())
            orig_interrupt(self)

        def pull(self: local._Output, num_bytes: int) -> tuple[bytes, list[local.PlayedChunk]]:
            audio, chunks = orig_pull(self, num_bytes)
            pulls.append((time.monotonic(), len(audio)))
            return audio, chunks

        local._Output.interrupt = interrupt  # type: ignore[method-assign]
        local._Output.pull = pull  # type: ignore[method-assign]
        opts = RunOptions(
            graph=REPO / "examples/graphs/weather.yaml", console="quiet", no_records=True
        )
        app = asyncio.get_running_loop().create_task(run_app(opts))
        await asyncio.sleep(3)
        device_stop_ms: list[float] = []
        far_end_ms: list[float] = []
        audio_after_ms: list[float] = []
        for _ in range(rounds):
            start_blocks = len(rig.speaker)
            rig.say(question)
            while not any(level > LOUD for _, level in rig.speaker_levels()[start_blocks:]):
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.4)
            before = len(interrupts)
            rig.say(barge)
            deadline = time.monotonic() + 10
            while len(interrupts) == before and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            if len(interrupts) == before:
                print("no barge-in detected this round")
                continue
            t_int = interrupts[-1]
            await asyncio.sleep(1.0)
            first_after = min(t for t, _ in pulls if t >= t_int)
            device_stop_ms.append((first_after - t_int) * 1000 + 5.0)  # + the 5 ms fade
            after = [n for t, n in pulls if t >= t_int]
            audio_after_ms.append(
                sum(after[: next((i for i, n in enumerate(after) if n == 0), len(after))]) / 48
            )
            # the caller is still talking for ~1.5 s, so any agent audio in this window is
            # what was already on its way to the card when playback stopped
            loud_after = [
                t for t, level in rig.speaker_levels() if t_int <= t <= t_int + 1.0 and level > LOUD
            ]
            far_end_ms.append(((max(loud_after) + 0.02) - t_int) * 1000 if loud_after else 0.0)
            await asyncio.sleep(4)  # let the answer to the barge-in finish
        app.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await app
    if not device_stop_ms:
        print("no measurements")
        return
    print(f"barge-ins measured: {len(device_stop_ms)}")
    print(
        f"audio_interrupted -> last agent sample handed to PortAudio: "
        f"p50 {pct(device_stop_ms, 50):.1f} ms, p95 {pct(device_stop_ms, 95):.1f} ms, "
        f"max {max(device_stop_ms):.1f} ms"
    )
    print(
        f"agent audio handed to PortAudio after audio_interrupted (the fade): "
        f"max {max(audio_after_ms):.1f} ms"
    )
    gaps = [(b - a) * 1000 for (a, _), (b, _) in itertools.pairwise(pulls)]
    print(
        f"output callback interval (10 ms blocks on this device): p50 {pct(gaps, 50):.1f} ms, "
        f"p95 {pct(gaps, 95):.1f} ms, max {max(gaps):.1f} ms"
    )
    if far_end_ms:
        print(
            f"audio_interrupted -> end of the last loud 20 ms block read at the fake card's "
            f"far end (upper bound: includes the rig's pipe and ALSA buffers): "
            f"p50 {statistics.median(far_end_ms):.0f} ms, max {max(far_end_ms):.0f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    asyncio.run(main(parser.parse_args().rounds))
