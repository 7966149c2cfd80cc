"""`FakeChatServer`: an OpenAI-compatible chat-completions endpoint on loopback HTTP.

    async with FakeChatServer(reply=lambda request: '{"ok": true}') as chat:
        chat.base_url          # http://127.0.0.1:PORT/v1
        chat.requests          # every JSON body received, in order
        chat.headers           # the headers of each request

`reply(request_body) -> str` gives the assistant message content (for structured output,
the JSON text). `status` can be set to answer with an HTTP error instead.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

__all__ = ["FakeChatServer"]


class FakeChatServer:
    """A minimal HTTP/1.1 server answering `POST /v1/chat/completions`."""

    def __init__(self, reply: Callable[[dict[str, Any]], str] | None = None) -> None:
        self.reply = reply or (lambda request: "ok")
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
            content = self.reply(request)
            await self._write(
                writer,
                200,
                {
                    "id": f"chatcmpl-{len(self.requests)}",
                    "object": "chat.completion",
                    "created": 0,
                    "model": request.get("model", "fake"),
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": content},
                        }
                    ],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                },
            )
        finally:
            writer.close()

    @staticmethod
    async def _write(writer: asyncio.StreamWriter, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode()
            + data
        )
        await writer.drain()
