"""The session shell over real loopback websockets: seed fidelity items inside the session
(issue 11) and the typed boundary (response_started / response_done)."""

from __future__ import annotations

import json

from agentgraph.realtime import RealtimeAgent, function_tool
from agentgraph.realtime import events as se
from tests.realtime.conftest import Harness


async def test_seed_event_fields_tool_and_transcript(harness: Harness) -> None:
    def lookup(city: str) -> str:
        """Look up a city."""
        return f"sunny in {city}"

    _session, conn = await harness.start(RealtimeAgent(name="a", tools=[function_tool(lookup)]))
    resp = await conn.begin_response()
    item = await resp.add_message()
    await resp.transcript_delta(item, "Let me check.")
    await resp.add_function_call("lookup", json.dumps({"city": "Paris"}), "call_1")
    await resp.end()
    delta = await harness.wait_event("transcript_delta")
    assert delta.transcript == "Let me check." == delta.delta  # the seed prints .transcript
    start = await harness.wait_event("tool_start")
    end = await harness.wait_event("tool_end")
    assert (start.tool.name, end.tool.name, end.output) == ("lookup", "lookup", "sunny in Paris")
    started = await harness.wait_event("response_started")
    done = await harness.wait_event("response_done")
    assert isinstance(started, se.RealtimeResponseStartedEvent)
    assert (done.response_id, done.status) == (started.response_id, "completed")


async def test_send_message_without_await_is_sent_at_once(harness: Harness) -> None:
    session, conn = await harness.start(RealtimeAgent(name="a"))
    session.send_message("Hello there")  # the seed's complete example does not await it
    created = await conn.wait_for(
        "conversation.item.create", where=lambda e: e["item"]["type"] == "message"
    )
    assert created["item"]["content"][0]["text"] == "Hello there"
    await conn.wait_for("response.create")
    await session.send_message("and again")  # awaiting works as well
    await conn.wait_for(
        "conversation.item.create",
        where=lambda e: e["item"].get("content", [{}])[0].get("text") == "and again",
    )


async def test_manual_turns_generate_response_commits_the_audio_first(harness: Harness) -> None:
    session, conn = await harness.start(
        RealtimeAgent(name="a"), {"model_settings": {"turn_detection": None}}
    )
    session.send_audio(b"\x00\x01" * 2400)
    await session.generate_response()
    await conn.wait_for("response.create")
    types = [t for t in conn.types() if t.startswith(("input_audio_buffer", "response.create"))]
    assert types[-2:] == ["input_audio_buffer.commit", "response.create"]
    # nothing new spoken: no empty commit before the next response
    await session.generate_response()
    session.send_message("marker")  # ordered after anything generate_response sent
    await conn.wait_for(
        "conversation.item.create",
        where=lambda e: e["item"].get("content", [{}])[0].get("text") == "marker",
    )
    assert conn.types().count("input_audio_buffer.commit") == 1


async def test_a_rejected_session_update_ends_the_session_with_an_error(harness: Harness) -> None:
    _session, conn = await harness.start(RealtimeAgent(name="a", instructions="Be brief."))
    update = conn.of_type("session.update")[0]
    await conn.error("invalid_value", "Invalid value: 'bogus'.", event_id=update.get("event_id"))
    error = await harness.wait_event("error")
    assert error.error["type"] == "session_update_rejected"
    assert (
        "the session ends rather than run without its instructions and tools"
        in (error.error["message"])
    )
    closed = await harness.wait_event("connection", where=lambda e: e.status == "closed")
    assert closed.reason == "session configuration rejected"
