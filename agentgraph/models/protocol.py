"""`RealtimeClientProtocol`: the sans-I/O core of a Realtime client connection.

Theory of operation. The shell (`connection.py`) owns the websocket; this object owns the
rules. Feed every received text frame to `receive(message, now)` and the close to
`receive_close(code, reason)`; then write `data_to_send()` and dispatch
`events_received()`. Application actions go through `send(event)` / `send_audio(pcm)`.

* State: CONNECTING until `session.created`, then OPEN, then CLOSED. Events may be sent
  while CONNECTING (the server queues them; the reference SDK sends `session.update` at
  once). Sending after CLOSED raises `InvalidState`.
* Bad input never raises out of `receive()`: a frame that is not a JSON event becomes an
  `ErrorEvent` with `error.type == "client_error"`, and the session goes on.
* Close codes 1001, 1005, 1006, 1011, 1012, 1013 and 1015 (realtime-protocol.md §1.5, as in
  openai-python) mean the peer went away abnormally: `should_reconnect` turns true.
* Nothing here reads a clock; `now` is recorded for the idle check the shell may do.
"""

from __future__ import annotations

import enum
from typing import Any

from agentgraph.errors import InvalidState, ProtocolError
from agentgraph.protocol import (
    ClientEvent,
    ServerEvent,
    UnknownEvent,
    decode_server_event,
    encode_audio_append,
    encode_event,
)
from agentgraph.protocol.events import ErrorEvent, SessionCreated, SessionUpdated

__all__ = ["RECONNECT_CLOSE_CODES", "ClientState", "RealtimeClientProtocol"]

RECONNECT_CLOSE_CODES = frozenset({1001, 1005, 1006, 1011, 1012, 1013, 1015})


class ClientState(enum.Enum):
    """Connection state of the client core."""

    CONNECTING = "connecting"
    OPEN = "open"
    CLOSED = "closed"


class RealtimeClientProtocol:
    """The client side of one Realtime websocket, without I/O."""

    __slots__ = (
        "_events",
        "_outgoing",
        "close_code",
        "close_reason",
        "last_received_at",
        "session",
        "state",
    )

    def __init__(self) -> None:
        self.state = ClientState.CONNECTING
        self.session: dict[str, Any] = {}
        self.close_code: int | None = None
        self.close_reason = ""
        self.last_received_at: float | None = None
        self._events: list[ServerEvent | UnknownEvent] = []
        self._outgoing: list[str] = []

    # -- input

    def receive(self, message: str | bytes, now: float) -> None:
        """Feed one received frame. Call `events_received()` right after."""
        if self.state is ClientState.CLOSED:
            return
        self.last_received_at = now
        try:
            event = decode_server_event(message)
        except ProtocolError as exc:
            self._events.append(
                ErrorEvent(
                    error={"type": "client_error", "code": "invalid_event", "message": str(exc)}
                )
            )
            return
        if type(event) is SessionCreated:
            self.state = ClientState.OPEN
            self.session = event.session
        elif type(event) is SessionUpdated:
            self.session = event.session
        self._events.append(event)

    def receive_close(self, code: int | None, reason: str = "") -> None:
        """The websocket closed (`code` None when it closed without a close frame)."""
        if self.state is ClientState.CLOSED:
            return
        self.state = ClientState.CLOSED
        self.close_code = 1006 if code is None else code
        self.close_reason = reason

    @property
    def should_reconnect(self) -> bool:
        """True after an abnormal close that a reconnect may cure."""
        return self.state is ClientState.CLOSED and self.close_code in RECONNECT_CLOSE_CODES

    # -- output

    def send(self, event: ClientEvent | dict[str, Any]) -> None:
        """Queue a client event.

        Raises:
            InvalidState: the connection is closed.
        """
        if self.state is ClientState.CLOSED:
            raise InvalidState(f"cannot send {_type_of(event)}: the connection is closed")
        self._outgoing.append(encode_event(event))

    def send_audio(self, audio: bytes | bytearray | memoryview) -> None:
        """Queue `input_audio_buffer.append` for `audio` (hot path: no event object).

        Raises:
            InvalidState: the connection is closed.
        """
        if self.state is ClientState.CLOSED:
            raise InvalidState("cannot send audio: the connection is closed")
        self._outgoing.append(encode_audio_append(audio))

    # -- drains

    def events_received(self) -> list[ServerEvent | UnknownEvent]:
        """Events decoded since the last call (a second call returns [])."""
        events, self._events = self._events, []
        return events

    def data_to_send(self) -> list[str]:
        """Frames to write since the last call (a second call returns [])."""
        data, self._outgoing = self._outgoing, []
        return data


def _type_of(event: ClientEvent | dict[str, Any]) -> str:
    if isinstance(event, dict):
        return str(event.get("type"))
    return event.type
