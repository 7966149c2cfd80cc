"""Understanding at the wire: spoken requests, read-backs, corrections, clarifications.

A real engine on loopback hears espeak-ng speech over a noise floor through its VAD and
recognizer; the assertions are what a caller would notice: what the agent says and which
tool it calls (or that it calls none).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets

from agentgraph.engine import EmbeddedEngine

from .conftest import WireClient, stream
from .speech import caller_speech

BOOK_TABLE = {
    "type": "function",
    "name": "book_table",
    "description": "Book a table at the restaurant.",
    "parameters": {
        "type": "object",
        "properties": {
            "party_size": {"type": "integer", "description": "Number of people"},
            "time": {"type": "string", "description": "Time as HH:MM, 24-hour"},
        },
        "required": ["party_size", "time"],
    },
}
ORDER_STATUS = {
    "type": "function",
    "name": "get_order_status",
    "description": "Look up the status of an order.",
    "parameters": {
        "type": "object",
        "properties": {"order_number": {"type": "string", "description": "The order number"}},
        "required": ["order_number"],
    },
}
CANCEL = {
    "type": "function",
    "name": "cancel_appointment",
    "description": "Cancel an existing appointment.",
    "parameters": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "date": {"type": "string"}},
        "required": ["name", "date"],
    },
}


@pytest.fixture
async def caller() -> AsyncIterator[WireClient]:
    async with (
        EmbeddedEngine(realtime_factor=50.0) as engine,
        websockets.connect(
            engine.url + "?model=gpt-realtime",
            additional_headers={"Authorization": "Bearer t"},
            max_size=None,
        ) as ws,
    ):
        wire = WireClient(ws)
        assert (await wire.recv())["type"] == "session.created"
        await wire.send(
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "tools": [BOOK_TABLE, ORDER_STATUS, CANCEL],
                    "audio": {
                        "input": {
                            "transcription": {"model": "whisper-1"},
                            "turn_detection": {"type": "server_vad", "silence_duration_ms": 400},
                        }
                    },
                },
            }
        )
        await wire.until("session.updated")
        yield wire


async def say(client: WireClient, text: str, seed: int) -> tuple[str, list[dict[str, Any]]]:
    """Speak `text`; returns what the agent said and the calls it made in its answer."""
    pcm, _, _ = caller_speech(text, voice="cedar", seed=seed)
    await stream(client, pcm)
    events = await client.until("response.done")
    said = " ".join(
        e["transcript"] for e in events if e["type"] == "response.output_audio_transcript.done"
    )
    calls = [
        {"name": e["item"]["name"], "arguments": json.loads(e["item"]["arguments"])}
        for e in events
        if e["type"] == "response.output_item.done" and e["item"]["type"] == "function_call"
    ]
    return said, calls


async def test_a_spoken_booking_is_read_back_and_a_correction_replaces_the_slot(
    caller: WireClient,
) -> None:
    said, calls = await say(caller, "Book a table for two at 8 pm, please.", 1)
    assert calls == []  # nothing is booked on what was heard alone
    assert "confirm" in said.lower() and "20:00" in said and "2" in said
    said, calls = await say(caller, "No, four people.", 2)
    assert calls == []
    assert "4" in said and "20:00" in said and "2," not in said
    said, calls = await say(caller, "Yes, please.", 3)
    assert calls == [{"name": "book_table", "arguments": {"party_size": 4, "time": "20:00"}}]


async def test_no_booking_when_the_caller_says_no_to_the_read_back(caller: WireClient) -> None:
    said, calls = await say(caller, "Book a table for two at 8 pm, please.", 4)
    assert calls == [] and "confirm" in said.lower()
    said, calls = await say(caller, "No.", 5)
    assert calls == []
    assert "haven't" in said.lower()


async def lookup_after_checks(client: WireClient, calls: list[dict[str, Any]], said: str) -> Any:
    """Answer "did you say ...?" checks with yes; the first call made afterwards."""
    seed = 20
    while not calls and said.startswith("Did you say order number") and seed < 23:
        assert said == "Did you say order number 5 5 7?"  # a guess is checked, not used
        said, calls = await say(client, "Yes.", seed)
        seed += 1
    return calls


async def test_a_missing_value_is_asked_for_and_an_unsure_number_is_checked(
    caller: WireClient,
) -> None:
    said, calls = await say(caller, "Where is my order?", 6)
    assert calls == [] and "order number" in said.lower()
    # this voice's "five five seven" is heard as "5-5 salmon": a guess, so it is checked
    said, calls = await say(caller, "Five five seven.", 7)
    assert calls == []
    assert said == "Did you say order number 5 5 7?"
    calls = await lookup_after_checks(caller, calls, said)
    assert calls == [{"name": "get_order_status", "arguments": {"order_number": "557"}}]


async def test_spoken_digits_become_the_order_number(caller: WireClient) -> None:
    said, calls = await say(caller, "Where is my order?", 6)
    assert calls == [] and "order number" in said.lower()
    said, calls = await say(caller, "No, it is five five seven.", 12)
    # looked up at once when heard as digits, or after a check when heard as words
    calls = await lookup_after_checks(caller, calls, said)
    assert calls == [{"name": "get_order_status", "arguments": {"order_number": "557"}}]


async def test_a_spoken_time_is_normalised_to_hh_mm(caller: WireClient) -> None:
    said, calls = await say(caller, "I'd like a table for three.", 8)
    assert calls == [] and "time" in said.lower()
    said, calls = await say(caller, "At 3 pm.", 9)
    assert calls == []  # a booking: read back first, with the time as HH:MM
    assert "15:00" in said and "3" in said


async def test_what_can_you_do_is_answered_from_the_tool_descriptions(
    caller: WireClient,
) -> None:
    said, calls = await say(caller, "What can you do?", 10)
    assert calls == []
    assert "book a table at the restaurant" in said.lower()
    assert "look up the status of an order" in said.lower()
    assert "book_table" not in said and "get_order_status" not in said


async def test_cancel_my_appointment_is_a_request_not_stop(caller: WireClient) -> None:
    said, calls = await say(caller, "I need to cancel my appointment.", 11)
    assert calls == []  # a changing tool: it asks for what it needs first
    assert "stopped" not in said.lower()
    assert "name" in said.lower() or "day" in said.lower()
