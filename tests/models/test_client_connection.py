"""The asyncio shell against the fake server on real loopback websockets."""

from __future__ import annotations

import asyncio

import pytest

from agentgraph.errors import ConnectionClosed
from agentgraph.models import (
    OpenAIRealtimeSIPModel,
    OpenAIRealtimeWebSocketModel,
    RealtimeConnection,
    build_url,
    redact_url,
)
from agentgraph.protocol import ServerEvent, UnknownEvent
from agentgraph.protocol import events as ev
from tests.fakes import FakeRealtimeServer


def test_build_url_adds_model_or_call_id_never_both() -> None:
    assert build_url("wss://h/v1/realtime", model="gpt-realtime") == (
        "wss://h/v1/realtime?model=gpt-realtime"
    )
    assert build_url("wss://h/v1/realtime", model="m", call_id="rtc_1") == (
        "wss://h/v1/realtime?call_id=rtc_1"
    )
    assert build_url("https://h/v1/realtime?api-version=1", model="m") == (
        "wss://h/v1/realtime?api-version=1&model=m"
    )
    assert build_url("http://h:1/x") == "ws://h:1/x"
    assert redact_url("wss://user:pw@h:9/v1/realtime?key=sk-secret") == "wss://h:9/v1/realtime"


def test_models_resolve_url_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    ws_model = OpenAIRealtimeWebSocketModel(model_name="gpt-realtime")
    assert ws_model.resolve_url(None, model=None, call_id=None) == (
        "wss://api.openai.com/v1/realtime?model=gpt-realtime"
    )
    sip = OpenAIRealtimeSIPModel(model_name="gpt-realtime", voice="marin")
    assert sip.resolve_url("ws://x/v1/realtime", model="m", call_id="rtc_9") == (
        "ws://x/v1/realtime?call_id=rtc_9"
    )
    assert sip.attaches_to_call and sip.voice == "marin"
    assert ws_model.resolve_api_key(None, "ws://127.0.0.1:1/v1/realtime") is None
    with pytest.raises(Exception, match="OPENAI_API_KEY"):
        ws_model.resolve_api_key(None, "wss://api.openai.com/v1/realtime")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    assert ws_model.resolve_api_key(None, "wss://api.openai.com/v1/realtime") == "sk-env"


async def test_connect_send_receive_and_headers() -> None:
    received: list[ServerEvent | UnknownEvent] = []
    closes: list[tuple[int | None, str]] = []
    async with FakeRealtimeServer() as server:
        conn = RealtimeConnection(
            build_url(server.url, model="gpt-realtime"),
            on_event=received.append,
            on_close=lambda code, reason: closes.append((code, reason)),
            api_key="sk-test-secret",
            headers={"OpenAI-Project": "proj_1"},
        )
        await conn.connect()
        peer = await server.next_connection()
        assert peer.query == {"model": "gpt-realtime"}
        assert peer.headers["Authorization"] == "Bearer sk-test-secret"
        assert peer.headers["OpenAI-Project"] == "proj_1"
        assert "OpenAI-Beta" not in peer.headers
        conn.send(ev.SessionUpdate(session={"type": "realtime", "instructions": "hi"}))
        conn.send_audio(b"\x01\x00" * 480)
        await peer.wait_for("session.update")
        await peer.wait_for_audio(960)
        assert bytes(peer.audio) == b"\x01\x00" * 480
        await peer.respond_audio("Hello there", audio=b"\x02\x00" * 100, chunks=2)
        async with asyncio.timeout(5):
            while not any(isinstance(e, ev.ResponseDone) for e in received):
                await asyncio.sleep(0.01)
        kinds = [type(e).__name__ for e in received]
        assert kinds[:2] == ["SessionCreated", "SessionUpdated"]
        audio = b"".join(e.delta for e in received if isinstance(e, ev.ResponseOutputAudioDelta))
        assert audio == b"\x02\x00" * 100
        await conn.close()
    assert closes == [(1000, "")]
    assert not conn.is_open


@pytest.mark.parametrize(("code", "reconnect"), [(1011, True), (1001, True), (1000, False)])
async def test_server_close_codes_reach_on_close(code: int, reconnect: bool) -> None:
    closes: list[tuple[int | None, str]] = []
    async with FakeRealtimeServer() as server:
        conn = RealtimeConnection(
            server.url, on_event=lambda e: None, on_close=lambda c, r: closes.append((c, r))
        )
        await conn.connect()
        peer = await server.next_connection()
        await peer.close(code, "bye")
        async with asyncio.timeout(5):
            while not closes:
                await asyncio.sleep(0.01)
        assert closes == [(code, "bye")]
        assert conn.protocol.should_reconnect is reconnect
        await conn.close()
        assert closes == [(code, "bye")]  # reported once


async def test_dropped_tcp_is_1006() -> None:
    closes: list[tuple[int | None, str]] = []
    async with FakeRealtimeServer() as server:
        conn = RealtimeConnection(
            server.url, on_event=lambda e: None, on_close=lambda c, r: closes.append((c, r))
        )
        await conn.connect()
        peer = await server.next_connection()
        peer.abort()
        async with asyncio.timeout(5):
            while not closes:
                await asyncio.sleep(0.01)
        assert closes[0][0] == 1006 and conn.protocol.should_reconnect


async def test_unreachable_server_is_a_clear_error_without_the_key() -> None:
    conn = RealtimeConnection(
        "ws://127.0.0.1:9/v1/realtime?model=m",
        on_event=lambda e: None,
        on_close=lambda c, r: None,
        api_key="sk-do-not-print",
    )
    with pytest.raises(
        ConnectionClosed, match=r"cannot connect to ws://127\.0\.0\.1:9/v1/realt"
    ) as info:
        await conn.connect()
    assert "sk-do-not-print" not in str(info.value)
