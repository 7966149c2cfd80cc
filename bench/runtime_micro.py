"""Micro-benchmark of the per-event paths, in process (no sockets, no server noise).

    python bench/runtime_micro.py

Measures, per audio event: decoding a `response.output_audio.delta` and turning it into
the session's `audio_delta` event (agentgraph: codec + client core + session dispatch),
against the floor (json.loads + base64 decode); and encoding one 20 ms caller chunk as
`input_audio_buffer.append` (agentgraph's fast path vs json.dumps + base64). Also checks
that the cost per transcript delta does not grow with the length of the call.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agentgraph.models import RealtimeClientProtocol
from agentgraph.protocol import encode_audio_append
from agentgraph.realtime import RealtimeAgent, RealtimeRunner

N = 50_000
CHUNK = bytes(960)
DELTA = json.dumps(
    {
        "type": "response.output_audio.delta",
        "event_id": "event_1",
        "response_id": "resp_1",
        "item_id": "item_1",
        "output_index": 0,
        "content_index": 0,
        "delta": base64.b64encode(bytes(1200)).decode(),
    }
)


def per_us(fn: object, n: int = N) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return (time.perf_counter() - start) / n * 1e6


async def main() -> None:
    runner = RealtimeRunner(RealtimeAgent(name="bench"))
    session = await runner.run(model_config={"url": "ws://127.0.0.1:1/v1/realtime"})
    core = RealtimeClientProtocol()
    on_event = session._on_wire_event  # what the connection's reader calls per event
    events = session.core.events

    def agentgraph_receive() -> None:
        for _ in range(N):
            core.receive(DELTA, 0.0)
            for event in core.events_received():
                on_event(event)
            events.popleft()

    def floor_receive() -> None:
        for _ in range(N):
            data = json.loads(DELTA)
            base64.b64decode(data["delta"])

    def agentgraph_send() -> None:
        for _ in range(N):
            core.send_audio(CHUNK)
            core.data_to_send()

    def floor_send() -> None:
        for _ in range(N):
            json.dumps(
                {"type": "input_audio_buffer.append", "audio": base64.b64encode(CHUNK).decode()}
            )

    print(
        f"receive audio delta -> app event: agentgraph {per_us(agentgraph_receive):.2f} us,"
        f" floor {per_us(floor_receive):.2f} us"
    )
    print(
        f"encode 20 ms caller chunk:        agentgraph {per_us(agentgraph_send):.2f} us, "
        f"floor {per_us(floor_send):.2f} us (fast path alone "
        f"{per_us(lambda: [encode_audio_append(CHUNK) for _ in range(N)]):.2f} us)"
    )

    # Transcript deltas over a long call: cost per delta at the start and after 30 minutes.
    session.history.add("item_1", "message", "assistant")
    delta = json.dumps(
        {
            "type": "response.output_audio_transcript.delta",
            "item_id": "item_1",
            "response_id": "r",
            "output_index": 0,
            "content_index": 0,
            "delta": "word ",
        }
    )

    def transcripts() -> None:
        for _ in range(N):
            core.receive(delta, 0.0)
            for event in core.events_received():
                on_event(event)
            events.popleft()

    first = per_us(transcripts)
    for i in range(900):  # 30 minutes of 2 s turns: 900 items in the history
        session.history.add(f"x{i}", "message", "assistant", text="word " * 20)
    later = per_us(transcripts)
    print(
        f"transcript delta: {first:.2f} us at the start, {later:.2f} us after 30 min of "
        f"history ({len(session.history)} items, {N * 2} deltas on one item)"
    )


if __name__ == "__main__":
    asyncio.run(main())
