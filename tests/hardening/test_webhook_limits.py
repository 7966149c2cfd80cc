"""The OpenAI SIP webhook against unauthenticated floods: oversized bodies and unsigned
requests are refused from their headers before any body is read, slow senders are cut
off, and a signed delivery still gets through while 200 attackers hold connections."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from agentgraph.realtime import RealtimeAgent
from agentgraph.transports.openai_sip import http as webhook_http
from agentgraph.transports.openai_sip.rest import CallsClient
from agentgraph.transports.openai_sip.server import OpenAISipConnector
from agentgraph.transports.openai_sip.webhook import sign_webhook
from agentgraph.transports.sip.sessions import CallSessions

SECRET = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seQ=="


@pytest.fixture
async def connector() -> AsyncIterator[OpenAISipConnector]:
    sessions = CallSessions(
        agents={"desk": RealtimeAgent(name="desk", instructions="Help.")},
        start_agent="desk",
        routes={},
        run_config={"model_settings": {"model_name": "gpt-realtime"}},
        url="ws://127.0.0.1:9/v1/realtime",
        api_key="sk-test",
    )
    hook = OpenAISipConnector(
        secret=SECRET, sessions=sessions, calls=CallsClient("http://127.0.0.1:9/v1")
    )
    async with hook:
        yield hook


def _head(path: str, length: int, **headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: x", f"Content-Length: {length}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _signed_headers() -> dict[str, str]:
    ts = str(int(time.time()))
    return {"webhook-id": "wh_x", "webhook-timestamp": ts, "webhook-signature": "v1,AAAA"}


async def _status(reader: asyncio.StreamReader) -> int:
    line = await asyncio.wait_for(reader.readline(), 10)
    return int(line.split()[1])


async def test_200_one_megabyte_senders_are_refused_before_their_bodies(
    connector: OpenAISipConnector,
) -> None:
    port = connector._http.port
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(200)]
    for _, writer in conns:  # headers only: the 1 MB body is never sent
        writer.write(_head(connector.path, 1 << 20, **_signed_headers()))
    statuses = [await _status(reader) for reader, _ in conns]
    assert statuses == [413] * 200
    for _, writer in conns:
        writer.close()


async def test_unsigned_requests_are_refused_from_their_headers(
    connector: OpenAISipConnector,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", connector._http.port)
    writer.write(_head(connector.path, 50_000))  # no webhook-* headers; body never sent
    assert await _status(reader) == 400
    writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", connector._http.port)
    stale = _signed_headers() | {"webhook-timestamp": "1000"}
    writer.write(_head(connector.path, 50_000, **stale))
    assert await _status(reader) == 401
    writer.close()


async def test_slow_senders_are_cut_off_and_a_signed_delivery_gets_through(
    connector: OpenAISipConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook_http, "HEADER_TIMEOUT_S", 0.5)
    monkeypatch.setattr(webhook_http, "BODY_TIMEOUT_S", 0.5)
    port = connector._http.port
    slow_body = [await asyncio.open_connection("127.0.0.1", port) for _ in range(100)]
    for _, writer in slow_body:  # valid-looking headers, then the body never comes
        writer.write(_head(connector.path, 60_000, **_signed_headers()) + b"{")
    slow_head = [await asyncio.open_connection("127.0.0.1", port) for _ in range(100)]
    for _, writer in slow_head:
        writer.write(b"POST /openai/webhook HTTP/1.1\r\nHost: x\r\n")  # never finished
    body = json.dumps({"type": "response.completed", "id": "evt_1", "data": {}}).encode()
    ts = int(time.time())
    async with httpx.AsyncClient(timeout=5) as client:
        good = await client.post(
            connector.url,
            content=body,
            headers={
                "webhook-id": "wh_good",
                "webhook-timestamp": str(ts),
                "webhook-signature": sign_webhook(SECRET, "wh_good", ts, body),
            },
        )
    assert good.status_code == 200
    statuses = [await _status(reader) for reader, _ in slow_body + slow_head]
    assert statuses == [408] * 200
    assert connector._http.open_requests == 0
    for _, writer in slow_body + slow_head:
        writer.close()
