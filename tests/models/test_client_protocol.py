"""The sans-I/O client core: explicit `now`, no sockets."""

from __future__ import annotations

import json

import pytest

from agentgraph.errors import InvalidState
from agentgraph.models import RECONNECT_CLOSE_CODES, ClientState, RealtimeClientProtocol
from agentgraph.protocol import events as ev


def test_session_created_opens_and_records_session() -> None:
    p = RealtimeClientProtocol()
    assert p.state is ClientState.CONNECTING
    p.receive('{"type":"session.created","session":{"id":"sess_1","model":"m"}}', now=1.0)
    assert p.state is ClientState.OPEN
    assert p.session == {"id": "sess_1", "model": "m"}
    assert p.last_received_at == 1.0
    [event] = p.events_received()
    assert isinstance(event, ev.SessionCreated)
    assert p.events_received() == []
    p.receive('{"type":"session.updated","session":{"id":"sess_1","voice":"ash"}}', now=2.0)
    assert p.session["voice"] == "ash"


def test_garbage_becomes_an_error_event_not_an_exception() -> None:
    p = RealtimeClientProtocol()
    p.receive("{nope", now=0.0)
    p.receive('{"type":"response.output_audio.delta","delta":"abc"}', now=0.0)
    errors = p.events_received()
    assert [type(e) for e in errors] == [ev.ErrorEvent, ev.ErrorEvent]
    assert all(e.error["type"] == "client_error" for e in errors)  # type: ignore[union-attr]
    assert "base64" in errors[1].error["message"]  # type: ignore[union-attr]


def test_send_and_audio_fast_path() -> None:
    p = RealtimeClientProtocol()
    p.send(ev.ResponseCreate())
    p.send({"type": "response.cancel"})
    p.send_audio(b"\x01\x02")
    assert [json.loads(d) for d in p.data_to_send()] == [
        {"type": "response.create"},
        {"type": "response.cancel"},
        {"type": "input_audio_buffer.append", "audio": "AQI="},
    ]
    assert p.data_to_send() == []


@pytest.mark.parametrize("code", sorted(RECONNECT_CLOSE_CODES))
def test_abnormal_close_asks_for_reconnect(code: int) -> None:
    p = RealtimeClientProtocol()
    p.receive_close(code, "going away")
    assert p.should_reconnect and p.close_code == code and p.close_reason == "going away"


@pytest.mark.parametrize("code", [1000, 3000, 4000])
def test_normal_or_auth_close_does_not_reconnect(code: int) -> None:
    p = RealtimeClientProtocol()
    p.receive_close(code)
    assert not p.should_reconnect


def test_closed_protocol_refuses_sends_and_ignores_input() -> None:
    p = RealtimeClientProtocol()
    p.receive_close(None)
    assert p.close_code == 1006 and p.should_reconnect
    p.receive_close(1000)  # a second close changes nothing
    assert p.close_code == 1006
    p.receive('{"type":"session.created"}', now=0.0)
    assert p.events_received() == [] and p.state is ClientState.CLOSED
    with pytest.raises(InvalidState, match=r"cannot send response\.cancel"):
        p.send(ev.ResponseCancel())
    with pytest.raises(InvalidState, match=r"cannot send session\.update"):
        p.send({"type": "session.update"})
    with pytest.raises(InvalidState, match="cannot send audio"):
        p.send_audio(b"\x00")
