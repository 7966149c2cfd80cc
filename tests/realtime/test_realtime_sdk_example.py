"""The issue's SDK-shaped example runs with only the import changed (against the fake)."""

from __future__ import annotations

import asyncio
from typing import Any

from agentgraph.realtime import (
    GuardrailFunctionOutput,
    RealtimeAgent,
    RealtimeOutputGuardrail,
    RealtimeRunner,
    function_tool,
)
from tests.fakes import FakeConnection, FakeRealtimeServer


@function_tool
def get_weather(city: str) -> str:
    """Get the weather in a city."""
    return f"The weather in {city} is sunny."


@function_tool
async def book_table(day: str, people: int) -> str:
    """Book a table."""
    return f"Booked for {people} on {day}."


def approve_booking(tool_name: str, arguments: dict[str, Any]) -> bool:
    return int(arguments.get("people", 0)) <= 8


def no_secrets(ctx: Any, agent: Any, output: str) -> GuardrailFunctionOutput:
    return GuardrailFunctionOutput(output_info=None, tripwire_triggered="password" in output)


async def test_issue_example_runs() -> None:
    async def answer(conn: FakeConnection, event: dict[str, Any]) -> None:
        await conn.respond_audio("Sure, I can help with that.")

    async with FakeRealtimeServer(on_response_create=answer) as server:
        booking_agent = RealtimeAgent(
            name="Booking", instructions="Book tables.", tools=[book_table]
        )
        agent = RealtimeAgent(
            name="Voice Assistant",
            instructions="...",
            tools=[get_weather],
            handoffs=[booking_agent],
            output_guardrails=[
                RealtimeOutputGuardrail(guardrail_function=no_secrets, debounce_length=100)
            ],
            tool_approval_function=approve_booking,
        )
        runner = RealtimeRunner(
            starting_agent=agent,
            config={
                "model_settings": {
                    "model_name": "gpt-realtime",
                    "voice": "ash",
                    "modalities": ["audio"],
                    "input_audio_format": "pcm16",
                    "output_audio_format": "pcm16",
                    "input_audio_transcription": {"model": "whisper-1"},
                    "turn_detection": {"type": "semantic_vad", "interrupt_response": True},
                }
            },
        )
        session = await runner.run(model_config={"url": server.url, "api_key": "sk-x"})
        pcm = bytes(960)
        seen: list[str] = []
        async with session:
            session.send_audio(pcm)
            session.send_message("Hello")
            await session.interrupt()
            await session.generate_response()
            await session.reconnect()
            async with asyncio.timeout(5):
                async for event in session:
                    match event.type:
                        case "audio_delta" | "transcript_done" | "connection":
                            seen.append(event.type)
                    if event.type == "transcript_done":
                        break
        assert "audio_delta" in seen and "transcript_done" in seen
        assert len(server.connections) == 2  # reconnect() made a fresh model session
