"""Session start, audio in/out, messages, one response in flight, close."""

from __future__ import annotations

import asyncio

import pytest

from agentgraph.realtime import (
    ModelSettingsError,
    RealtimeAgent,
    RealtimeRunner,
    function_tool,
)
from tests.realtime.conftest import Harness

SETTINGS = {
    "model_settings": {
        "model_name": "gpt-realtime",
        "voice": "ash",
        "modalities": ["audio"],
        "input_audio_format": "pcm16",
        "output_audio_format": "pcm16",
        "input_audio_transcription": {"model": "whisper-1"},
        "turn_detection": {"type": "semantic_vad", "interrupt_response": True},
    }
}


def get_weather(city: str) -> str:
    """Get the weather for a city.

    Args:
        city: the city name.
    """
    return f"sunny in {city}"


async def test_start_configures_the_session_from_agent_and_settings(harness: Harness) -> None:
    booking = RealtimeAgent(name="Booking", instructions="Book things.")
    agent = RealtimeAgent(
        name="Voice Assistant",
        instructions="Be brief.",
        tools=[function_tool(get_weather)],
        handoffs=[booking],
    )
    session, conn = await harness.start(agent, SETTINGS)
    assert conn.query == {"model": "gpt-realtime"}
    update = conn.of_type("session.update")[0]["session"]
    assert update["type"] == "realtime"
    assert update["instructions"] == "Be brief."
    assert update["output_modalities"] == ["audio"]
    assert update["audio"]["output"] == {
        "format": {"type": "audio/pcm", "rate": 24000},
        "voice": "ash",
    }
    assert update["audio"]["input"]["turn_detection"] == {
        "type": "semantic_vad",
        "interrupt_response": True,
    }
    assert update["audio"]["input"]["transcription"] == {"model": "whisper-1"}
    assert [t["name"] for t in update["tools"]] == ["get_weather", "transfer_to_booking"]
    assert update["tools"][0]["parameters"]["required"] == ["city"]
    await harness.wait_event("agent_start")
    assert harness.types()[:3] == ["connection", "connection", "agent_start"]
    assert [e.status for e in harness.of("connection")] == ["connecting", "connected"]
    assert session.current_agent is agent


async def test_agent_audio_and_transcripts_become_events_and_history(harness: Harness) -> None:
    session, conn = await harness.start(RealtimeAgent(name="a", instructions="x"))
    audio = bytes(range(256)) * 19  # 4864 bytes, not a multiple of the chunk
    _, item_id = await conn.respond_audio("Hello there friend", audio=audio, chunks=3)
    done = await harness.wait_event("transcript_done")
    assert done.transcript == "Hello there friend" and done.item_id == item_id
    deltas = harness.of("audio_delta")
    assert b"".join(e.audio for e in deltas) == audio
    assert {e.item_id for e in deltas} == {item_id}
    assert "".join(e.delta for e in harness.of("transcript_delta")) == "Hello there friend"
    assert harness.of("audio_done")[0].item_id == item_id
    [item] = [i for i in session.history_items() if i.item_id == item_id]
    assert (item.role, item.text) == ("assistant", "Hello there friend")
    assert harness.of("history_added")[0].item.item_id == item_id


async def test_send_audio_reaches_server_unchanged(harness: Harness) -> None:
    session, conn = await harness.start(RealtimeAgent(name="a"))
    chunks = [bytes([i]) * 960 for i in range(10)]
    for chunk in chunks:
        session.send_audio(chunk)
    await session.send_audio(b"\x7f" * 960)  # awaiting is allowed too (SDK style)
    await conn.wait_for_audio(960 * 11)
    assert bytes(conn.audio) == b"".join(chunks) + b"\x7f" * 960
    assert conn.append_count == 11


async def test_audio_coalescing_sends_fewer_larger_appends(harness: Harness) -> None:
    session, conn = await harness.start(RealtimeAgent(name="a"), {"audio_send_interval_ms": 60})
    for i in range(9):
        session.send_audio(bytes([i]) * 960)  # 9 x 20 ms
    await conn.wait_for_audio(960 * 9)
    assert conn.append_count == 3
    assert bytes(conn.audio) == b"".join(bytes([i]) * 960 for i in range(9))


async def test_send_message_creates_item_then_response(harness: Harness) -> None:
    session, conn = await harness.start(RealtimeAgent(name="a"))
    session.send_message("What time is it?")
    await conn.wait_for("response.create")
    assert conn.types()[-2:] == ["conversation.item.create", "response.create"]
    item = conn.of_type("conversation.item.create")[0]["item"]
    assert item["role"] == "user" and item["content"] == [
        {"type": "input_text", "text": "What time is it?"}
    ]
    user = [i for i in session.history_items() if i.role == "user"]
    assert user[0].text == "What time is it?"


async def test_only_one_response_create_in_flight(harness: Harness) -> None:
    session, conn = await harness.start(RealtimeAgent(name="a"))
    session.send_message("one")
    first = await conn.wait_for("response.create")
    session.send_message("two")
    await session.generate_response()
    await conn.wait_for("conversation.item.create", count=2)
    await asyncio.sleep(0.05)
    assert len(conn.of_type("response.create")) == 1
    resp = await conn.begin_response()
    await resp.end()
    await conn.wait_for("response.create", count=2)
    await asyncio.sleep(0.05)
    # "two" and generate_response() share one queued response (both just want an answer).
    assert len(conn.of_type("response.create")) == 2
    assert first.get("event_id", "").startswith("agr_")
    assert all(
        e["code"] != "conversation_already_has_active_response"
        for e in (ev.error for ev in harness.of("error"))
    )


async def test_server_vad_response_race_requeues_our_create(harness: Harness) -> None:
    session, conn = await harness.start(RealtimeAgent(name="a"))
    # The server has begun a VAD response whose response.created is not out yet.
    resp = conn.response()
    conn.active_response = resp
    session.send_message("hi")
    await conn.wait_for("response.create")
    await asyncio.sleep(0.05)  # the error comes back; the create is re-queued, not surfaced
    assert harness.of("error") == []
    await resp.start()
    await resp.end()
    second = await conn.wait_for("response.create", count=2)
    assert second["event_id"] != conn.of_type("response.create")[0]["event_id"]


async def test_unknown_voice_fails_before_connecting() -> None:
    with pytest.raises(ModelSettingsError, match=r"unknown voice 'alloyy'.*did you mean 'alloy'"):
        RealtimeRunner(RealtimeAgent(name="a"), config={"model_settings": {"voice": "alloyy"}})
    with pytest.raises(ModelSettingsError, match="unknown output audio format"):
        RealtimeRunner(
            RealtimeAgent(name="a"), config={"model_settings": {"output_audio_format": "mp3"}}
        )


async def test_server_normal_close_ends_iteration(harness: Harness) -> None:
    session, conn = await harness.start(RealtimeAgent(name="a"))
    await conn.close(1000, "bye")
    closed = await harness.wait_event("connection", where=lambda e: e.status == "closed")
    assert "1000" in closed.reason
    assert harness.types()[-2:] == ["agent_end", "connection"]
    assert harness.of("error") == []  # a normal close is not an error
    with pytest.raises(Exception, match="closed"):
        session.send_message("hello?")


async def test_auth_close_is_an_error_without_reconnect(harness: Harness) -> None:
    _, conn = await harness.start(RealtimeAgent(name="a"))
    await conn.close(3000, "invalid_request_error.invalid_api_key")
    await harness.wait_event("connection", where=lambda e: e.status == "closed")
    [error] = harness.of("error")
    assert error.error["code"] == 3000
    assert "invalid_api_key" in error.error["message"]
    assert len(harness.server.connections) == 1


async def test_sip_attach_uses_call_id_and_no_model(harness: Harness) -> None:
    _, conn = await harness.start(RealtimeAgent(name="a", instructions="hi"), call_id="rtc_abc123")
    assert conn.query == {"call_id": "rtc_abc123"}
    assert "model" not in conn.of_type("session.update")[0]["session"]


async def test_keypad_digits_become_a_dtmf_event_and_words_for_the_model(
    harness: Harness,
) -> None:
    session, conn = await harness.start(RealtimeAgent(name="a", instructions="x"))
    await session.receive_dtmf("42#")
    assert (await harness.wait_event("dtmf")).digits == "42#"
    created = await conn.wait_for("conversation.item.create")
    assert created["item"]["content"][0]["text"] == "[The caller pressed 42# on the phone keypad.]"
    await conn.wait_for("response.create")


async def test_dtmf_reported_by_the_sip_connector_is_a_dtmf_event(harness: Harness) -> None:
    _, conn = await harness.start(RealtimeAgent(name="a", instructions="x"))
    await conn.send(
        {
            "type": "input_audio_buffer.dtmf_event_received",
            "event_id": "event_D1",
            "event": "7",
            "received_at": 1767225600,
        }
    )
    assert (await harness.wait_event("dtmf")).digits == "7"
