"""Turn latency of `agentgraph run` on the embedded engine, as the session records report it.

Latency (defined once, as in the README): the caller stops speaking (`speech_stopped`, or
the end of a typed turn) -> the first agent audio byte is played. Two runs of the weather
graph through the real app (`run_app`), with session records:

- text: one session, N typed turns (`--say` style), each with a get_weather tool call;
- voice: one session fed a WAV of N spoken questions 4 s apart, paced in real time (the
  output is "played" by the real-time WAV player), server VAD with 500 ms of silence.

    python bench/turn_latency.py [--turns 20] [--spoken 8]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CITIES = [
    "Tokyo",
    "London",
    "Paris",
    "Lisbon",
    "Berlin",
    "Sydney",
    "Toronto",
    "Rome",
    "Singapore",
    "New York",
]


async def run(opts_kwargs: dict[str, object]) -> dict[str, object]:
    from agentgraph.app.run import RunOptions, run_app

    opts = RunOptions(graph=REPO / "examples/graphs/weather.yaml", console="quiet", **opts_kwargs)  # type: ignore[arg-type]
    result = await run_app(opts, out=io.StringIO())
    return result.summary


def spoken_file(n: int, tmp: Path) -> tuple[Path, list[float]]:
    """A WAV of `n` questions 4 s apart, and the stream time (s) each question's words end."""
    from agentgraph.audio import read_wav_pcm16, write_wav_pcm16
    from tests.cli_run.speech import speak

    parts = []
    ends: list[float] = []
    at = 0
    rng = np.random.default_rng(1)
    for i in range(n):
        city = CITIES[i % len(CITIES)]
        pcm = read_wav_pcm16(speak(f"What's the weather in {city}?", tmp / f"q{i}.wav"))
        samples = np.abs(np.frombuffer(pcm, dtype="<i2").astype(np.int32))
        last_word = int(np.nonzero(samples > 500)[0][-1]) * 2 if samples.size else 0
        ends.append((at + last_word) / 48000)
        parts.append(pcm + bytes(4 * 48000))  # 4 s for the answer before the next question
        at += len(parts[-1])
    pcm = np.frombuffer(b"".join(parts), dtype="<i2").astype(np.float64)
    pcm = np.clip(pcm + rng.normal(0, 30, pcm.size), -32768, 32767).astype("<i2")
    path = tmp / "questions.wav"
    write_wav_pcm16(path, pcm.tobytes())
    return path, ends


def voice_to_voice(run_dir: Path, ends: list[float]) -> list[float]:
    """End of the caller's words -> first agent audio played, from events.jsonl times (the
    session timeline starts within a few ms of the first caller audio)."""
    starts = [
        json.loads(line)["t"]
        for line in (run_dir / "events.jsonl").read_text().splitlines()
        if json.loads(line)["type"] == "latency"
    ]
    out = []
    for end in ends:
        later = [t for t in starts if t > end]
        if later:
            out.append((later[0] - end) * 1000)
    return out


def show(label: str, summary: dict[str, object]) -> None:
    latency = summary.get("latency", {})
    assert isinstance(latency, dict)
    stats = latency.get("all")
    calls = summary.get("tool_calls", [])
    assert isinstance(calls, list)
    print(f"{label}: {json.dumps(stats)}; tool calls: {len(calls)}")


async def main(turns: int, spoken: int) -> None:
    os.environ.pop("OPENAI_API_KEY", None)
    tmp = Path(tempfile.mkdtemp(prefix="agentgraph-latency-"))
    says = [f"What's the weather in {CITIES[i % len(CITIES)]}?" for i in range(turns)]
    show(f"typed turns (n={turns})", await run({"say": says, "log_dir": tmp / "text"}))
    if spoken:
        path, ends = spoken_file(spoken, tmp)
        show(
            f"spoken turns, real time (n={spoken})",
            await run({"input_path": path, "log_dir": tmp / "voice"}),
        )
        from agentgraph.app.latency import percentile

        v2v = voice_to_voice(tmp / "voice", ends)
        print(
            f"voice to voice (end of the caller's words -> first agent audio played, "
            f"n={len(v2v)}): p50 {percentile(v2v, 50):.0f} ms, p95 {percentile(v2v, 95):.0f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--spoken", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.turns, args.spoken))
