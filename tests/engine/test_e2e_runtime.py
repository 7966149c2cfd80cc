"""End to end through the real runtime: example graphs, spoken callers, the embedded engine.

The caller is the engine's own TTS in a different voice from the agent's, over a noise
floor; the runtime (`agentgraph.realtime`) talks to the engine over loopback websockets.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from agentgraph.compile import compile_graph
from agentgraph.engine import EmbeddedEngine
from agentgraph.realtime import RealtimeRunner, RealtimeSession
from agentgraph.spec import load_graph

from .speech import caller_speech

GRAPHS = Path(__file__).resolve().parents[2] / "examples" / "graphs"
CHUNK = 48 * 20  # 20 ms of 24 kHz pcm16


class Call:
    """A running graph session and every session event so far."""

    def __init__(self, session: RealtimeSession) -> None:
        self.session = session
        self.events: list[Any] = []
        self._changed = asyncio.Event()

    async def collect(self) -> None:
        async for event in self.session:
            self.events.append(event)
            self._changed.set()

    def of(self, kind: str) -> list[Any]:
        return [e for e in self.events if e.type == kind]

    async def wait(
        self, kind: str, where: Callable[[Any], bool] | None = None, timeout: float = 20.0
    ) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                for event in self.of(kind):
                    if where is None or where(event):
                        return event
                self._changed.clear()
                await self._changed.wait()

    async def say(self, text: str, *, voice: str = "echo", seed: int = 0) -> None:
        pcm, _, _ = caller_speech(text, voice=voice, seed=seed)
        for i in range(0, len(pcm), CHUNK):
            await self.session.send_audio(pcm[i : i + CHUNK])


@pytest.fixture
async def engine() -> AsyncIterator[EmbeddedEngine]:
    async with EmbeddedEngine() as server:
        yield server


async def start(
    engine: EmbeddedEngine, graph: str, **run_config: Any
) -> tuple[Call, asyncio.Task[None]]:
    compiled = compile_graph(load_graph(GRAPHS / graph))
    runner = RealtimeRunner(compiled.starting_agent, config={**compiled.run_config, **run_config})
    session = await runner.run(model_config={"url": engine.url, "api_key": "local"})
    await session.__aenter__()
    call = Call(session)
    task = asyncio.get_running_loop().create_task(call.collect())
    await call.wait("connection", lambda e: e.status == "connected")
    return call, task


async def stop(call: Call, task: asyncio.Task[None]) -> None:
    await call.session.close()
    await asyncio.wait_for(task, 5)


async def test_weather_graph_spoken_city_not_in_the_graph(engine: EmbeddedEngine) -> None:
    call, task = await start(engine, "weather.yaml")
    try:
        await call.say("What's the weather in Lisbon?", voice="echo")
        tool = await call.wait("tool_end")
        assert tool.tool_name == "get_weather"
        assert json.loads(tool.arguments) == {"city": "Lisbon"}
        answer = await call.wait("transcript_done", lambda e: "Lisbon" in e.transcript)
        assert answer.transcript  # spoken from the tool output
        assert sum(len(e.audio) for e in call.of("audio_delta")) > 48 * 1000
    finally:
        await stop(call, task)


async def test_triage_graph_hands_off_to_booking(engine: EmbeddedEngine) -> None:
    call, task = await start(engine, "triage.yaml")
    try:
        await call.say("I would like to book an appointment", voice="echo")
        heard = await call.wait("input_transcript_done")
        assert "book" in heard.transcript and "appointment" in heard.transcript
        handoff = await call.wait("handoff")
        assert (handoff.from_agent.name, handoff.to_agent.name) == ("triage", "booking")
        # The booking agent carries on with the caller's request: it asks for the day.
        question = await call.wait("transcript_done")
        assert question.transcript.endswith("?")
        assert "date" in question.transcript or "day" in question.transcript
    finally:
        await stop(call, task)


async def test_booking_graph_asks_caller_approval_then_books(
    engine: EmbeddedEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTGRAPH_DEMO_DB", str(tmp_path / "demo.sqlite3"))
    call, task = await start(engine, "booking.yaml")
    try:
        await call.say(
            "Book an appointment tomorrow at eight am for John Smith", voice="echo", seed=4
        )
        # The prompt says to confirm first: the agent reads the details back...
        confirm = await call.wait("transcript_done", lambda e: e.transcript.endswith("ahead?"))
        assert "08:00" in confirm.transcript and "John Smith" in confirm.transcript
        await call.say("Yes please", voice="echo", seed=5)
        # ...then the out-of-hours rule makes the runtime ask the caller to approve.
        tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
        ask = await call.wait("transcript_done", lambda e: e.transcript.startswith("Book "))
        assert ask.transcript == f"Book {tomorrow} at 08:00?"
        # the prompt's lookup ran first; nothing is booked before the caller approves
        assert [e.tool_name for e in call.of("tool_end")] == ["check_availability"]
        await call.say("Yes", voice="echo", seed=6)
        done = await call.wait("tool_end", lambda e: e.tool_name == "book_appointment")
        assert json.loads(done.arguments) == {
            "date": tomorrow,
            "time": "08:00",
            "name": "John Smith",
        }
        assert done.ok and "John Smith" in done.output
    finally:
        await stop(call, task)


async def test_barge_in_through_the_runtime_cancels_and_truncates() -> None:
    async with EmbeddedEngine(realtime_factor=1.0) as slow_engine:
        call, task = await start(slow_engine, "weather.yaml", raw_model_events=True)
        try:
            await call.say("What can you do?", voice="cedar")
            await call.wait("audio_delta")
            await asyncio.sleep(0.2)  # the answer is playing when the caller talks over it
            await call.say("Stop.", voice="cedar", seed=3)
            await call.wait("audio_interrupted")

            def wire(kind: str) -> list[Any]:  # decoded wire events (protocol dataclasses)
                return [e.data for e in call.of("raw_model_event") if e.data.type == kind]

            await call.wait(
                "raw_model_event", lambda e: e.data.type == "conversation.item.truncated"
            )
            cancelled = [
                d.response for d in wire("response.done") if d.response["status"] == "cancelled"
            ]
            assert cancelled[0]["status_details"]["reason"] == "turn_detected"
            truncated = wire("conversation.item.truncated")[0]
            assert truncated.item_id == cancelled[0]["output"][0]["id"]
            received_ms = (
                sum(len(e.audio) for e in call.of("audio_delta") if e.item_id == truncated.item_id)
                // 48
            )
            assert 0 < truncated.audio_end_ms <= received_ms
            assert wire("input_audio_buffer.speech_started")
        finally:
            await stop(call, task)
