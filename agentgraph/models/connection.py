"""`RealtimeConnection`: the asyncio shell around `RealtimeClientProtocol`.

One task per connection reads frames; sends are synchronous writes to the socket (no task,
no queue, no coroutine per audio chunk): the websocket frame is built by the websockets
sans-I/O protocol and written to the transport at once. Compression is off (base64 audio
does not compress well and deflate costs CPU per frame); `max_size=None` because server
audio frames are large. The API key goes into the Authorization header and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.protocol import State

from agentgraph.errors import ConnectionClosed, InvalidState
from agentgraph.models.protocol import ClientState, RealtimeClientProtocol
from agentgraph.protocol import ClientEvent, ServerEvent, UnknownEvent

__all__ = ["DEFAULT_URL", "RealtimeConnection", "build_url", "redact_url"]

logger = logging.getLogger(__name__)

DEFAULT_URL = "wss://api.openai.com/v1/realtime"
#: Writes beyond this many buffered bytes mean the peer stopped reading: drop audio.
MAX_WRITE_BUFFER = 8 * 1024 * 1024


def build_url(url: str, *, model: str | None = None, call_id: str | None = None) -> str:
    """Add `?model=` or `?call_id=` (never both, realtime-protocol.md §1.1) to a base URL."""
    parts = urlsplit(url.replace("https://", "wss://", 1).replace("http://", "ws://", 1))
    params: dict[str, str] = {}
    if call_id:
        params["call_id"] = call_id
    elif model:
        params["model"] = model
    query = parts.query
    if params:
        extra = urlencode(params)
        query = f"{query}&{extra}" if query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def redact_url(url: str) -> str:
    """The URL without query or credentials, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class RealtimeConnection:
    """One websocket to a Realtime server.

    Args:
        url: full websocket URL including `?model=` or `?call_id=`.
        on_event: called (synchronously, in the reader task) with every server event.
        on_close: called once with `(code, reason)` when the socket closes.
        api_key: sent as `Authorization: Bearer ...` (never logged).
        headers: extra handshake headers (e.g. Azure's `api-key`).
        open_timeout_s: how long the handshake may take.
    """

    def __init__(
        self,
        url: str,
        *,
        on_event: Callable[[ServerEvent | UnknownEvent], None],
        on_close: Callable[[int | None, str], None],
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        open_timeout_s: float = 10.0,
    ) -> None:
        self.url = url
        self.protocol = RealtimeClientProtocol()
        self._on_event = on_event
        self._on_close = on_close
        self._headers: dict[str, str] = dict(headers or {})
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._open_timeout_s = open_timeout_s
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._closed_reported = False
        self.dropped_bytes = 0

    async def connect(self) -> None:
        """Open the websocket and start reading.

        Raises:
            ConnectionClosed: the server refused or could not be reached.
        """
        try:
            self._ws = await connect(
                self.url,
                additional_headers=self._headers,
                max_size=None,
                compression=None,
                open_timeout=self._open_timeout_s,
                user_agent_header="agentgraph",
            )
        except websockets.InvalidStatus as exc:
            status = exc.response.status_code
            raise ConnectionClosed(
                None, f"{redact_url(self.url)} refused the websocket (HTTP {status})"
            ) from None
        except (
            OSError,
            TimeoutError,
            websockets.InvalidHandshake,
            websockets.InvalidURI,
            ValueError,
        ) as exc:
            raise ConnectionClosed(
                None, f"cannot connect to {redact_url(self.url)}: {type(exc).__name__}: {exc}"
            ) from None
        self._reader = asyncio.get_running_loop().create_task(self._read(self._ws))

    @property
    def is_open(self) -> bool:
        """True while frames can be sent."""
        ws = self._ws
        return (
            ws is not None
            and ws.protocol.state is State.OPEN
            and (self.protocol.state is not ClientState.CLOSED)
        )

    def send(self, event: ClientEvent | dict[str, Any]) -> None:
        """Send one client event now (synchronous write).

        Raises:
            InvalidState: the connection is closed.
        """
        self.protocol.send(event)
        self._flush()

    def send_audio(self, audio: bytes | bytearray | memoryview) -> None:
        """Send caller audio as one `input_audio_buffer.append` (synchronous write)."""
        ws = self._ws
        if ws is not None and ws.transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
            self.dropped_bytes += len(audio)
            return
        self.protocol.send_audio(audio)
        self._flush()

    def _flush(self) -> None:
        ws = self._ws
        data = self.protocol.data_to_send()
        if ws is None or ws.protocol.state is not State.OPEN:
            raise InvalidState("cannot send: the websocket is not open")
        for frame in data:
            ws.protocol.send_text(frame.encode())
        ws.send_data()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the websocket and wait for the reader to finish."""
        if self._ws is not None:
            with contextlib.suppress(Exception):  # the socket may already be gone
                await self._ws.close(code, reason)
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._report_close(code, reason)

    def abort(self) -> None:
        """Drop the TCP connection without a close handshake (tests, dead peers)."""
        if self._ws is not None:
            self._ws.transport.abort()

    async def _read(self, ws: ClientConnection) -> None:
        loop = asyncio.get_running_loop()
        protocol = self.protocol
        on_event = self._on_event
        try:
            while True:
                message = await ws.recv()
                protocol.receive(message, loop.time())
                for event in protocol.events_received():
                    on_event(event)
        except websockets.ConnectionClosed:
            pass
        except Exception:
            logger.exception("realtime: event handler failed; closing the connection")
            await ws.close(1011, "client error")
        rcvd = ws.protocol.close_rcvd
        if rcvd is not None:
            self._report_close(rcvd.code, rcvd.reason)
        else:
            self._report_close(1006, "connection lost")

    def _report_close(self, code: int | None, reason: str) -> None:
        if self._closed_reported:
            return
        self._closed_reported = True
        self.protocol.receive_close(code, reason)
        self._on_close(self.protocol.close_code, reason)
