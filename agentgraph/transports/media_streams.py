"""Twilio-style media streams: a phone call's audio over a websocket, one session each.

The carrier connects and sends `connected`, `start` (stream and call ids, custom
parameters), then `media` events with base64 u-law 8 kHz audio, `dtmf`, `mark` echoes,
and `stop`. We send the agent's audio back as `media`, follow every chunk with a `mark`,
and send `clear` when the agent is interrupted. The carrier echoes a mark when the audio
before it has been played, so marks drive the playback position the session truncates to
on barge-in. u-law goes to the model as `audio/pcmu` unchanged.

`MediaStreamProtocol` is the sans-I/O part (parse, build, mark bookkeeping);
`MediaStreamTransport` carries one connection; `MediaStreamServer` accepts connections
and runs the routed agent for each through `CallSessions`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from agentgraph.audio import AudioFormat
from agentgraph.errors import ProtocolError
from agentgraph.transports.base import (
    PlaybackTracker,
    Transport,
    TransportSession,
    run_until_first_done,
)

__all__ = [
    "MediaStreamProtocol",
    "MediaStreamServer",
    "MediaStreamTransport",
    "StreamStart",
]

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 1 << 20
MAX_PENDING_MARKS = 10_000


@dataclass(frozen=True, slots=True)
class StreamStart:
    """The `start` event: who is calling and what they dialled."""

    stream_sid: str
    call_sid: str
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def number(self) -> str | None:
        """The dialled number, from the custom parameters `to` or `number`."""
        return self.parameters.get("to") or self.parameters.get("number")


class MediaStreamProtocol:
    """Parses carrier events and builds ours; remembers which audio each mark closes.

    `receive(text)` returns `("audio", bytes)`, `("start", StreamStart)`, `("dtmf", digit)`,
    `("stop", None)` or `("ignored", None)`; a mark echo reports the audio it covers to
    the tracker. Bad input raises `ProtocolError` (the caller logs and skips it).
    """

    def __init__(self, tracker: PlaybackTracker | None = None) -> None:
        self.tracker = tracker
        self.stream_sid: str | None = None
        self._marks: OrderedDict[str, tuple[str, int, int]] = OrderedDict()
        self._ids = itertools.count(1)
        self.played_bytes = 0

    def receive(self, text: str | bytes) -> tuple[str, Any]:
        """Handle one carrier message."""
        if len(text) > MAX_MESSAGE_BYTES:
            raise ProtocolError("media stream message too large")
        try:
            msg = json.loads(text)
        except ValueError:
            raise ProtocolError("media stream message is not JSON") from None
        if not isinstance(msg, dict):
            raise ProtocolError("media stream message is not an object")
        kind = msg.get("event")
        if kind == "media":
            media = msg.get("media")
            if not isinstance(media, dict) or media.get("track", "inbound") not in (
                "inbound",
                "inbound_track",
            ):
                return "ignored", None
            try:
                return "audio", binascii.a2b_base64(media.get("payload") or "", strict_mode=True)
            except (binascii.Error, TypeError):
                raise ProtocolError("media payload is not base64") from None
        if kind == "start":
            start = msg.get("start")
            if not isinstance(start, dict):
                raise ProtocolError("start event without a start object")
            sid = str(msg.get("streamSid") or start.get("streamSid") or "")
            if not sid:
                raise ProtocolError("start event without streamSid")
            self.stream_sid = sid
            params = start.get("customParameters") or {}
            clean = (
                {str(k)[:64]: str(v)[:256] for k, v in params.items()}
                if isinstance(params, dict)
                else {}
            )
            return "start", StreamStart(sid, str(start.get("callSid") or ""), clean)
        if kind == "mark":
            name = (
                (msg.get("mark") or {}).get("name") if isinstance(msg.get("mark"), dict) else None
            )
            self._played(str(name))
            return "ignored", None
        if kind == "dtmf":
            digit = (
                (msg.get("dtmf") or {}).get("digit") if isinstance(msg.get("dtmf"), dict) else None
            )
            if isinstance(digit, str) and len(digit) == 1 and digit in "0123456789*#ABCD":
                return "dtmf", digit
            return "ignored", None
        if kind == "stop":
            return "stop", None
        return "ignored", None  # connected, and anything newer

    def media(self, item_id: str, content_index: int, audio: bytes) -> list[str]:
        """Messages for one chunk of agent audio: the media, then a mark closing it."""
        if self.stream_sid is None:
            return []
        name = f"m{next(self._ids)}"
        if len(self._marks) < MAX_PENDING_MARKS:
            self._marks[name] = (item_id, content_index, len(audio))
        return [
            json.dumps(
                {
                    "event": "media",
                    "streamSid": self.stream_sid,
                    "media": {"payload": base64.b64encode(audio).decode()},
                }
            ),
            json.dumps({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}}),
        ]

    def clear(self) -> list[str]:
        """Stop playback now: the carrier drops its buffer; pending marks are forgotten."""
        self._marks.clear()
        if self.tracker is not None:
            self.tracker.on_interrupted()
        if self.stream_sid is None:
            return []
        return [json.dumps({"event": "clear", "streamSid": self.stream_sid})]

    def _played(self, name: str) -> None:
        if name not in self._marks:
            return  # cleared audio, or not ours
        # marks come back in order; an earlier one missing means its audio played too
        while self._marks:
            mark, (item_id, content_index, num_bytes) = self._marks.popitem(last=False)
            self.played_bytes += num_bytes
            if self.tracker is not None:
                self.tracker.on_play_ms(item_id, content_index, num_bytes / 8)
            if mark == name:
                break


class MediaStreamTransport(Transport):
    """One media-stream websocket as the caller's side of a session."""

    audio_format = AudioFormat.G711_ULAW

    def __init__(
        self, ws: ServerConnection, start: StreamStart, protocol: MediaStreamProtocol
    ) -> None:
        self.ws = ws
        self.start = start
        self.protocol = protocol
        self.digits: list[str] = []
        self.ended = asyncio.Event()

    async def run(self, session: TransportSession) -> None:
        self.protocol.tracker = self.playback_tracker
        try:
            await run_until_first_done(self._inbound(session), self._outbound(session))
        finally:
            self.ended.set()

    async def _inbound(self, session: TransportSession) -> None:
        try:
            async for message in self.ws:
                try:
                    kind, value = self.protocol.receive(message)
                except ProtocolError as exc:
                    log.info("media stream %s: %s", self.start.stream_sid, exc)
                    continue
                if kind == "audio":
                    await session.send_audio(value)
                elif kind == "dtmf":
                    self.digits.append(value)
                    await session.receive_dtmf(value)
                elif kind == "stop":
                    return
        except ConnectionClosed:
            return

    async def _outbound(self, session: TransportSession) -> None:
        async for event in session:
            kind = getattr(event, "type", "")
            if kind == "audio_delta":
                out = self.protocol.media(event.item_id, event.content_index, event.audio)
            elif kind == "audio_interrupted":
                out = self.protocol.clear()
            elif kind == "connection" and getattr(event, "status", "") == "closed":
                return
            else:
                continue
            with contextlib.suppress(ConnectionClosed):
                for text in out:
                    await self.ws.send(text)


class MediaStreamServer:
    """Accepts media-stream websockets on host:port and runs one session per stream.

    Args:
        sessions: a `CallSessions` (routes by the `to`/`number` custom parameter).
        start_timeout_s: a connection that sends no `start` this soon is closed.
    """

    def __init__(
        self,
        sessions: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/media-stream",
        start_timeout_s: float = 10.0,
    ) -> None:
        self.sessions = sessions
        self.host = host
        self.port = port
        self.path = path
        self.start_timeout_s = start_timeout_s
        self.transports: list[MediaStreamTransport] = []
        self._server: Server | None = None

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}{self.path}"

    async def __aenter__(self) -> MediaStreamServer:
        self._server = await serve(
            self._handler, self.host, self.port, max_size=MAX_MESSAGE_BYTES, compression=None
        )
        self.port = int(next(iter(self._server.sockets)).getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handler(self, ws: ServerConnection) -> None:
        protocol = MediaStreamProtocol()
        try:
            start = await asyncio.wait_for(self._wait_start(ws, protocol), self.start_timeout_s)
        except (TimeoutError, ConnectionClosed):
            return
        if start is None:
            return
        transport = MediaStreamTransport(ws, start, protocol)
        self.transports.append(transport)
        call_id = start.call_sid or start.stream_sid
        try:
            await self.sessions.run_call(call_id, start.number, transport)
        except Exception as exc:  # one failed stream must not stop the server
            log.warning("media stream %s: session failed: %s", call_id, exc)

    @staticmethod
    async def _wait_start(
        ws: ServerConnection, protocol: MediaStreamProtocol
    ) -> StreamStart | None:
        async for message in ws:
            try:
                kind, value = protocol.receive(message)
            except ProtocolError as exc:
                log.info("media stream before start: %s", exc)
                continue
            if kind == "start":
                assert isinstance(value, StreamStart)
                return value
            if kind == "stop":
                return None
        return None
