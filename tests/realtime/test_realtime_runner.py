"""RealtimeRunner.run(): model_config handling, initial settings, manual turns, agents."""

from __future__ import annotations

import pytest

from agentgraph.errors import InvalidState
from agentgraph.realtime import (
    ModelSettingsError,
    OpenAIRealtimeSIPModel,
    RealtimeAgent,
    RealtimeRunner,
)
from tests.realtime.conftest import Harness


async def test_initial_model_settings_override_only_given_keys(harness: Harness) -> None:
    _, conn = await harness.start(
        RealtimeAgent(name="a"),
        {
            "model_settings": {
                "voice": "ash",
                "input_audio_format": "g711_ulaw",
                "turn_detection": None,
            }
        },
        model_config={
            "initial_model_settings": {"audio": {"output": {"voice": "cedar"}}, "speed": 1.2},
            "headers": {"X-Test": "1"},
        },
    )
    session = conn.of_type("session.update")[0]["session"]
    assert session["audio"]["output"]["voice"] == "cedar"
    assert session["audio"]["output"]["speed"] == 1.2
    assert session["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert session["audio"]["input"]["turn_detection"] is None
    assert conn.headers["X-Test"] == "1"


async def test_model_config_errors() -> None:
    runner = RealtimeRunner(RealtimeAgent(name="a"))
    with pytest.raises(ModelSettingsError, match="unknown model_config key 'uri'"):
        await runner.run(model_config={"uri": "ws://x"})
    with pytest.raises(ModelSettingsError, match="RealtimePlaybackTracker"):
        await runner.run(model_config={"url": "ws://x", "playback_tracker": object()})
    with pytest.raises(ValueError, match="two tools named"):
        b = RealtimeAgent(name="b")
        RealtimeRunner(RealtimeAgent(name="a", handoffs=[b, b]))


async def test_sip_model_keeps_voice_and_omits_model(harness: Harness) -> None:
    agent = RealtimeAgent(name="a", instructions="hi")
    runner = RealtimeRunner(agent, model=OpenAIRealtimeSIPModel(voice="marin"))
    session = await runner.run(model_config={"url": harness.server.url}, call_id="rtc_1")
    async with session:
        conn = await harness.server.next_connection()
        update = (await conn.wait_for("session.update"))["session"]
    assert conn.query == {"call_id": "rtc_1"}
    assert "model" not in update and update["audio"]["output"]["voice"] == "marin"


async def test_manual_turns_commit_and_respond(harness: Harness) -> None:
    session, conn = await harness.start(
        RealtimeAgent(name="a"), {"model_settings": {"turn_detection": None}}
    )
    session.send_audio(b"\x00" * 4800)
    session.send_audio(b"\x00" * 4800, commit=True)
    await conn.wait_for("response.create")
    assert conn.types()[-2:] == ["input_audio_buffer.commit", "response.create"]
    assert len(conn.audio) == 9600
    with pytest.raises(InvalidState, match="already started"):
        await session.connect()


async def test_update_agent_switches_instructions_and_tools(harness: Harness) -> None:
    session, conn = await harness.start(RealtimeAgent(name="a", instructions="one"))
    other = RealtimeAgent(name="b", instructions="two")
    await session.update_agent(other)
    update = (await conn.wait_for("session.update", count=2))["session"]
    assert update["instructions"] == "two" and session.current_agent is other
    await harness.wait_event("agent_start", where=lambda e: e.agent is other)


async def test_text_modality_deltas_are_transcripts(harness: Harness) -> None:
    _, conn = await harness.start(
        RealtimeAgent(name="a"), {"model_settings": {"modalities": ["text"]}}
    )
    assert conn.of_type("session.update")[0]["session"]["output_modalities"] == ["text"]
    resp = await conn.begin_response()
    item = await resp.add_message()
    await conn.send(
        {
            "type": "response.output_text.delta",
            "response_id": resp.id,
            "item_id": item,
            "output_index": 0,
            "content_index": 0,
            "delta": "Hi",
        }
    )
    await conn.send(
        {
            "type": "response.output_text.done",
            "response_id": resp.id,
            "item_id": item,
            "output_index": 0,
            "content_index": 0,
            "text": "Hi!",
        }
    )
    done = await harness.wait_event("transcript_done")
    assert done.transcript == "Hi!" and harness.of("transcript_delta")[0].delta == "Hi"


async def test_raw_model_events_and_server_errors(harness: Harness) -> None:
    _, conn = await harness.start(RealtimeAgent(name="a"), {"raw_model_events": True})
    await conn.error("invalid_value", "Invalid value: 'bogus'.")
    error = await harness.wait_event("error")
    assert error.error["code"] == "invalid_value"
    raw = await harness.wait_event(
        "raw_model_event", where=lambda e: type(e.data).__name__ == "ErrorEvent"
    )
    assert raw.data.error["message"] == "Invalid value: 'bogus'."
    await conn.error("response_cancel_not_active", "nothing to cancel")
    await harness.wait_event("raw_model_event", count=4)
    assert len(harness.of("error")) == 1  # harmless errors are not surfaced
