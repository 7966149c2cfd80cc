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

Each stream opens a model session, so the server admits a stream only when the handshake
proves it comes from the carrier (`MediaStreamAuth`: Twilio's `X-Twilio-Signature`, an
HMAC-SHA1 of the URL Twilio dialled keyed with the account's auth token, or a secret
`token` in the URL's query) and fewer than `max_calls` streams are open; otherwise it
answers 401/403/503 before any session starts. With no auth configured it serves loopback
only (fails closed).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import itertools
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from agentgraph.audio import AudioFormat
from agentgraph.errors import ProtocolError, UsageError
from agentgraph.realtime import events as se
from agentgraph.transports.base import (
    PlaybackTracker,
    Transport,
    TransportSession,
    run_until_first_done,
)

__all__ = [
    "MediaStreamAuth",
    "MediaStreamProtocol",
    "MediaStreamServer",
    "MediaStreamTransport",
    "StreamStart",
    "twilio_signature",
]

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 1 << 20
MAX_PENDING_MARKS = 10_000


def twilio_signature(auth_token: str, url: str) -> str:
    """Twilio's request signature for a websocket URL: base64(HMAC-SHA1(token, url))."""
    digest = hmac.new(auth_token.encode(), url.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _port_variants(url: str) -> list[str]:
    """The URL as given, without its default port and with it (Twilio signs either)."""
    parts = urlsplit(url)
    default = {"wss": 443, "https": 443, "ws": 80, "http": 80}.get(parts.scheme)
    host = parts.hostname or ""
    variants = [url]
    if default is not None and host:
        bare = urlunsplit(parts._replace(netloc=host))
        with_port = urlunsplit(parts._replace(netloc=f"{host}:{parts.port or default}"))
        variants += [v for v in (bare, with_port) if v not in variants]
    return variants


@dataclass(frozen=True, slots=True)
class MediaStreamAuth:
    """Who may open a media stream.

    Attributes:
        token: a secret the stream URL must carry as `?token=...`.
        twilio_auth_token: the Twilio account's auth token; the handshake must carry a
            valid `X-Twilio-Signature` for `public_url` plus the request's query.
        public_url: the `wss://` URL configured at Twilio (what it signs), without query.
    """

    token: str | None = field(default=None, repr=False)
    twilio_auth_token: str | None = field(default=None, repr=False)
    public_url: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.token or self.twilio_auth_token)

    def check(self, path: str, headers: Any) -> str | None:
        """None when the handshake may proceed, else why not (for the log, not the peer)."""
        query = urlsplit(path).query
        if self.token:
            given = (parse_qs(query).get("token") or [""])[0]
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return "missing or wrong token in the stream URL"
        if self.twilio_auth_token:
            signature = headers.get("X-Twilio-Signature") or ""
            base = self.public_url or ""
            url = f"{base}?{query}" if query else base
            if not signature or not any(
                hmac.compare_digest(twilio_signature(self.twilio_auth_token, u), signature)
                for u in _port_variants(url)
            ):
                return "missing or invalid X-Twilio-Signature"
        return None


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
            match event:
                case se.RealtimeAudioEvent():
                    out = self.protocol.media(event.item_id, event.content_index, event.audio)
                case se.RealtimeAudioInterruptedEvent():
                    out = self.protocol.clear()
                case se.RealtimeConnectionEvent(status="closed"):
                    return
                case _:
                    continue
            with contextlib.suppress(ConnectionClosed):
                for text in out:
                    await self.ws.send(text)


class MediaStreamServer:
    """Accepts media-stream websockets on host:port and runs one session per stream.

    Args:
        sessions: a `CallSessions` (routes by the `to`/`number` custom parameter).
        start_timeout_s: a connection that sends no `start` this soon is closed.
        max_calls: streams open at once; more are refused with 503 at the handshake.
        auth: who may connect; None (or empty) is allowed on loopback addresses only.
    """

    def __init__(
        self,
        sessions: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/media-stream",
        start_timeout_s: float = 10.0,
        max_calls: int = 100,
        auth: MediaStreamAuth | None = None,
    ) -> None:
        auth = auth or MediaStreamAuth()
        if not auth.configured and not _is_loopback(host):
            raise UsageError(
                f"media streams on {host} would let anyone open model sessions: configure "
                "a token or Twilio auth token (sip.media_streams), or listen on loopback"
            )
        if auth.twilio_auth_token and not auth.public_url:
            raise UsageError("checking X-Twilio-Signature needs the public wss:// URL too")
        self.auth = auth
        self.max_calls = max_calls
        self.open_streams = 0
        self.refused = 0
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
            self._handler,
            self.host,
            self.port,
            max_size=MAX_MESSAGE_BYTES,
            compression=None,
            process_request=self._admit,
        )
        self.port = int(next(iter(self._server.sockets)).getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        """Path, carrier authentication and `max_calls`, before any session exists."""
        if urlsplit(request.path).path != self.path:
            return connection.respond(404, "Not found\n")
        why = self.auth.check(request.path, request.headers) if self.auth.configured else None
        if why is not None:
            self.refused += 1
            log.warning("media stream refused: %s", why)
            return connection.respond(403, "Forbidden\n")
        if self.open_streams >= self.max_calls:
            self.refused += 1
            log.warning("media stream refused: %d calls already open", self.open_streams)
            return connection.respond(503, "Too many calls\n")
        # held until the TCP connection is gone, whether or not the handshake completes
        self.open_streams += 1
        connection.connection_lost_waiter.add_done_callback(self._release)
        return None

    def _release(self, _done: object) -> None:
        self.open_streams -= 1

    async def _handler(self, ws: ServerConnection) -> None:
        protocol = MediaStreamProtocol()
        try:
            start = await asyncio.wait_for(self._wait_start(ws, protocol), self.start_timeout_s)
        except (TimeoutError, ConnectionClosed):
            return
        if start is None:
            return
        transport = MediaStreamTransport(ws, start, protocol)
        self.transports.append(transport)  # the streams open now (a finished one leaves)
        call_id = start.call_sid or start.stream_sid
        try:
            await self.sessions.run_call(call_id, start.number, transport)
        except Exception as exc:  # one failed stream must not stop the server
            log.warning("media stream %s: session failed: %s", call_id, exc)
        finally:
            self.transports.remove(transport)

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


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
