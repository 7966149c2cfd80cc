"""How much of a reply that an output guardrail blocks does the caller hear? (issue 10)

Against the embedded engine in this process, with default guardrail settings, the agent is
asked to say a ~4 s reply (several sentences) containing a trip word early, in the middle
or late. The caller's speaker plays agent audio in real time from the first delta, so the
caller has heard `min(time from the first audio delta to audio_interrupted, audio received
by then)` of the reply when the session cuts it. Reported: p50/p95/max over the replies
(target p95 <= 1000 ms), and per position.

    python bench/guardrail_cut.py [--replies 20] [--hold-back-ms 0]

`--hold-back-ms N` sets `RealtimeOutputGuardrail.hold_back_ms`: agent audio is released to
the caller N ms after it arrives, so checks on the text have that long to cut it first
(the setting for gpt-realtime, whose transcript trails its audio).

`--gpt-realtime-lag-ms L` instead simulates gpt-realtime against the session core in virtual
time (no server): audio streams in real time (~15 characters of speech a second) and each
word's transcript arrives L ms after its audio; the same replies, the default debounce.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agentgraph.engine import EmbeddedEngine  # noqa: E402
from agentgraph.realtime import (  # noqa: E402
    GuardrailFunctionOutput,
    RealtimeAgent,
    RealtimeOutputGuardrail,
    RealtimeRunner,
)

TRIP = "diagnosis"
FILLER = [
    "Thanks for calling the clinic today.",
    "I can help you with appointments and general questions.",
    "Our front desk is open from eight until six.",
    "Parking is free behind the building.",
    "Please bring your insurance card to the visit.",
]
POSITIONS = {"early": 0, "middle": 2, "late": 4}


def reply(position: str) -> str:
    sentences = list(FILLER)
    index = POSITIONS[position]
    sentences[index] = sentences[index].rstrip(".") + f", and my {TRIP} is the flu."
    return " ".join(sentences)


def no_diagnosis(ctx: Any, agent: Any, text: str) -> GuardrailFunctionOutput:
    return GuardrailFunctionOutput(output_info=None, tripwire_triggered=TRIP in text.lower())


async def one_reply(url: str, text: str, hold_back_ms: int) -> dict[str, float]:
    guard = RealtimeOutputGuardrail(
        no_diagnosis, message="I can't give a diagnosis on the phone.", hold_back_ms=hold_back_ms
    )
    agent = RealtimeAgent(name="clinic", instructions="x", output_guardrails=[guard])
    runner = RealtimeRunner(agent, config={"model_settings": {"turn_detection": None}})
    session = await runner.run(model_config={"url": url, "api_key": "local"})
    loop = asyncio.get_running_loop()
    first: float | None = None
    received_ms = 0.0
    async with session:
        await session.generate_response({"instructions": f'Say: "{text}"'})
        async with asyncio.timeout(30):
            async for event in session:
                if event.type == "audio_delta":
                    if first is None:
                        first = loop.time()
                    received_ms += len(event.audio) / 48  # pcm16 24 kHz: 48 bytes per ms
                elif event.type == "audio_interrupted" and first is not None:
                    elapsed_ms = (loop.time() - first) * 1000
                    return {"heard_ms": min(elapsed_ms, received_ms), "tripped": 1.0}
                elif event.type == "response_done" and first is not None:
                    break
    return {"heard_ms": received_ms, "tripped": 0.0}


CHARS_PER_S = 15.0  # speaking rate of the simulated model


def simulated_reply(text: str, lag_ms: int, hold_back_ms: int) -> dict[str, float]:
    """gpt-realtime in virtual time: 20 ms audio deltas in real time, each word's
    transcript delta `lag_ms` after its audio starts."""
    from agentgraph.protocol import events as wire
    from agentgraph.realtime import events as se
    from tests.realtime.core_driver import CoreDriver

    guard = RealtimeOutputGuardrail(no_diagnosis, message="No.", hold_back_ms=hold_back_ms)
    d = CoreDriver(RealtimeAgent(name="clinic", output_guardrails=[guard]))
    d.receive(wire.ResponseCreated(response={"id": "r"}))
    duration_ms = len(text) / CHARS_PER_S * 1000
    words, at = [], 0.0
    for word in text.split(" "):
        words.append((at + lag_ms, (" " if at else "") + word))
        at += (len(word) + 1) / CHARS_PER_S * 1000
    timeline = [(t, "audio", "") for t in range(0, int(duration_ms), 20)]
    timeline += [(t, "text", w) for t, w in words]
    timeline.sort(key=lambda e: (e[0], e[1]))
    first: float | None = None
    for t, kind, word in timeline:
        d.advance(t / 1000 - d.now)
        if kind == "audio":
            d.receive(wire.ResponseOutputAudioDelta(response_id="r", item_id="i", delta=bytes(960)))
        else:
            d.receive(
                wire.ResponseOutputAudioTranscriptDelta(response_id="r", item_id="i", delta=word)
            )
        for i, event in enumerate(d.events):
            if isinstance(event, se.RealtimeAudioEvent) and first is None:
                first = d.now
            if isinstance(event, se.RealtimeAudioInterruptedEvent):
                released = sum(20 for e in d.events[:i] if isinstance(e, se.RealtimeAudioEvent))
                heard = 0.0 if first is None else min(released, (d.now - first) * 1000)
                return {"heard_ms": heard, "tripped": 1.0}
    return {"heard_ms": duration_ms, "tripped": 0.0}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replies", type=int, default=20)
    parser.add_argument("--hold-back-ms", type=int, default=0)
    parser.add_argument("--gpt-realtime-lag-ms", type=int, default=None)
    args = parser.parse_args()
    order = list(POSITIONS)
    results: dict[str, list[float]] = {p: [] for p in order}
    async with contextlib.AsyncExitStack() as stack:
        engine = None
        if args.gpt_realtime_lag_ms is None:
            engine = await stack.enter_async_context(EmbeddedEngine())
        for n in range(args.replies):
            position = order[n % len(order)]
            if engine is None:
                r = simulated_reply(reply(position), args.gpt_realtime_lag_ms, args.hold_back_ms)
            else:
                r = await one_reply(engine.url, reply(position), args.hold_back_ms)
            if not r["tripped"]:
                print(f"reply {n + 1} ({position}): NOT blocked", flush=True)
            results[position].append(r["heard_ms"])
            print(f"reply {n + 1} ({position}): heard {r['heard_ms']:.0f} ms", flush=True)
    everything = sorted(ms for values in results.values() for ms in values)
    p95 = everything[min(len(everything) - 1, round(0.95 * (len(everything) - 1)))]
    print(
        f"heard of a blocked reply over {len(everything)} replies: "
        f"p50 {statistics.median(everything):.0f} ms, p95 {p95:.0f} ms, max {everything[-1]:.0f} ms"
    )
    for position in order:
        values = results[position]
        print(f"  trip word {position}: median {statistics.median(values):.0f} ms ({len(values)})")


if __name__ == "__main__":
    asyncio.run(main())
