"""Handoffs, guardrails, barge-in, interrupt(), reconnect."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from agentgraph.realtime import (
    GuardrailFunctionOutput,
    RealtimeAgent,
    RealtimeOutputGuardrail,
    RealtimePlaybackTracker,
    function_tool,
)
from tests.fakes import FakeRealtimeServer
from tests.realtime.conftest import Harness


async def test_handoff_wire_order_and_events(harness: Harness) -> None:
    def book(date: str) -> str:
        """Book."""
        return "ok"

    booking = RealtimeAgent(
        name="Booking Desk", instructions="Book appointments.", tools=[function_tool(book)]
    )
    triage = RealtimeAgent(name="triage", instructions="Route the caller.", handoffs=[booking])
    booking.handoffs.append(triage)
    session, conn = await harness.start(triage, {"model_settings": {"voice": "ash"}})
    await conn.respond_function_call("transfer_to_booking_desk", {}, call_id="call_h")
    await conn.wait_for("response.create")
    tail = conn.types()[-3:]
    assert tail == ["session.update", "conversation.item.create", "response.create"]
    update = conn.of_type("session.update")[-1]["session"]
    assert update["instructions"] == "Book appointments."
    assert [t["name"] for t in update["tools"]] == ["book", "transfer_to_triage"]
    assert "voice" not in update["audio"]["output"]  # the voice stays as it was
    assert update["audio"]["output"]["format"] == {"type": "audio/pcm", "rate": 24000}
    output = conn.of_type("conversation.item.create")[-1]["item"]
    assert output == {
        "type": "function_call_output",
        "call_id": "call_h",
        "output": json.dumps({"assistant": "Booking Desk"}),
    }
    handoff = await harness.wait_event("handoff")
    assert (handoff.from_agent, handoff.to_agent) == (triage, booking)
    types = harness.types()
    i = types.index("handoff")
    assert types[i - 1 : i + 2] == ["agent_end", "handoff", "agent_start"]
    assert session.current_agent is booking
    assert conn.session["audio"]["output"]["voice"] == "ash"


async def test_guardrail_trip_cancels_truncates_and_reanswers(harness: Harness) -> None:
    checked: list[str] = []

    def no_prices(context: Any, agent: Any, text: str) -> GuardrailFunctionOutput:
        checked.append(text)
        return GuardrailFunctionOutput(output_info=None, tripwire_triggered="$" in text)

    guard = RealtimeOutputGuardrail(
        no_prices, debounce_length=10, message="I can't quote prices on the phone."
    )
    _session, conn = await harness.start(
        RealtimeAgent(name="a", instructions="x", output_guardrails=[guard])
    )
    resp = await conn.begin_response()
    item = await resp.add_message()
    await resp.audio_delta(item, b"\x00" * 4800)  # 100 ms
    await resp.transcript_delta(item, "Hello, that")
    await resp.transcript_delta(item, " costs $40 for")
    trip = await harness.wait_event("guardrail_tripped")
    assert trip.guardrail_name == "no_prices"
    assert trip.message == "I can't quote prices on the phone."
    assert "$40" in trip.text
    await conn.wait_for("response.create")
    types = conn.types()
    cancel = types.index("response.cancel")
    assert types[cancel:] == [
        "response.cancel",
        "conversation.item.truncate",
        "conversation.item.create",
        "response.create",
    ]
    truncate = conn.of_type("conversation.item.truncate")[0]
    assert (truncate["item_id"], truncate["audio_end_ms"]) == (item, 100)
    guidance = conn.of_type("conversation.item.create")[-1]["item"]
    assert guidance["role"] == "system"
    assert "I can't quote prices on the phone." in guidance["content"][0]["text"]
    assert harness.of("audio_interrupted")[0].item_id == item
    # Audio still in flight for the cut item is not played.
    before = len(harness.of("audio_delta"))
    await resp.audio_delta(item, b"\x00" * 480)
    await asyncio.sleep(0.05)
    assert len(harness.of("audio_delta")) == before
    assert checked and all(text.startswith("Hello, that") for text in checked)


async def test_guardrail_from_run_config_and_debounce(harness: Harness) -> None:
    seen: list[int] = []

    async def count(context: Any, agent: Any, text: str) -> GuardrailFunctionOutput:
        seen.append(len(text))
        return GuardrailFunctionOutput(output_info=None, tripwire_triggered=False)

    guard = RealtimeOutputGuardrail(count, debounce_length=20)
    _session, conn = await harness.start(RealtimeAgent(name="a"), {"output_guardrails": [guard]})
    resp = await conn.begin_response()
    item = await resp.add_message()
    for n in range(1, 11):  # 10 deltas of 10 characters
        await resp.transcript_delta(item, "abcdefghi ")
        await harness.wait_event("transcript_delta", count=n)
        await asyncio.sleep(0.01)
    await resp.transcript_delta(item, "end")
    await resp.finish_message(item, "abcdefghi " * 10 + "end")
    await resp.end()
    await harness.wait_event("transcript_done")
    await asyncio.sleep(0.05)
    # One check per 20 new characters, plus one on the final transcript.
    assert seen == [20, 40, 60, 80, 100, 103]
    assert harness.of("guardrail_tripped") == []


async def test_barge_in_truncates_at_played_position(harness: Harness) -> None:
    tracker = RealtimePlaybackTracker()
    _session, conn = await harness.start(
        RealtimeAgent(name="a"), model_config={"playback_tracker": tracker}
    )
    resp = await conn.begin_response()
    item = await resp.add_message()
    await resp.audio_delta(item, b"\x00" * 48_000)  # 1000 ms received
    await harness.wait_event("audio_delta")
    tracker.on_play_bytes(item, 0, b"\x00" * 14_400)  # 300 ms played
    await conn.send(
        {"type": "input_audio_buffer.speech_started", "audio_start_ms": 5000, "item_id": "item_u"}
    )
    truncate = await conn.wait_for("conversation.item.truncate")
    assert (truncate["item_id"], truncate["audio_end_ms"]) == (item, 300)
    interrupted = await harness.wait_event("audio_interrupted")
    assert interrupted.item_id == item
    i = harness.types().index("speech_started")
    assert harness.types()[i + 1] == "audio_interrupted"
    # Server VAD with interrupt_response cancels by itself: no client response.cancel.
    assert "response.cancel" not in conn.types()
    assert tracker.get_state().item_id is None


async def test_barge_in_clamps_to_received_audio_and_cancels_without_server_vad(
    harness: Harness,
) -> None:
    tracker = RealtimePlaybackTracker()
    _session, conn = await harness.start(
        RealtimeAgent(name="a"),
        {"model_settings": {"turn_detection": {"type": "server_vad", "interrupt_response": False}}},
        model_config={"playback_tracker": tracker},
    )
    resp = await conn.begin_response()
    item = await resp.add_message()
    await resp.audio_delta(item, b"\x00" * 9600)  # 200 ms received
    await harness.wait_event("audio_delta")
    tracker.on_play_ms(item, 0, 750.0)  # a transport that over-reports
    await conn.send(
        {"type": "input_audio_buffer.speech_started", "audio_start_ms": 1, "item_id": "item_u"}
    )
    truncate = await conn.wait_for("conversation.item.truncate")
    assert truncate["audio_end_ms"] == 200
    assert conn.types()[-2:] == ["response.cancel", "conversation.item.truncate"]


async def test_no_truncate_when_playback_finished(harness: Harness) -> None:
    tracker = RealtimePlaybackTracker()
    _session, conn = await harness.start(
        RealtimeAgent(name="a"), model_config={"playback_tracker": tracker}
    )
    _, item = await conn.respond_audio("Done.", audio=b"\x00" * 4800)
    await harness.wait_event("audio_done")
    tracker.on_play_bytes(item, 0, b"\x00" * 4800)
    await conn.send(
        {"type": "input_audio_buffer.speech_started", "audio_start_ms": 1, "item_id": "item_u"}
    )
    await harness.wait_event("speech_started")
    await asyncio.sleep(0.05)
    assert "conversation.item.truncate" not in conn.types()
    assert harness.of("audio_interrupted") == []


async def test_interrupt_always_cancels_and_truncates(harness: Harness) -> None:
    session, conn = await harness.start(RealtimeAgent(name="a"))
    resp = await conn.begin_response()
    item = await resp.add_message()
    await resp.audio_delta(item, b"\x00" * 2400)
    await harness.wait_event("audio_delta")
    await session.interrupt()
    await conn.wait_for("conversation.item.truncate")
    assert conn.types()[-2:] == ["response.cancel", "conversation.item.truncate"]
    assert conn.of_type("conversation.item.truncate")[0]["audio_end_ms"] == 50
    assert harness.of("audio_interrupted")[0].item_id == item
    assert resp.cancelled  # the fake ended the response as cancelled
    assert session.state.value == "idle"


async def test_reconnect_after_abnormal_close_replays_history(harness: Harness) -> None:
    session, conn = await harness.start(
        RealtimeAgent(name="a", instructions="Be nice."), {"reconnect_audio_buffer_ms": 100}
    )
    await conn.user_turn("My name is Ada.")
    await conn.respond_audio("Hello Ada, how can I help?")
    await harness.wait_event("transcript_done")
    await harness.wait_event("input_transcript_done")
    await conn.close(1011, "internal error")
    await harness.wait_event("connection", where=lambda e: e.status == "reconnecting")
    for i in range(10):  # 10 x 20 ms while disconnected; only the newest 100 ms survive
        session.send_audio(bytes([i]) * 960)
    conn2 = await harness.server.next_connection()
    await harness.wait_event(
        "connection", where=lambda e: e.status == "connected" and e.attempt == 1
    )
    await conn2.wait_for_audio(4800)
    update = conn2.of_type("session.update")[0]["session"]
    assert update["instructions"] == "Be nice."
    replay = [e["item"] for e in conn2.of_type("conversation.item.create")]
    assert [(i["role"], i["content"][0]) for i in replay] == [
        ("user", {"type": "input_text", "text": "My name is Ada."}),
        ("assistant", {"type": "output_text", "text": "Hello Ada, how can I help?"}),
    ]
    assert conn2.types()[:3] == [
        "session.update",
        "conversation.item.create",
        "conversation.item.create",
    ]
    assert bytes(conn2.audio) == b"".join(bytes([i]) * 960 for i in range(5, 10))
    session.send_audio(b"\x01\x02" * 480)
    await conn2.wait_for_audio(4800 + 960)
    assert [e.status for e in harness.of("connection")] == [
        "connecting",
        "connected",
        "reconnecting",
        "connected",
    ]
    transcript = [(i.role, i.text) for i in session.history_items() if i.kind == "message"]
    assert transcript == [("user", "My name is Ada."), ("assistant", "Hello Ada, how can I help?")]


async def test_session_expiry_close_1001_reconnects(harness: Harness) -> None:
    session, conn = await harness.start(RealtimeAgent(name="a"))
    await conn.close(1001, "Your session hit the maximum duration of 60 minutes.")
    conn2 = await harness.server.next_connection()
    await conn2.wait_for("session.update")
    session.send_message("still there?")
    await conn2.wait_for("response.create")


async def test_reconnect_on_demand(harness: Harness) -> None:
    session, conn = await harness.start(RealtimeAgent(name="a", instructions="x"))
    session.send_message("remember me")
    await conn.wait_for("response.create")
    await conn.respond_audio("I will.")
    await harness.wait_event("transcript_done")
    await session.reconnect()
    conn2 = await harness.server.next_connection()
    await conn2.wait_for("conversation.item.create", count=2)
    assert [e["item"]["content"][0]["text"] for e in conn2.of_type("conversation.item.create")] == [
        "remember me",
        "I will.",
    ]
    await conn.closed.wait()
    assert harness.of("error") == []


async def test_reconnect_gives_up_after_max_attempts(harness: Harness) -> None:
    _session, conn = await harness.start(RealtimeAgent(name="a"), {"reconnect_max_attempts": 2})
    harness.server.stop_listening()
    conn.abort()
    closed = await harness.wait_event("connection", where=lambda e: e.status == "closed")
    assert closed.reason == "reconnect failed"
    assert len(harness.of("connection")) == 5  # connecting, connected, 2x reconnecting, closed
    assert "reconnect failed" in harness.of("error")[-1].error["message"]


async def test_rollover_before_expiry_waits_for_a_quiet_moment() -> None:
    # expires_at is whole seconds: 4-5 s left at connect, rollover planned 3.5 s before.
    async with FakeRealtimeServer(session_length_s=5.0) as server:
        h = Harness(server)
        try:
            _session, conn = await h.start(
                RealtimeAgent(name="a", instructions="x"), {"session_rollover_s": 3.5}
            )
            resp = await conn.begin_response()  # busy: the rollover must wait for the end
            item = await resp.add_message()
            await resp.transcript_delta(item, "Long answer")
            await asyncio.sleep(1.6)  # the rollover came due meanwhile but must wait
            assert len(server.connections) == 1
            await resp.finish_message(item, "Long answer")
            await resp.end()
            conn2 = await server.next_connection()
            replay = await conn2.wait_for("conversation.item.create")
            assert replay["item"]["content"][0]["text"] == "Long answer"
            reconnecting = await h.wait_event(
                "connection", where=lambda e: e.status == "reconnecting"
            )
            assert reconnecting.reason == "session expires soon"
            assert h.of("error") == []
        finally:
            await h.stop()


async def test_no_rollover_when_expiry_is_too_close(harness: Harness) -> None:
    harness.server.session_length_s = 30.0
    _, _conn = await harness.start(RealtimeAgent(name="a"), {"session_rollover_s": 60})
    await asyncio.sleep(0.1)
    assert len(harness.server.connections) == 1
