"""`FakeRealtimeServer`: a scriptable OpenAI Realtime GA server on loopback websockets.

What it does by itself (realtime-protocol.md §2–§6): `session.created` on connect;
`session.updated` with the merged session for each `session.update` (or an `error` when
`type` is missing); `conversation.item.added` + `.done` for `conversation.item.create`;
`conversation.item.truncated` for truncate; `response.cancel` ends the active response with
`response.done` status `cancelled` (or `response_cancel_not_active`); a `response.create`
while a response is active gets `conversation_already_has_active_response`. Everything
else is scripted by the test:

    async with FakeRealtimeServer() as server:
        ... connect a client to server.url ...
        conn = await server.next_connection()
        await conn.wait_for("session.update")
        await conn.respond_audio("Hello there", audio=b"\\0" * 9600)
        call_id = await conn.respond_function_call("get_weather", {"city": "Paris"})
        await conn.wait_for("conversation.item.create", where=lambda e: ...)
        assert conn.types() == [...]            # wire order of client events (no appends)

`server.on_response_create = async (conn, event) -> None` answers every response.create.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

__all__ = ["FakeConnection", "FakeRealtimeServer", "FakeResponse"]

DEFAULT_SESSION: dict[str, Any] = {
    "type": "realtime",
    "object": "realtime.session",
    "model": "gpt-realtime",
    "output_modalities": ["audio"],
    "instructions": "default",
    "tools": [],
    "tool_choice": "auto",
    "max_output_tokens": "inf",
    "audio": {
        "input": {
            "format": {"type": "audio/pcm", "rate": 24000},
            "transcription": None,
            "noise_reduction": None,
            "turn_detection": {
                "type": "server_vad",
                "threshold": 0.5,
                "prefix_padding_ms": 300,
                "silence_duration_ms": 200,
                "create_response": True,
                "interrupt_response": True,
            },
        },
        "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin", "speed": 1.0},
    },
}

ResponseHook = Callable[["FakeConnection", dict[str, Any]], Awaitable[None]]


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


class FakeResponse:
    """One scripted response; build it step by step or use the `respond_*` helpers."""

    def __init__(self, conn: FakeConnection, response_id: str) -> None:
        self.conn = conn
        self.id = response_id
        self.output: list[dict[str, Any]] = []
        self.cancelled = False
        self.done = False

    async def _add_output_item(self, item: dict[str, Any]) -> int:
        """§6: the item joins the response and the conversation; returns its output_index."""
        self.output.append(item)
        index = len(self.output) - 1
        await self.conn.send(
            {
                "type": "response.output_item.added",
                "response_id": self.id,
                "output_index": index,
                "item": item,
            }
        )
        await self.conn.send(
            {"type": "conversation.item.added", "previous_item_id": None, "item": item}
        )
        return index

    async def start(self) -> FakeResponse:
        await self.conn.send(
            {
                "type": "response.created",
                "response": {
                    "object": "realtime.response",
                    "id": self.id,
                    "status": "in_progress",
                    "output": [],
                    "usage": None,
                },
            }
        )
        return self

    async def add_message(self, item_id: str | None = None) -> str:
        item_id = item_id or self.conn.new_id("item")
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        index = await self._add_output_item(item)
        await self.conn.send(
            {
                "type": "response.content_part.added",
                "response_id": self.id,
                "item_id": item_id,
                "output_index": index,
                "content_index": 0,
                "part": {"type": "audio", "transcript": ""},
            }
        )
        return item_id

    def _index(self, item_id: str) -> int:
        return next(i for i, item in enumerate(self.output) if item["id"] == item_id)

    async def transcript_delta(self, item_id: str, delta: str) -> None:
        await self.conn.send(
            {
                "type": "response.output_audio_transcript.delta",
                "response_id": self.id,
                "item_id": item_id,
                "output_index": self._index(item_id),
                "content_index": 0,
                "delta": delta,
            }
        )

    async def audio_delta(self, item_id: str, audio: bytes) -> None:
        await self.conn.send(
            {
                "type": "response.output_audio.delta",
                "response_id": self.id,
                "item_id": item_id,
                "output_index": self._index(item_id),
                "content_index": 0,
                "delta": base64.b64encode(audio).decode(),
            }
        )

    async def finish_message(
        self, item_id: str, transcript: str, status: str = "completed"
    ) -> None:
        index = self._index(item_id)
        base = {
            "response_id": self.id,
            "item_id": item_id,
            "output_index": index,
            "content_index": 0,
        }
        await self.conn.send({"type": "response.output_audio.done", **base})
        await self.conn.send(
            {"type": "response.output_audio_transcript.done", **base, "transcript": transcript}
        )
        await self.conn.send(
            {
                "type": "response.content_part.done",
                **base,
                "part": {"type": "audio", "transcript": transcript},
            }
        )
        item = {
            **self.output[index],
            "status": status,
            "content": [{"type": "output_audio", "transcript": transcript}],
        }
        self.output[index] = item
        await self.conn.send(
            {
                "type": "response.output_item.done",
                "response_id": self.id,
                "output_index": index,
                "item": item,
            }
        )
        await self.conn.send(
            {"type": "conversation.item.done", "previous_item_id": None, "item": item}
        )

    async def add_function_call(self, name: str, arguments: str, call_id: str) -> str:
        item_id = self.conn.new_id("item")
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "call_id": call_id,
            "name": name,
            "arguments": "",
        }
        index = await self._add_output_item(item)
        half = len(arguments) // 2
        for part in (arguments[:half], arguments[half:]):
            await self.conn.send(
                {
                    "type": "response.function_call_arguments.delta",
                    "response_id": self.id,
                    "item_id": item_id,
                    "output_index": index,
                    "call_id": call_id,
                    "delta": part,
                }
            )
        await self.conn.send(
            {
                "type": "response.function_call_arguments.done",
                "response_id": self.id,
                "item_id": item_id,
                "output_index": index,
                "call_id": call_id,
                "name": name,
                "arguments": arguments,
            }
        )
        done = {**item, "status": "completed", "arguments": arguments}
        self.output[index] = done
        await self.conn.send(
            {
                "type": "response.output_item.done",
                "response_id": self.id,
                "output_index": index,
                "item": done,
            }
        )
        await self.conn.send(
            {"type": "conversation.item.done", "previous_item_id": None, "item": done}
        )
        return item_id

    async def end(self, status: str = "completed", reason: str | None = None) -> None:
        if self.done:
            return
        self.done = True
        if self.conn.active_response is self:
            self.conn.active_response = None
        details = None if reason is None else {"type": status, "reason": reason}
        await self.conn.send(
            {
                "type": "response.done",
                "response": {
                    "object": "realtime.response",
                    "id": self.id,
                    "status": status,
                    "status_details": details,
                    "output": self.output,
                    "usage": {"total_tokens": 10, "input_tokens": 5, "output_tokens": 5},
                },
            }
        )


class FakeConnection:
    """One client connection: what it sent, and how to script what it receives."""

    def __init__(self, server: FakeRealtimeServer, ws: ServerConnection) -> None:
        self.server = server
        self.ws = ws
        request = ws.request
        assert request is not None
        self.path = urlsplit(request.path).path
        self.query = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
        self.headers = dict(request.headers.raw_items())
        self.received: list[dict[str, Any]] = []
        self.audio = bytearray()
        self.append_count = 0
        self.session: dict[str, Any] = json.loads(json.dumps(DEFAULT_SESSION))
        self.active_response: FakeResponse | None = None
        self.closed = asyncio.Event()
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{self.server.name}{next(self._ids)}"

    # -- recording

    def types(self) -> list[str]:
        """Types of every client event received, in order, appends left out."""
        return [e["type"] for e in self.received]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.received if e["type"] == kind]

    async def wait_for(
        self,
        kind: str,
        *,
        count: int = 1,
        timeout: float = 5.0,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """Wait until `count` events of `kind` (matching `where`) arrived; return the last."""

        def matches() -> list[dict[str, Any]]:
            return [e for e in self.of_type(kind) if where is None or where(e)]

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(matches()) >= count)
        return matches()[count - 1]

    async def wait_for_audio(self, num_bytes: int, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.audio) >= num_bytes)

    # -- sending

    async def send(self, event: dict[str, Any]) -> None:
        """Send one server event (an `event_id` is added)."""
        event = {"event_id": self.new_id("event"), **event}
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(json.dumps(event))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close from the server side with `code` (1001 = session expired, 1011 = error)."""
        await self.ws.close(code, reason)

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (the client sees 1006)."""
        self.ws.transport.abort()

    async def error(self, code: str, message: str, event_id: str | None = None) -> None:
        await self.send(
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "code": code,
                    "message": message,
                    "param": None,
                    "event_id": event_id,
                },
            }
        )

    # -- scripted server behaviour

    def response(self) -> FakeResponse:
        """A new response object (not started)."""
        return FakeResponse(self, self.new_id("resp"))

    async def begin_response(self) -> FakeResponse:
        resp = self.response()
        self.active_response = resp
        return await resp.start()

    async def respond_audio(
        self,
        transcript: str,
        *,
        audio: bytes = b"\x00\x00" * 2400,
        chunks: int = 2,
    ) -> tuple[str, str]:
        """A whole spoken response (§6a). Returns `(response_id, item_id)`."""
        resp = await self.begin_response()
        item_id = await resp.add_message()
        words = transcript.split(" ")
        size = max(2, len(audio) // max(1, chunks) // 2 * 2)
        pieces = [audio[i : i + size] for i in range(0, len(audio), size)] or [b""]
        for index, piece in enumerate(pieces):
            if index < len(words):
                await resp.transcript_delta(item_id, (" " if index else "") + words[index])
            await resp.audio_delta(item_id, piece)
        rest = words[len(pieces) :]
        if rest:
            await resp.transcript_delta(item_id, " " + " ".join(rest))
        await resp.finish_message(item_id, transcript)
        await resp.end()
        return resp.id, item_id

    async def respond_function_call(
        self,
        name: str,
        arguments: dict[str, Any] | str,
        call_id: str | None = None,
    ) -> str:
        """A response that only calls a function (§6b). Returns the call id."""
        call_id = call_id or self.new_id("call")
        args = arguments if isinstance(arguments, str) else json.dumps(arguments)
        resp = await self.begin_response()
        await resp.add_function_call(name, args, call_id)
        await resp.end()
        return call_id

    async def user_turn(self, transcript: str | None = None) -> str:
        """Server-VAD caller turn: speech started/stopped, committed, user item (§6a)."""
        item_id = self.new_id("item")
        await self.send(
            {"type": "input_audio_buffer.speech_started", "audio_start_ms": 100, "item_id": item_id}
        )
        await self.send(
            {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 900, "item_id": item_id}
        )
        await self.send(
            {"type": "input_audio_buffer.committed", "item_id": item_id, "previous_item_id": None}
        )
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        await self.send({"type": "conversation.item.added", "previous_item_id": None, "item": item})
        await self.send({"type": "conversation.item.done", "previous_item_id": None, "item": item})
        if transcript is not None:
            await self.send(
                {
                    "type": "conversation.item.input_audio_transcription.delta",
                    "item_id": item_id,
                    "content_index": 0,
                    "delta": transcript,
                }
            )
            await self.send(
                {
                    "type": "conversation.item.input_audio_transcription.completed",
                    "item_id": item_id,
                    "content_index": 0,
                    "transcript": transcript,
                }
            )
        return item_id

    async def _handle(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        event_id = event.get("event_id")
        if kind == "session.update":
            session = event.get("session") or {}
            if "type" not in session:
                await self.error(
                    "missing_required_parameter",
                    "Missing required parameter: 'session.type'.",
                    event_id,
                )
                return
            self.session = _merge(self.session, session)
            await self.send({"type": "session.updated", "session": self.session})
        elif kind == "conversation.item.create":
            item = dict(event.get("item") or {})
            item.setdefault("id", self.new_id("item"))
            item.setdefault("object", "realtime.item")
            item.setdefault("status", "completed")
            await self.send(
                {"type": "conversation.item.added", "previous_item_id": None, "item": item}
            )
            await self.send(
                {"type": "conversation.item.done", "previous_item_id": None, "item": item}
            )
        elif kind == "conversation.item.truncate":
            await self.send(
                {
                    "type": "conversation.item.truncated",
                    "item_id": event.get("item_id"),
                    "content_index": 0,
                    "audio_end_ms": event.get("audio_end_ms"),
                }
            )
        elif kind == "response.cancel":
            active = self.active_response
            if active is None:
                await self.error(
                    "response_cancel_not_active",
                    "Cancellation failed: no active response found",
                    event_id,
                )
            else:
                active.cancelled = True
                await active.end("cancelled", "client_cancelled")
        elif kind == "response.create":
            if self.active_response is not None:
                await self.error(
                    "conversation_already_has_active_response",
                    f"Conversation already has an active response in progress: "
                    f"{self.active_response.id}.",
                    event_id,
                )
                return
            hook = self.server.on_response_create
            if hook is not None:
                self.server.track(asyncio.ensure_future(hook(self, event)))

    async def serve(self) -> None:
        expires_at = int(time.time() + self.server.session_length_s)
        await self.send(
            {
                "type": "session.created",
                "session": {**self.session, "id": self.new_id("sess"), "expires_at": expires_at},
            }
        )
        try:
            async for message in self.ws:
                event = json.loads(message)
                if event.get("type") == "input_audio_buffer.append":
                    self.audio += base64.b64decode(event.get("audio", ""))
                    self.append_count += 1
                else:
                    self.received.append(event)
                    await self._handle(event)
                async with self._changed:
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()


class FakeRealtimeServer:
    """A Realtime server on 127.0.0.1:<OS port>; `async with` starts and stops it.

    Args:
        name: a short tag put into generated ids (tells reconnects apart).
        on_response_create: answers every accepted `response.create` (optional).
        session_length_s: `session.created.expires_at` is now plus this (GA: 60 min).
    """

    def __init__(
        self,
        *,
        name: str = "",
        on_response_create: ResponseHook | None = None,
        session_length_s: float = 3600.0,
    ) -> None:
        self.name = name
        self.session_length_s = session_length_s
        self.on_response_create = on_response_create
        self.connections: list[FakeConnection] = []
        self._server: Server | None = None
        self._new = asyncio.Queue[FakeConnection]()
        self._tasks: set[asyncio.Future[Any]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/realtime"

    def track(self, task: asyncio.Future[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def __aenter__(self) -> FakeRealtimeServer:
        self._server = await serve(self._handler, "127.0.0.1", 0, max_size=None, compression=None)
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in list(self._tasks):
            task.cancel()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def stop_listening(self) -> None:
        """Refuse new connections from now on (open ones stay): a server that is down."""
        assert self._server is not None
        self._server.close(close_connections=False)

    async def _handler(self, ws: ServerConnection) -> None:
        conn = FakeConnection(self, ws)
        self.connections.append(conn)
        self._new.put_nowait(conn)
        await conn.serve()

    async def next_connection(self, timeout: float = 5.0) -> FakeConnection:
        """The next client that connects (in order)."""
        async with asyncio.timeout(timeout):
            return await self._new.get()
