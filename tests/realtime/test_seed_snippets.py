"""Every Python snippet of the seed document runs with only its imports changed.

The seed is /work/shared/reference/realtime-agents-seed.md (our API contract). Each test
below carries one snippet as the seed writes it -- `agents` became `agentgraph` /
`agentgraph.realtime`, nothing else -- and asserts what the snippet prints or does. There
is no API key here, so `runner.run()` starts the embedded offline engine, as a new user's
first run would. Where the seed leaves a name undefined (`play_audio`, `audio_bytes`,
`ask_user_confirmation`, `search_kb`, `audio_player`, `logger`), the test defines it as a
recorder. The seed's event loops never end by themselves; the tests stop a snippet (by
cancelling it, which also exits its `async with session`) once it has done what is
asserted. Timeouts only guard against hangs. (No `from __future__ import annotations`:
FastAPI reads the webhook handler's annotations at run time.)
"""

import asyncio
import contextlib
import io
import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any

import httpx
import pytest

from agentgraph import (
    Agent,
    GuardrailFunctionOutput,
    function_tool,
)
from agentgraph.engine import EmbeddedEngine
from agentgraph.realtime import (
    OpenAIRealtimeSIPModel,
    RealtimeAgent,
    RealtimeRunner,
    RealtimeSession,
)
from tests.engine.speech import caller_speech
from tests.fakes.chat_server import FakeChatServer

pytestmark = pytest.mark.slow

HANG_GUARD_S = 60


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new user's machine: no key, no running engine configured."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("AGENTGRAPH_ENGINE_URL", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


class Printed:
    """What a snippet prints (stdout), readable while it runs."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    @property
    def text(self) -> str:
        return self.buffer.getvalue()


@contextlib.contextmanager
def printed() -> Iterator[Printed]:
    out = Printed()
    with contextlib.redirect_stdout(out.buffer):
        yield out


async def run_until(
    snippet: Coroutine[Any, Any, Any], done: Callable[[], bool], *, timeout: float = HANG_GUARD_S
) -> None:
    """Run a snippet until `done()` holds, then stop it (the seed's loops never end)."""
    task = asyncio.ensure_future(snippet)
    try:
        async with asyncio.timeout(timeout):
            while not done():
                if task.done():
                    task.result()  # a snippet that raised fails the test with its error
                    raise AssertionError("the snippet ended before doing what was expected")
                await asyncio.sleep(0.02)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def events_until(
    session: RealtimeSession, stop: Callable[[Any], bool], *, timeout: float = HANG_GUARD_S
) -> list[Any]:
    """Session events up to and including the first that `stop` accepts."""
    seen: list[Any] = []
    async with asyncio.timeout(timeout):
        async for event in session:
            seen.append(event)
            if stop(event):
                return seen
    raise AssertionError(f"the session ended first: {[e.type for e in seen]}")


# -------------------------------------------------------------------- Basic Setup


def make_voice_assistant() -> RealtimeAgent:
    # seed: "1. Create RealtimeAgent"
    from agentgraph.realtime import RealtimeAgent

    agent = RealtimeAgent(
        name="Voice Assistant",
        instructions="You are a helpful voice assistant. Keep responses brief and conversational.",
    )
    return agent


def make_runner(agent: RealtimeAgent) -> RealtimeRunner:
    # seed: "2. Configure RealtimeRunner"
    from agentgraph.realtime import RealtimeRunner

    runner = RealtimeRunner(
        starting_agent=agent,
        config={
            "model_settings": {
                "model_name": "gpt-realtime",
                "voice": "ash",  # alloy, echo, fable, onyx, nova, shimmer, ash, ballad, coral, sage, verse  # noqa: E501
                "modalities": ["audio"],  # or ["text", "audio"]
                "input_audio_format": "pcm16",
                "output_audio_format": "pcm16",
            }
        },
    )
    return runner


def test_create_agent_and_configure_runner() -> None:
    agent = make_voice_assistant()
    runner = make_runner(agent)
    assert agent.name == "Voice Assistant"
    assert runner.starting_agent is agent
    assert runner.settings.model.voice == "ash"
    assert runner.settings.model.model_name == "gpt-realtime"


async def test_start_session_sends_audio_and_text_and_hears_an_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runner = make_runner(make_voice_assistant())
    audio_bytes = bytes(4800)  # 100 ms of silence, as a microphone would send first
    played: list[bytes] = []

    def play_audio(audio: bytes) -> None:
        played.append(audio)

    async def snippet() -> None:
        # seed: "3. Start Session"
        session = await runner.run()

        async with session:
            # Send audio
            session.send_audio(audio_bytes)

            # Or send text
            session.send_message("Hello")

            # Listen for events
            async for event in session:
                if event.type == "audio_delta":
                    # Play audio_bytes
                    play_audio(event.audio)
                elif event.type == "transcript_delta":
                    print(event.transcript, end="")

    with caplog.at_level(logging.INFO, logger="agentgraph"), printed() as out:
        await run_until(snippet(), lambda: bool(re.search(r"[.!?]\s*$", out.text)) and played)
    assert re.search(r"\b(hello|hi|help)\b", out.text, re.IGNORECASE), out.text
    assert sum(map(len, played)) > 24_000  # more than half a second of speech
    started = [r for r in caplog.records if "embedded offline engine" in r.getMessage()]
    assert len(started) == 1  # the one log line saying where the session runs


# -------------------------------------------------------------------- Configuration Options


def model_settings_config() -> dict[str, Any]:
    # seed: "Model Settings"
    config = {
        "model_settings": {
            # Model
            "model_name": "gpt-realtime",  # or gpt-realtime-mini
            # Voice
            "voice": "ash",  # Choose from available voices
            # Modalities
            "modalities": ["audio"],  # ["text"], ["audio"], or ["text", "audio"]
            # Audio Formats
            "input_audio_format": "pcm16",  # pcm16, g711_ulaw, g711_alaw
            "output_audio_format": "pcm16",  # pcm16, g711_ulaw, g711_alaw
            # Transcription (optional)
            "input_audio_transcription": {
                "model": "whisper-1",  # or gpt-4o-mini-transcribe
            },
            # Turn Detection
            "turn_detection": {
                "type": "semantic_vad",  # or "vad" or None for manual
                "threshold": 0.5,
                "prefix_padding_ms": 300,
                "silence_duration_ms": 500,
                "interrupt_response": True,
            },
        }
    }
    return config


WEATHER_INSTRUCTIONS = "Answer weather questions with get_weather, in one sentence."


@function_tool
async def weather_tool(city: str) -> str:
    """Get current weather for a city."""
    return f"Weather in {city}: Sunny, 72°F"


async def converse_by_voice(
    config: dict[str, Any],
    *,
    manual: Callable[[RealtimeSession], Awaitable[None]] | None = None,
) -> list[Any]:
    """A caller asks for the weather in Paris by voice; the events until the agent's
    answer is complete."""
    agent = RealtimeAgent(name="Weather", instructions=WEATHER_INSTRUCTIONS, tools=[weather_tool])
    runner = RealtimeRunner(starting_agent=agent, config=config)
    pcm, _, _ = caller_speech("What is the weather in Paris?")
    session = await runner.run()
    async with session:
        for i in range(0, len(pcm), 4800):
            session.send_audio(pcm[i : i + 4800])
        if manual is not None:
            await manual(session)
        return await events_until(
            session,
            lambda e: e.type == "transcript_done" and "Paris" in e.transcript,
        )


def tool_calls(events: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(e.tool_name, json.loads(e.arguments)) for e in events if e.type == "tool_start"]


async def test_model_settings_configure_the_whole_session(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The seed's settings (semantic_vad with VAD thresholds) configure the session:
    instructions and tools included -- nothing half-configured, no error events."""
    config = model_settings_config()
    with caplog.at_level(logging.WARNING):
        runner = RealtimeRunner(starting_agent=make_voice_assistant(), config=config)
    assert runner.settings.model.transcription == {"model": "whisper-1"}
    events = await converse_by_voice(config)
    assert [e for e in events if e.type == "error"] == []
    assert tool_calls(events) == [("weather_tool", {"city": "Paris"})]
    dropped = [r for r in caplog.records if "threshold" in r.getMessage()]
    assert len(dropped) == 1  # one warning naming what gpt-realtime's semantic_vad ignores


async def test_turn_detection_semantic_vad() -> None:
    config = {
        "model_settings": {
            # seed: "Semantic VAD (Recommended)"
            "turn_detection": {
                "type": "semantic_vad",
                "interrupt_response": True,  # Allow interruptions
            }
        }
    }
    events = await converse_by_voice(config)
    assert "speech_started" in [e.type for e in events]
    assert tool_calls(events) == [("weather_tool", {"city": "Paris"})]


async def test_turn_detection_basic_vad() -> None:
    config = {
        "model_settings": {
            # seed: "Basic VAD"
            "turn_detection": {
                "type": "vad",
                "threshold": 0.5,  # Detection sensitivity (0-1)
                "prefix_padding_ms": 300,  # Audio before speech start
                "silence_duration_ms": 500,  # Silence to detect end
            }
        }
    }
    events = await converse_by_voice(config)
    assert "speech_stopped" in [e.type for e in events]
    assert tool_calls(events) == [("weather_tool", {"city": "Paris"})]


async def test_turn_detection_manual_generate_response_answers_the_audio_sent() -> None:
    config = {"model_settings": {"turn_detection": None}}  # seed: "Manual (No VAD)"

    async def button_released(session: RealtimeSession) -> None:
        # Then manually trigger:
        await session.generate_response()

    events = await converse_by_voice(config, manual=button_released)
    assert "speech_started" not in [e.type for e in events]
    assert tool_calls(events) == [("weather_tool", {"city": "Paris"})]


# -------------------------------------------------------------------- Event Handling


@function_tool
async def get_weather(city: str) -> str:
    """Get current weather for a city."""
    return f"Weather in {city}: Sunny, 72°F"


class Playback:
    """`play_audio`, `stop_audio_playback`, `clear_audio_queue` and `audio_player`."""

    def __init__(self) -> None:
        self.played = 0
        self.stops = 0
        self.clears = 0

    def play_audio(self, audio: bytes) -> None:
        self.played += len(audio)

    def stop(self) -> None:
        self.stops += 1

    def clear_queue(self) -> None:
        self.clears += 1


async def event_types_snippet(session: RealtimeSession, player: Playback) -> None:
    play_audio = player.play_audio
    stop_audio_playback = player.stop
    clear_audio_queue = player.clear_queue
    # seed: "Event Types"
    async for event in session:
        match event.type:
            case "agent_start":
                print(f"Agent started: {event.agent.name}")

            case "agent_end":
                print(f"Agent ended: {event.agent.name}")

            case "audio_delta":
                # Stream audio output
                play_audio(event.audio)

            case "audio_done":
                # Audio generation complete
                print("Audio finished")

            case "audio_interrupted":
                # User interrupted agent
                stop_audio_playback()
                clear_audio_queue()

            case "transcript_delta":
                # Partial transcript
                print(event.transcript, end="")

            case "transcript_done":
                # Complete transcript
                print(f"\nFinal: {event.transcript}")

            case "tool_start":
                print(f"Tool called: {event.tool.name}")

            case "tool_end":
                print(f"Tool done: {event.tool.name}")
                print(f"Output: {event.output}")

            case "handoff":
                print(f"Handoff: {event.from_agent.name} → {event.to_agent.name}")

            case "error":
                print(f"Error: {event.error}")


async def test_event_types_print_agent_tool_transcript_and_audio() -> None:
    agent = RealtimeAgent(name="Weather", instructions=WEATHER_INSTRUCTIONS, tools=[get_weather])
    runner = RealtimeRunner(starting_agent=agent)
    player = Playback()

    async def snippet() -> None:
        session = await runner.run()
        async with session:
            session.send_message("What's the weather in Tokyo?")
            await event_types_snippet(session, player)

    with printed() as out:
        await run_until(snippet(), lambda: "\nFinal: " in out.text.split("Output: ")[-1])
    text = out.text
    assert text.startswith("Agent started: Weather\n")
    assert "Tool called: get_weather\nTool done: get_weather\n" in text
    assert "Output: Weather in Tokyo: Sunny, 72°F\n" in text
    final = text.rsplit("\nFinal: ", 1)[1].strip()
    assert "Tokyo" in final and "sunny" in final.lower()
    # the deltas printed before it spell the same sentence
    assert final in text.replace("\nFinal: " + final, "")
    assert "Audio finished" in text and player.played > 24_000
    assert "Error:" not in text


async def test_event_types_print_a_handoff() -> None:
    booking = RealtimeAgent(
        name="Booking Agent",
        instructions="Help with bookings",
        handoff_description="books appointments",
    )
    triage = RealtimeAgent(
        name="Triage",
        instructions="Route to booking based on user needs",
        handoffs=[booking],
    )
    runner = RealtimeRunner(starting_agent=triage)

    async def snippet() -> None:
        session = await runner.run()
        async with session:
            session.send_message("I want to book an appointment")
            await event_types_snippet(session, Playback())

    with printed() as out:
        await run_until(snippet(), lambda: "Agent started: Booking Agent" in out.text)
    assert "Handoff: Triage → Booking Agent" in out.text
    assert "Error:" not in out.text


# -------------------------------------------------------------------- Interruptions

LONG_GREETING = (
    "Hello and welcome to the city weather line. I can tell you today's weather, "
    "tomorrow's forecast, the chance of rain, the wind and the temperature for any city "
    "in the world. I can also tell you about sunrise and sunset times. Ask me anything."
)


async def test_automatic_interruption_stops_the_player() -> None:
    agent = RealtimeAgent(
        name="Weather",
        instructions=WEATHER_INSTRUCTIONS,
        tools=[get_weather],
        greeting=LONG_GREETING,
    )
    runner = RealtimeRunner(starting_agent=agent)
    audio_player = Playback()
    pcm, _, _ = caller_speech("What is the weather in Paris?")
    session = await runner.run()
    async with session:

        async def snippet() -> None:
            # seed: "Automatic Interruptions"
            async for event in session:
                if event.type == "audio_interrupted":
                    # Stop playback immediately
                    audio_player.stop()
                    audio_player.clear_queue()
                elif event.type == "audio_delta" and not audio_player.played:
                    audio_player.played += 1
                    session.send_audio(pcm)  # the caller talks over the greeting

        await run_until(snippet(), lambda: audio_player.stops > 0)
    assert audio_player.stops == 1 and audio_player.clears == 1


async def test_manual_interruption_stops_the_agent() -> None:
    agent = RealtimeAgent(name="Weather", instructions=WEATHER_INSTRUCTIONS, greeting=LONG_GREETING)
    runner = RealtimeRunner(starting_agent=agent)
    session = await runner.run()
    async with session:
        await events_until(session, lambda e: e.type == "audio_delta")
        # seed: "Manual Interruptions" -- User pressed "stop" button
        await session.interrupt()
        after = await events_until(session, lambda e: e.type == "audio_interrupted")
        assert "transcript_done" not in [e.type for e in after]
    spoken = [i for i in session.history_items() if getattr(i, "role", None) == "assistant"]
    assert spoken and spoken[-1].interrupted


# -------------------------------------------------------------------- Tools


async def ask(session: RealtimeSession, request: str) -> Any:
    """The caller asks for something a tool does; says yes if the agent confirms first
    (the seed's booking instructions say "then confirm"). Returns the `tool_end` event."""
    session.send_message(request)
    events = await events_until(session, lambda e: e.type in ("tool_end", "transcript_done"))
    if events[-1].type == "transcript_done":
        session.send_message("Yes")
        events = await events_until(session, lambda e: e.type == "tool_end")
    return events[-1]


def seed_tools() -> tuple[Any, Any]:
    # seed: "Define Function Tools"
    from agentgraph import function_tool

    @function_tool
    async def get_weather(city: str) -> str:
        """Get current weather for a city."""
        return f"Weather in {city}: Sunny, 72°F"

    @function_tool
    async def book_appointment(date: str, time: str) -> str:
        """Book an appointment."""
        return f"Appointment booked for {date} at {time}"

    return get_weather, book_appointment


async def test_function_tools_are_called_by_the_agent() -> None:
    get_weather, book_appointment = seed_tools()
    voice_agent = RealtimeAgent(
        name="Booking Assistant",
        instructions="Help users book appointments. Ask for date and time, then confirm.",
        tools=[get_weather, book_appointment],
    )
    assert [t["name"] for t in voice_agent.tools_wire()] == ["get_weather", "book_appointment"]
    assert voice_agent.tools_wire()[1]["parameters"]["required"] == ["date", "time"]
    session = await RealtimeRunner(starting_agent=voice_agent).run()
    async with session:
        tool_end = await ask(session, "What's the weather in Oslo?")
    assert tool_end.output == "Weather in Oslo: Sunny, 72°F"


async def test_tool_approval_function_decides_bookings() -> None:
    get_weather, book_appointment = seed_tools()
    asked: list[dict[str, Any]] = []
    answer = {"value": False}

    async def ask_user_confirmation(arguments: dict[str, Any]) -> bool:
        asked.append(arguments)
        return answer["value"]

    # seed: "Tool Approval (Human-in-the-Loop)"
    from agentgraph import ToolApprovalFunction

    async def approve_booking(tool_name: str, arguments: dict) -> bool:  # type: ignore[type-arg]
        """Require approval for booking."""
        if tool_name == "book_appointment":
            # Ask user to confirm
            return await ask_user_confirmation(arguments)
        return True  # Auto-approve other tools

    voice_agent = RealtimeAgent(
        name="Booking Assistant",
        tools=[get_weather, book_appointment],
        tool_approval_function=approve_booking,
    )
    assert ToolApprovalFunction is not None

    async def book(session: RealtimeSession) -> Any:
        return await ask(session, "Book an appointment on May 5 at 10:00")

    session = await RealtimeRunner(starting_agent=voice_agent).run()
    async with session:
        weather = await ask(session, "What's the weather in Oslo?")
        assert weather.output == "Weather in Oslo: Sunny, 72°F" and asked == []
        refused = await book(session)
        assert len(asked) == 1 and set(asked[0]) == {"date", "time"}  # the booking's arguments
        assert "10" in asked[0]["time"] and "5" in asked[0]["date"]
        assert "Appointment booked" not in refused.output
        answer["value"] = True
        booked = await book(session)
    assert len(asked) == 2
    assert booked.output.startswith("Appointment booked for ")


# -------------------------------------------------------------------- Handoffs


async def test_handoffs_route_and_keep_the_conversation() -> None:
    _, book_appointment = seed_tools()

    @function_tool
    async def search_kb(query: str) -> str:
        """Search the support knowledge base."""
        return "We are open from 9 to 5."

    config = {"model_settings": {"voice": "ash"}}
    # seed: "Handoffs in Voice Agents"
    booking_agent = RealtimeAgent(
        name="Booking Agent",
        instructions="Help with bookings",
        tools=[book_appointment],
    )

    support_agent = RealtimeAgent(
        name="Support Agent",
        instructions="Help with support questions",
        tools=[search_kb],
    )

    triage_agent = RealtimeAgent(
        name="Triage",
        instructions="Route to booking or support based on user needs",
        handoffs=[booking_agent, support_agent],
    )

    runner = RealtimeRunner(starting_agent=triage_agent, config=config)

    session = await runner.run()
    async with session:
        session.send_message("I need support, I have a question")
        events = await events_until(session, lambda e: e.type == "handoff")
        assert (events[-1].from_agent, events[-1].to_agent) == (triage_agent, support_agent)
        await events_until(session, lambda e: e.type == "transcript_done")
        assert session.current_agent is support_agent
        texts = [getattr(i, "text", None) for i in session.history_items()]
        assert "I need support, I have a question" in texts  # history is preserved


# -------------------------------------------------------------------- Phone Integration (SIP)


def sip_runner(agent: RealtimeAgent) -> RealtimeRunner:
    # seed: "Setup SIP Server"
    from agentgraph.realtime import OpenAIRealtimeSIPModel

    sip_model = OpenAIRealtimeSIPModel(
        model_name="gpt-realtime",
        voice="ash",
    )

    runner = RealtimeRunner(
        starting_agent=agent,
        config={"model": sip_model},
    )
    return runner


async def test_sip_model_in_config_attaches_by_call_id() -> None:
    agent = RealtimeAgent(name="Phone", instructions="Be brief.", greeting="Thanks for calling.")
    runner = sip_runner(agent)
    assert isinstance(runner.model, OpenAIRealtimeSIPModel) and runner.model.voice == "ash"

    # Start session with call_id from webhook
    session = await runner.run(call_id="call_abc123")
    assert session.call_id == "call_abc123"
    async with session:
        events = await events_until(session, lambda e: e.type == "transcript_done")
    assert events[-1].transcript == "Thanks for calling."


async def test_incoming_call_webhook_runs_the_call_until_it_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """webhook -> accept -> session (greets) -> hangup, offline on the embedded engine."""
    agent = RealtimeAgent(
        name="Phone", instructions="Be brief.", greeting="Thank you for calling Acme."
    )
    runner = sip_runner(agent)
    spoken: list[str] = []

    # seed: "Handle Incoming Calls"
    from fastapi import FastAPI, Request

    app = FastAPI()

    @app.post("/webhook/incoming-call")
    async def handle_call(request: Request):  # type: ignore[no-untyped-def]
        data = await request.json()
        call_id = data["call_id"]

        # Start voice agent for this call
        session = await runner.run(call_id=call_id)

        # Session runs until call ends
        async with session:
            async for event in session:
                # Handle events
                if event.type == "transcript_done":  # (the test records what was said)
                    spoken.append(event.transcript)

        return {"status": "completed"}

    async with EmbeddedEngine() as engine:
        monkeypatch.setenv("AGENTGRAPH_ENGINE_URL", engine.url)
        rest = engine.url.replace("ws://", "http://").rsplit("/realtime", 1)[0]
        auth = {"Authorization": "Bearer local"}
        call_id = engine.calls.ring()["data"]["call_id"]
        async with httpx.AsyncClient(base_url=rest, headers=auth) as calls:
            accepted = await calls.post(
                f"/realtime/calls/{call_id}/accept",
                json={"type": "realtime", "model": "gpt-realtime", "instructions": "Be brief."},
            )
            assert accepted.status_code == 200
            webhook = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://app"
            )
            async with webhook:
                answer = asyncio.ensure_future(
                    webhook.post("/webhook/incoming-call", json={"call_id": call_id})
                )
                async with asyncio.timeout(HANG_GUARD_S):
                    while not spoken:
                        assert not answer.done(), answer.result()
                        await asyncio.sleep(0.02)
                    hung_up = await calls.post(f"/realtime/calls/{call_id}/hangup")
                    assert hung_up.status_code == 200
                    response = await answer
    assert response.json() == {"status": "completed"}
    assert spoken[0] == "Thank you for calling Acme."


# -------------------------------------------------------------------- Guardrails for Voice


async def test_output_guardrail_with_a_text_checker(monkeypatch: pytest.MonkeyPatch) -> None:
    def judge(request: dict[str, Any]) -> str:
        said = request["messages"][-1]["content"]
        ok = "help" not in said.lower()
        return json.dumps({"is_appropriate": ok, "reasoning": "mentions help" if not ok else ""})

    async with FakeChatServer(reply=judge) as chat:
        monkeypatch.setenv("OPENAI_BASE_URL", chat.base_url)
        # seed: "Guardrails for Voice"
        from pydantic import BaseModel

        from agentgraph import Runner
        from agentgraph.realtime import RealtimeOutputGuardrail

        class ContentCheck(BaseModel):
            is_appropriate: bool
            reasoning: str

        checker = Agent(
            name="Content Checker",
            instructions="Check if content is appropriate",
            output_type=ContentCheck,
        )

        async def check_output(ctx, agent, transcript: str):  # type: ignore[no-untyped-def]
            result = await Runner.run(checker, transcript)
            check = result.final_output_as(ContentCheck)
            return GuardrailFunctionOutput(
                output_info=check,
                tripwire_triggered=not check.is_appropriate,
            )

        voice_agent = RealtimeAgent(
            name="Assistant",
            instructions="Be helpful",
            output_guardrails=[
                RealtimeOutputGuardrail(
                    guardrail_function=check_output,
                    debounce_length=100,  # Check every 100 chars
                )
            ],
        )

        session = await RealtimeRunner(starting_agent=voice_agent).run()
        async with session:
            session.send_message("Hello")
            events = await events_until(session, lambda e: e.type == "guardrail_tripped")
        assert chat.requests, "the checker agent was asked"
        tripped = events[-1]
        assert "help" in tripped.text.lower()
        assert (
            isinstance(tripped.output_info, ContentCheck) and not tripped.output_info.is_appropriate
        )


# -------------------------------------------------------------------- Complete Example


async def test_complete_example_calls_the_tool_and_answers() -> None:
    # seed: "Complete Example" (asyncio.run(main()) becomes `await main()`)
    import asyncio

    from agentgraph import function_tool
    from agentgraph.realtime import RealtimeAgent, RealtimeRunner

    @function_tool
    async def get_weather(city: str) -> str:
        """Get weather for a city."""
        return f"Weather in {city}: Sunny"

    async def main():  # type: ignore[no-untyped-def]
        # Create agent
        agent = RealtimeAgent(
            name="Weather Assistant",
            instructions="Help users check weather. Keep responses brief.",
            tools=[get_weather],
        )

        # Configure runner
        runner = RealtimeRunner(
            starting_agent=agent,
            config={
                "model_settings": {
                    "model_name": "gpt-realtime",
                    "voice": "ash",
                    "modalities": ["audio"],
                    "input_audio_format": "pcm16",
                    "output_audio_format": "pcm16",
                    "turn_detection": {
                        "type": "semantic_vad",
                        "interrupt_response": True,
                    },
                }
            },
        )

        # Start session
        session = await runner.run()

        async with session:
            print("Voice session started!")

            # In real app, connect to microphone and speaker
            # For now, simulate with text
            session.send_message("What's the weather in Tokyo?")

            async for event in session:
                if event.type == "transcript_delta":
                    print(event.transcript, end="")
                elif event.type == "audio_delta":
                    # play_audio(event.audio)
                    pass
                elif event.type == "tool_start":
                    print(f"\n[Calling tool: {event.tool.name}]")
                elif event.type == "audio_interrupted":
                    print("\n[User interrupted]")

    assert asyncio is not None
    with printed() as out:
        await run_until(main(), lambda: re.search(r"\]\n.*Tokyo.*Sunny", out.text) is not None)
    lines = out.text.splitlines()
    assert lines[0] == "Voice session started!"
    assert "[Calling tool: get_weather]" in lines
    assert "sunny" in lines[-1].lower() and "Tokyo" in lines[-1]
    assert "[User interrupted]" not in lines


# -------------------------------------------------------------------- Best Practices


def test_instructions_examples_are_plain_strings() -> None:
    # seed: "1. Optimize Instructions"
    # Good
    instructions = "You're a helpful assistant. Keep responses brief and conversational."

    # Avoid
    avoid = "You are a highly sophisticated artificial intelligence system designed to..."
    for text in (instructions, avoid):
        agent = RealtimeAgent(name="a", instructions=text)
        assert asyncio.run(agent.get_system_prompt()) == text


async def test_handle_interruptions_gracefully_logs(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("voice_app")
    audio_player = Playback()
    agent = RealtimeAgent(name="Weather", instructions=WEATHER_INSTRUCTIONS, greeting=LONG_GREETING)
    session = await RealtimeRunner(starting_agent=agent).run()
    async with session:

        async def snippet() -> None:
            # seed: "2. Handle Interruptions Gracefully"
            async for event in session:
                if event.type == "audio_interrupted":
                    # Critical: Stop playback immediately
                    audio_player.stop()
                    audio_player.clear_queue()

                    # Optional: Log interruption
                    logger.info("User interrupted agent")
                elif event.type == "audio_delta" and not audio_player.played:
                    audio_player.played += 1
                    await session.interrupt()  # the caller pressed stop

        with caplog.at_level(logging.INFO, logger="voice_app"):
            await run_until(snippet(), lambda: audio_player.stops > 0)
    assert [r.getMessage() for r in caplog.records if r.name == "voice_app"] == [
        "User interrupted agent"
    ]


SEED_VOICES = "alloy, echo, fable, onyx, nova, shimmer, ash, ballad, coral, sage, verse"


def test_every_voice_the_seed_lists_is_accepted() -> None:
    # seed: "3. Choose Appropriate Voice" and the comment in "2. Configure RealtimeRunner"
    for voice in SEED_VOICES.split(", "):
        runner = RealtimeRunner(
            starting_agent=RealtimeAgent(name="a"), config={"model_settings": {"voice": voice}}
        )
        assert runner.settings.model.voice == voice


async def test_a_voice_gpt_realtime_lacks_still_speaks_on_the_engine() -> None:
    agent = RealtimeAgent(name="a", greeting="Good morning.")
    runner = RealtimeRunner(starting_agent=agent, config={"model_settings": {"voice": "fable"}})
    session = await runner.run()
    async with session:
        events = await events_until(session, lambda e: e.type == "transcript_done")
    assert [e for e in events if e.type == "error"] == []
    assert sum(len(e.audio) for e in events if e.type == "audio_delta") > 9600


@pytest.mark.parametrize("environment", ["noisy", "quiet"])
async def test_tune_turn_detection(environment: str) -> None:
    # seed: "4. Tune Turn Detection"
    if environment == "noisy":
        # Noisy environment - less sensitive
        turn_detection = {
            "type": "semantic_vad",
            "threshold": 0.7,  # Higher threshold
            "silence_duration_ms": 700,  # Longer silence
        }
    else:
        # Quiet environment - more responsive
        turn_detection = {
            "type": "semantic_vad",
            "threshold": 0.3,  # Lower threshold
            "silence_duration_ms": 300,  # Shorter silence
        }
    events = await converse_by_voice({"model_settings": {"turn_detection": turn_detection}})
    assert [e for e in events if e.type == "error"] == []
    assert tool_calls(events) == [("weather_tool", {"city": "Paris"})]


async def test_monitor_latency_prints_time_to_first_audio() -> None:
    session = await RealtimeRunner(starting_agent=make_voice_assistant()).run()
    with printed() as out:
        async with session:
            session.send_message("Hello")
            # seed: "5. Monitor Latency"
            import time

            start = time.time()

            async for event in session:
                if event.type == "audio_delta":
                    latency = (time.time() - start) * 1000
                    print(f"Time to first audio: {latency}ms")
                    break
    assert re.fullmatch(r"Time to first audio: \d+\.\d+ms\n", out.text), out.text


async def test_error_recovery_reconnects_and_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("voice_app")
    session = await RealtimeRunner(starting_agent=make_voice_assistant()).run()
    reconnected = asyncio.Event()
    real_reconnect = session.reconnect

    async def reconnect() -> None:
        await real_reconnect()
        reconnected.set()

    session.reconnect = reconnect  # type: ignore[method-assign]

    async def snippet() -> None:
        # seed: "6. Error Recovery"
        try:
            async with session:
                # push-to-talk released before any audio: the server answers with an error
                session.send_audio(b"", commit=True)
                async for event in session:
                    if event.type == "error":
                        logger.error(f"Session error: {event.error}")
                        # Attempt reconnection
                        await session.reconnect()
        except Exception as e:
            logger.error(f"Fatal error: {e}")
            # Notify user and cleanup

    with caplog.at_level(logging.ERROR, logger="voice_app"):
        await run_until(snippet(), reconnected.is_set)
    messages = [r.getMessage() for r in caplog.records if r.name == "voice_app"]
    assert messages and messages[0].startswith("Session error: ")
    assert not [m for m in messages if m.startswith("Fatal error")]


# -------------------------------------------------------------------- the runner's own promises


async def test_no_key_starts_the_engine_and_closing_the_session_stops_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runner = make_runner(make_voice_assistant())
    with caplog.at_level(logging.INFO, logger="agentgraph"):
        session = await runner.run()
    line = next(r for r in caplog.records if "embedded offline engine" in r.getMessage())
    url = re.search(r"ws://127\.0\.0\.1:\d+/v1/realtime", line.getMessage())
    assert url is not None
    async with session:
        assert session.connected
    # the engine is gone with the session: nothing listens there any more
    probe = RealtimeRunner(starting_agent=make_voice_assistant())
    again = await probe.run(model_config={"url": url.group(0), "api_key": "x"})
    with pytest.raises(Exception, match="cannot connect"):
        async with again:
            pass


async def test_provider_local_ignores_a_key(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-used-offline")
    runner = make_runner(make_voice_assistant())
    with caplog.at_level(logging.INFO, logger="agentgraph"):
        session = await runner.run(model_config={"provider": "local"})
    async with session:
        session.send_message("Hello")
        events = await events_until(session, lambda e: e.type == "transcript_done")
    assert events[-1].transcript
    assert "sk-not-used-offline" not in caplog.text


async def test_greeting_is_spoken_before_the_caller_says_anything() -> None:
    from agentgraph.realtime import Greeting

    agent = RealtimeAgent(name="Desk", instructions="You are Ada, a front desk agent.")
    runner = RealtimeRunner(
        starting_agent=agent,
        config={"greeting": Greeting(instructions="Greet the caller in one sentence.")},
    )
    session = await runner.run()
    async with session:
        events = await events_until(session, lambda e: e.type == "transcript_done")
    assert "Ada" in events[-1].transcript
    assert [e.type for e in events if e.type == "tool_start"] == []


async def test_greeting_with_manual_turns_raises_no_error() -> None:
    agent = RealtimeAgent(name="Desk", greeting="Hello, front desk.")
    runner = RealtimeRunner(
        starting_agent=agent, config={"model_settings": {"turn_detection": None}}
    )
    session = await runner.run()
    async with session:
        events = await events_until(session, lambda e: e.type == "transcript_done")
    assert events[-1].transcript == "Hello, front desk."
    assert [e for e in events if e.type == "error"] == []
