"""Media streams against outsiders: `max_calls` holds (30 streams, 4 sessions), and only a
carrier that proves itself (URL token or X-Twilio-Signature) gets a session."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from agentgraph.errors import UsageError
from agentgraph.transports.media_streams import (
    MediaStreamAuth,
    MediaStreamServer,
    MediaStreamTransport,
    twilio_signature,
)

START = {
    "event": "start",
    "streamSid": "MZ1",
    "start": {"streamSid": "MZ1", "callSid": "CA1", "customParameters": {"to": "1000"}},
}


class CountingSessions:
    """Stands in for CallSessions: counts the model sessions started, holds each open."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.release = asyncio.Event()

    async def run_call(self, call_id: str, number: Any, transport: MediaStreamTransport) -> None:
        self.started.append(call_id)
        await self.release.wait()


async def _open(url: str, **kwargs: Any) -> websockets.ClientConnection | int:
    try:
        ws = await websockets.connect(url, **kwargs)
    except InvalidStatus as exc:
        return exc.response.status_code
    await ws.send(json.dumps(START))
    return ws


async def test_thirty_streams_open_only_max_calls_sessions() -> None:
    sessions = CountingSessions()
    async with MediaStreamServer(sessions, max_calls=4) as server:
        results = [await _open(server.url) for _ in range(30)]
        admitted = [r for r in results if not isinstance(r, int)]
        assert len(admitted) == 4
        assert [r for r in results if isinstance(r, int)] == [503] * 26
        for _ in range(100):
            if len(sessions.started) == 4:
                break
            await asyncio.sleep(0.02)
        assert len(sessions.started) == 4
        # a call that ends frees its slot for the next caller
        sessions.release.set()
        for ws in admitted:
            assert not isinstance(ws, int)
            await ws.close()
        for _ in range(100):
            if server.open_streams == 0:
                break
            await asyncio.sleep(0.02)
        sessions.release.clear()
        again = await _open(server.url)
        assert not isinstance(again, int)
        await again.close()
        sessions.release.set()


async def test_url_token_is_required_when_configured() -> None:
    sessions = CountingSessions()
    sessions.release.set()
    auth = MediaStreamAuth(token="s3cret-stream")
    async with MediaStreamServer(sessions, auth=auth) as server:
        assert await _open(server.url) == 403
        assert await _open(server.url + "?token=wrong") == 403
        ok = await _open(server.url + "?token=s3cret-stream")
        assert not isinstance(ok, int)
        await ok.close()


async def test_twilio_signature_is_checked_against_the_public_url() -> None:
    sessions = CountingSessions()
    sessions.release.set()
    public = "wss://voice.example.com/media-stream"
    auth = MediaStreamAuth(twilio_auth_token="twilio-auth-token", public_url=public)
    async with MediaStreamServer(sessions, auth=auth) as server:
        assert await _open(server.url) == 403
        forged = twilio_signature("another-token", public)
        assert await _open(server.url, additional_headers={"X-Twilio-Signature": forged}) == 403
        signed = twilio_signature("twilio-auth-token", public)
        ok = await _open(server.url, additional_headers={"X-Twilio-Signature": signed})
        assert not isinstance(ok, int)
        await ok.close()
        # Twilio may sign the URL with the default port spelled out
        with_port = twilio_signature(
            "twilio-auth-token", "wss://voice.example.com:443/media-stream"
        )
        ok = await _open(server.url, additional_headers={"X-Twilio-Signature": with_port})
        assert not isinstance(ok, int)
        await ok.close()


def test_without_auth_only_loopback_is_served() -> None:
    with pytest.raises(UsageError, match="anyone"):
        MediaStreamServer(CountingSessions(), host="0.0.0.0")
    MediaStreamServer(CountingSessions(), host="0.0.0.0", auth=MediaStreamAuth(token="t"))
