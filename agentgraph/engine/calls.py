"""The OpenAI SIP connector's call-control endpoints, emulated by the engine (sans-I/O).

realtime-protocol.md §8: OpenAI receives a SIP INVITE and POSTs `realtime.call.incoming`
to the app's webhook; the app answers with `POST /v1/realtime/calls/{id}/accept` (a GA
session object, `type: realtime`) or `reject`, attaches with `?call_id=`, and ends the
call with `hangup` or `refer`. Offline there is no carrier, so `CallRegistry.ring()` plays
OpenAI's part of an INVITE: it creates a ringing call and returns the webhook event to
deliver. `CallRegistry.handle()` answers the REST routes (200 with an empty body, 404 for
a call that is unknown or over, 400/409 for bad requests) and says which call's sockets
the shell must close. `HttpRequestReader` parses one bounded HTTP/1.1 request: the
engine's websocket port serves these POSTs too, so REST and `?call_id=` share a base URL
as they do at OpenAI. Nothing here touches sockets or clocks.
"""

from __future__ import annotations

import json
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from agentgraph.engine.session_config import SessionError, default_session, merge_session_update

__all__ = [
    "Call",
    "CallAnswer",
    "CallRegistry",
    "HttpError",
    "HttpRequest",
    "HttpRequestReader",
]

MAX_HEAD_BYTES = 16 * 1024
MAX_BODY_BYTES = 256 * 1024  # an accept body is a session config: instructions + tools
MAX_CALLS = 1000
ROUTE_PREFIX = "/v1/realtime/calls/"
ACTIONS = ("accept", "reject", "refer", "hangup")


class HttpError(Exception):
    """A request the engine refuses before routing it (`status` is the HTTP answer)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One parsed request; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class HttpRequestReader:
    """Collects one request from bytes as they arrive; bounded head and body.

    `feed(data)` returns the request once complete, else None; raises `HttpError` for a
    malformed or oversized request (the shell answers it and closes).
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._head: tuple[str, str, dict[str, str]] | None = None
        self._length = 0

    def feed(self, data: bytes) -> HttpRequest | None:
        self._buffer.extend(data)
        if self._head is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD_BYTES:
                    raise HttpError(431, "request headers too large")
                return None
            if end > MAX_HEAD_BYTES:
                raise HttpError(431, "request headers too large")
            self._head = _parse_head(bytes(self._buffer[:end]))
            del self._buffer[: end + 4]
            headers = self._head[2]
            if "transfer-encoding" in headers:
                raise HttpError(400, "chunked bodies are not supported")
            text = headers.get("content-length", "0")
            if not text.isdigit():
                raise HttpError(400, "bad content-length")
            self._length = int(text)
            if self._length > MAX_BODY_BYTES:
                raise HttpError(413, "body too large")
        if len(self._buffer) < self._length:
            return None
        method, path, headers = self._head
        return HttpRequest(method, path, headers, bytes(self._buffer[: self._length]))


def _parse_head(raw: bytes) -> tuple[str, str, dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(400, "bad request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise HttpError(400, "bad header line")
        headers[name.strip().lower()] = value.strip()
    return parts[0], parts[1], headers


@dataclass(slots=True)
class Call:
    """One call as the engine sees it: ringing, accepted (with its session) or over."""

    call_id: str
    state: str = "ringing"  # ringing | accepted | ended
    session: dict[str, Any] | None = None  # the accept body, validated
    ended_by: str | None = None  # "hangup", "reject 486", "refer tel:..."
    history: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CallAnswer:
    """What to answer a REST request with; `close` names a call whose sockets must close."""

    status: int
    body: bytes = b""
    close: str | None = None


def _error(status: int, message: str, code: str = "invalid_request_error") -> CallAnswer:
    body = {"error": {"type": "invalid_request_error", "code": code, "message": message}}
    return CallAnswer(status, json.dumps(body).encode())


class CallRegistry:
    """The engine's calls: created by `ring()`, driven by the REST routes."""

    def __init__(self, *, capacity: int = MAX_CALLS) -> None:
        self.capacity = capacity
        self.calls: OrderedDict[str, Call] = OrderedDict()

    def ring(self, call_id: str | None = None, *, to: str = "+15550100") -> dict[str, Any]:
        """A call rings: returns the `realtime.call.incoming` event to deliver (§8.2)."""
        call_id = call_id or "rtc_" + secrets.token_hex(16)
        if len(self.calls) >= self.capacity:
            ended = [c for c, call in self.calls.items() if call.state == "ended"]
            self.calls.pop(ended[0] if ended else next(iter(self.calls)))
        self.calls[call_id] = Call(call_id)
        return {
            "object": "event",
            "id": "evt_" + secrets.token_hex(8),
            "type": "realtime.call.incoming",
            "data": {
                "call_id": call_id,
                "sip_headers": [
                    {"name": "From", "value": "<sip:+15550199@127.0.0.1>;tag=engine"},
                    {"name": "To", "value": f"<sip:{to}@127.0.0.1>"},
                    {"name": "Call-ID", "value": f"{call_id}@127.0.0.1"},
                ],
            },
        }

    def attach(self, call_id: str) -> dict[str, Any] | None:
        """The session a `?call_id=` socket starts with.

        Raises:
            HttpError: 404 when the call is known but not accepted, or over.
        """
        call = self.calls.get(call_id)
        if call is None:
            return None  # not one of ours: a plain session (WebRTC-style attach)
        if call.state != "accepted":
            raise HttpError(404, f"Call {call_id} is {call.state}, not accepted")
        return call.session

    def handle(self, method: str, path: str, body: bytes) -> CallAnswer:
        """Answer `POST /v1/realtime/calls/{call_id}/{action}`."""
        route = path.split("?", 1)[0]
        if not route.startswith(ROUTE_PREFIX):
            return _error(404, f"Not found: {route}")
        call_id, _, action = route[len(ROUTE_PREFIX) :].partition("/")
        if action not in ACTIONS or not call_id:
            return _error(404, f"Not found: {route}")
        if method != "POST":
            return _error(405, f"{action} takes POST")
        call = self.calls.get(call_id)
        if call is None or call.state == "ended":
            return _error(404, f"Call {call_id} not found", "call_not_found")
        try:
            payload = json.loads(body) if body.strip() else None
        except (ValueError, UnicodeDecodeError):
            return _error(400, "The body is not JSON")
        if payload is not None and not isinstance(payload, dict):
            return _error(400, "The body must be a JSON object")
        call.history.append(action)
        if action == "accept":
            return self._accept(call, payload)
        if action == "reject":
            status = (payload or {}).get("status_code", 603)
            if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status < 700:
                return _error(400, f"Invalid status_code: {status!r}")
            if call.state != "ringing":
                return _error(409, f"Call {call_id} is already accepted")
            return self._end(call, f"reject {status}")
        if action == "refer":
            target = (payload or {}).get("target_uri")
            if not isinstance(target, str) or not target.startswith(("tel:", "sip:")):
                return _error(400, "target_uri must be a tel: or sip: URI")
            if call.state != "accepted":
                return _error(409, f"Call {call_id} is not accepted")
            return self._end(call, f"refer {target}")
        return self._end(call, "hangup")

    def _accept(self, call: Call, payload: dict[str, Any] | None) -> CallAnswer:
        if call.state != "ringing":
            return _error(409, f"Call {call.call_id} is already accepted")
        probe = default_session(session_id="sess_probe", model="gpt-realtime", expires_at=0)
        try:
            merge_session_update(probe, payload, voice_locked=False)
        except SessionError as exc:
            error = {"type": "invalid_request_error", "code": exc.code, "message": exc.message}
            body = {"error": {**error, "param": exc.param}}
            return CallAnswer(400, json.dumps(body).encode())
        call.state = "accepted"
        call.session = payload
        return CallAnswer(200)

    def _end(self, call: Call, how: str) -> CallAnswer:
        call.state = "ended"
        call.ended_by = how
        call.session = None
        return CallAnswer(200, close=call.call_id)
