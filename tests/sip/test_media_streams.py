"""Twilio-style media streams: the pure protocol, and a real loopback websocket where a
fake carrier streams a spoken request, gets the engine's answer with marks, echoes some
marks (the playback position) and barges in, which must produce `clear`."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from agentgraph.app.run import load_compiled
from agentgraph.audio import AudioFormat, pcm16_to_ulaw
from agentgraph.engine import EmbeddedEngine
from agentgraph.errors import ProtocolError
from agentgraph.realtime import RealtimePlaybackTracker
from agentgraph.transports.media_streams import MediaStreamProtocol, MediaStreamServer
from agentgraph.transports.sip.sessions import CallSessions
from tests.sip.caller_audio import caller_pcm8k

GRAPH = Path(__file__).parents[2] / "examples" / "graphs" / "weather.yaml"
START = {
    "event": "start",
    "sequenceNumber": "1",
    "streamSid": "MZ1",
    "start": {
        "streamSid": "MZ1",
        "callSid": "CA1",
        "tracks": ["inbound"],
        "customParameters": {"to": "1000"},
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
    },
}


def test_protocol_events_marks_and_clear() -> None:
    tracker = RealtimePlaybackTracker(AudioFormat.G711_ULAW)
    p = MediaStreamProtocol(tracker)
    assert p.receive(json.dumps({"event": "connected", "protocol": "Call"})) == ("ignored", None)
    assert p.media("item", 0, b"x") == []  # nothing to send before start
    kind, start = p.receive(json.dumps(START))
    assert kind == "start" and start.number == "1000" and start.call_sid == "CA1"
    payload = base64.b64encode(b"\xff" * 160).decode()
    assert p.receive(
        json.dumps({"event": "media", "media": {"track": "inbound", "payload": payload}})
    ) == ("audio", b"\xff" * 160)
    first = p.media("item_1", 0, b"\x00" * 800)  # 100 ms
    second = p.media("item_1", 0, b"\x00" * 1600)  # 200 ms
    assert [json.loads(m)["event"] for m in first] == ["media", "mark"]
    mark1, mark2 = json.loads(first[1])["mark"]["name"], json.loads(second[1])["mark"]["name"]
    p.receive(json.dumps({"event": "mark", "streamSid": "MZ1", "mark": {"name": mark1}}))
    state = tracker.get_state()
    assert (state.item_id, state.played_ms) == ("item_1", 100)
    # a later mark implies the earlier audio played too; unknown marks change nothing
    p.receive(json.dumps({"event": "mark", "mark": {"name": "nope"}}))
    p.receive(json.dumps({"event": "mark", "mark": {"name": mark2}}))
    assert tracker.get_state().played_ms == 300
    p.media("item_2", 0, b"\x00" * 800)
    assert json.loads(p.clear()[0]) == {"event": "clear", "streamSid": "MZ1"}
    assert p.receive(json.dumps({"event": "dtmf", "dtmf": {"digit": "7"}})) == ("dtmf", "7")
    assert p.receive(json.dumps({"event": "stop"})) == ("stop", None)


@pytest.mark.parametrize(
    "text",
    [
        "nope",
        "[]",
        json.dumps({"event": "start"}),
        json.dumps({"event": "media", "media": {"payload": "!!"}}),
    ],
)
def test_protocol_rejects_bad_messages(text: str) -> None:
    with pytest.raises(ProtocolError):
        MediaStreamProtocol().receive(text)


@pytest.fixture
async def served() -> AsyncIterator[tuple[MediaStreamServer, list[Any]]]:
    compiled = load_compiled(GRAPH)
    events: list[Any] = []
    async with EmbeddedEngine() as engine:
        sessions = CallSessions(
            agents=compiled.agents,
            start_agent=compiled.starting_agent.name,
            run_config=compiled.run_config,
            url=engine.url,
            api_key="local",
            on_event=lambda _c, e: events.append(e),
        )
        async with MediaStreamServer(sessions) as server:
            yield server, events


async def send_paced(ws: Any, ulaw: bytes) -> None:
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    for i in range(0, len(ulaw), 160):
        await ws.send(
            json.dumps(
                {
                    "event": "media",
                    "streamSid": "MZ1",
                    "media": {
                        "track": "inbound",
                        "payload": base64.b64encode(ulaw[i : i + 160]).decode(),
                    },
                }
            )
        )
        next_at += 0.02
        await asyncio.sleep(max(0.0, next_at - loop.time()))


@pytest.mark.slow
async def test_call_over_media_stream_with_marks_and_barge_in(
    served: tuple[MediaStreamServer, list[Any]],
) -> None:
    server, events = served
    received: list[dict[str, Any]] = []
    async with websockets.connect(server.url) as ws:
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        await ws.send(json.dumps(START))

        async def reader() -> None:
            async for text in ws:
                received.append(json.loads(text))

        reading = asyncio.ensure_future(reader())
        await send_paced(
            ws, pcm16_to_ulaw(caller_pcm8k("What's the weather in Tokyo?", tail_ms=600))
        )
        # the carrier plays the first half second of the answer and echoes those marks
        for _ in range(300):
            if (
                sum(len(m["media"]["payload"]) * 3 // 4 for m in received if m["event"] == "media")
                >= 4000
            ):
                break
            await send_paced(ws, b"\xff" * 160)
        heard = 0
        for msg in list(received):
            if msg["event"] == "media":
                heard += len(base64.b64decode(msg["media"]["payload"]))
            elif msg["event"] == "mark" and heard <= 4000:
                await ws.send(
                    json.dumps({"event": "mark", "streamSid": "MZ1", "mark": msg["mark"]})
                )
                echoed = heard
        await asyncio.sleep(0.2)
        (transport,) = server.transports
        assert transport.playback_tracker is not None
        assert transport.playback_tracker.get_state().played_ms == echoed // 8  # type: ignore[attr-defined]
        # the caller talks over the answer: the agent stops and the carrier is told to clear
        await send_paced(ws, pcm16_to_ulaw(caller_pcm8k("Stop, thank you.", tail_ms=800)))
        for _ in range(100):
            if any(m["event"] == "clear" for m in received):
                break
            await asyncio.sleep(0.05)
        await ws.send(json.dumps({"event": "stop", "streamSid": "MZ1"}))
        reading.cancel()
    assert any(m["event"] == "clear" and m["streamSid"] == "MZ1" for m in received)
    tools = [(e.tool_name, e.output) for e in events if e.type == "tool_end"]
    assert tools and tools[0][0] == "get_weather" and "Tokyo" in tools[0][1]
    assert any(e.type == "audio_interrupted" for e in events)
    await asyncio.wait_for(transport.ended.wait(), 5)
