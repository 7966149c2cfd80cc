"""`FakeChatServer`: an OpenAI-compatible chat-completions endpoint on loopback HTTP.

    async with FakeChatServer(reply=lambda request: '{"ok": true}') as chat:
        chat.base_url          # http://127.0.0.1:PORT/v1
        chat.requests          # every JSON body received, in order
        chat.headers           # the headers of each request (lower-case names)

`reply(request_body)` gives the assistant's answer: a string (the message content; for
structured output, the JSON text) or `(text, [(tool_name, arguments), ...])` for tool
calls. A request with `"stream": true` is answered as server-sent events in small
fragments, as OpenAI-compatible servers do, unless `stream=False` (a server that ignores
streaming). `status` can be set to answer with an HTTP error instead.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

__all__ = ["ChatReply", "FakeChatServer"]

ToolCalls = list[tuple[str, dict[str, Any]]]
ChatReply = str | tuple[str, ToolCalls]


class FakeChatServer:
    """A minimal HTTP/1.1 server answering `POST /v1/chat/completions`."""

    def __init__(
        self,
        reply: Callable[[dict[str, Any]], ChatReply] | None = None,
        *,
        stream: bool | None = None,
    ) -> None:
        self.reply = reply or (lambda request: "ok")
        self.stream = stream
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.status = 200
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> FakeChatServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = (await reader.readline()).decode("latin-1").strip()
            headers: dict[str, str] = {}
            while True:
                line = (await reader.readline()).decode("latin-1")
                if line in ("\r\n", "\n", ""):
                    break
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            method, path, _ = request_line.split(" ", 2)
            if method != "POST" or not path.endswith("/chat/completions"):
                await self._write(writer, 404, {"error": {"message": "not found"}})
                return
            request = json.loads(body)
            self.requests.append(request)
            self.headers.append(headers)
            if self.status != 200:
                await self._write(
                    writer,
                    self.status,
                    {"error": {"message": "scripted failure", "type": "server_error"}},
                )
                return
            answer = self.reply(request)
            text, calls = (answer, []) if isinstance(answer, str) else answer
            if request.get("stream") and self.stream is not False:
                await self._write_stream(writer, text, calls)
            else:
                await self._write(writer, 200, self._completion(request, text, calls))
        finally:
            writer.close()

    def _completion(self, request: dict[str, Any], text: str, calls: ToolCalls) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            message["tool_calls"] = [
                {
                    "id": f"c{i}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(args)},
                }
                for i, (name, args) in enumerate(calls)
            ]
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": 0,
            "model": request.get("model", "fake"),
            "choices": [
                {"index": 0, "finish_reason": "tool_calls" if calls else "stop", "message": message}
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    @staticmethod
    def _stream_deltas(text: str, calls: ToolCalls) -> list[dict[str, Any]]:
        """Text in 7-character pieces, then each tool call's arguments in 5-character ones."""
        deltas: list[dict[str, Any]] = [
            {"content": text[i : i + 7]} for i in range(0, len(text), 7)
        ]
        for index, (name, args) in enumerate(calls):
            raw = json.dumps(args)
            deltas.append(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": f"c{index}",
                            "type": "function",
                            "function": {"name": name, "arguments": ""},
                        }
                    ]
                }
            )
            deltas += [
                {"tool_calls": [{"index": index, "function": {"arguments": raw[j : j + 5]}}]}
                for j in range(0, len(raw), 5)
            ]
        return deltas

    async def _write_stream(
        self, writer: asyncio.StreamWriter, text: str, calls: ToolCalls
    ) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        events = [{"choices": [{"index": 0, "delta": d}]} for d in self._stream_deltas(text, calls)]
        for event in events:
            chunk = f"data: {json.dumps(event)}\n\n".encode()
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            await writer.drain()
        done = b"data: [DONE]\n\n"
        writer.write(f"{len(done):x}\r\n".encode() + done + b"\r\n0\r\n\r\n")
        await writer.drain()

    @staticmethod
    async def _write(writer: asyncio.StreamWriter, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
            + data
        )
        await writer.drain()
