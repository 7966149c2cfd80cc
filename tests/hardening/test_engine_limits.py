"""The embedded engine against hostile clients: odd audio, clients that never read, and
connections from beyond loopback without the engine's token."""

from __future__ import annotations

import asyncio
import base64
import json
import logging

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from agentgraph.engine import EmbeddedEngine
from agentgraph.engine import server as engine_server
from agentgraph.errors import UsageError

AUTH = {"Authorization": "Bearer test"}


async def _recv(ws: websockets.ClientConnection) -> dict:  # type: ignore[type-arg]
    return json.loads(await asyncio.wait_for(ws.recv(), 10))  # type: ignore[no-any-return]


async def test_odd_length_append_is_an_invalid_value_error_and_the_session_goes_on() -> None:
    async with (
        EmbeddedEngine(asr_workers=0) as engine,
        websockets.connect(engine.url + "?model=gpt-realtime", additional_headers=AUTH) as ws,
    ):
        assert (await _recv(ws))["type"] == "session.created"
        await ws.send(
            json.dumps(
                {
                    "type": "input_audio_buffer.append",
                    "event_id": "evt_odd",
                    "audio": base64.b64encode(b"\x01\x02\x03").decode(),
                }
            )
        )
        error = await _recv(ws)
        assert error["type"] == "error"
        assert error["error"]["code"] == "invalid_value"
        assert error["error"]["event_id"] == "evt_odd"
        # still up: a normal request is answered
        await ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
        assert (await _recv(ws))["type"] == "input_audio_buffer.cleared"


async def test_a_client_that_never_reads_is_closed_and_others_are_served(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(engine_server, "MAX_PENDING_SEND_BYTES", 4 * 1024 * 1024)
    caplog.set_level(logging.WARNING, logger="agentgraph.engine")
    audio = base64.b64encode(b"\x00" * 600_000).decode()  # 800 kB of base64 per retrieve
    async with EmbeddedEngine(voice_input=False) as engine:
        # max_queue=1 and a tiny read buffer: the client stops reading after one frame
        slow = await websockets.connect(
            engine.url + "?model=gpt-realtime",
            additional_headers=AUTH,
            max_queue=1,
            max_size=None,
        )
        await slow.send(
            json.dumps(
                {
                    "type": "conversation.item.create",
                    "item": {
                        "id": "item_big",
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_audio", "audio": audio}],
                    },
                }
            )
        )
        retrieve = json.dumps({"type": "conversation.item.retrieve", "item_id": "item_big"})
        with pytest.raises(ConnectionClosed):
            for _ in range(400):  # ~320 MB asked for; the server gives up long before
                await slow.send(retrieve)
                await asyncio.sleep(0.005)
            await asyncio.wait_for(slow.wait_closed(), 10)
            # drain whatever was delivered before the close
            while True:
                await asyncio.wait_for(slow.recv(), 10)
        assert any("does not read" in r.getMessage() for r in caplog.records)
        async with websockets.connect(
            engine.url + "?model=gpt-realtime", additional_headers=AUTH
        ) as ok:
            assert (await _recv(ok))["type"] == "session.created"


def test_off_loopback_without_a_token_is_refused_at_startup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(engine_server.TOKEN_ENV, raising=False)
    with pytest.raises(UsageError, match="beyond loopback"):
        EmbeddedEngine(host="0.0.0.0")
    EmbeddedEngine(host="0.0.0.0", token="s3cret")  # fine with a token
    EmbeddedEngine(host="::1")  # loopback needs none


async def test_with_a_token_only_that_bearer_or_browser_key_connects() -> None:
    async with EmbeddedEngine(voice_input=False, token="tok-123") as engine:
        url = engine.url + "?model=gpt-realtime"
        with pytest.raises(InvalidStatus) as wrong:
            async with websockets.connect(url, additional_headers={"Authorization": "Bearer x"}):
                pass
        assert wrong.value.response.status_code == 401
        async with websockets.connect(
            url, additional_headers={"Authorization": "Bearer tok-123"}
        ) as ws:
            assert (await _recv(ws))["type"] == "session.created"
        async with websockets.connect(
            url,
            subprotocols=["realtime", "openai-insecure-api-key.tok-123"],  # type: ignore[list-item]
        ) as ws:
            assert (await _recv(ws))["type"] == "session.created"
