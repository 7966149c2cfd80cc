"""A small streaming chat-completions server (SSE, chunked) for the engine's chat policy.

`reply(request) -> (text, tool_calls)`; the text is streamed in small pieces and the tool
calls as argument fragments, as OpenAI-compatible servers do.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

Reply = tuple[str, list[tuple[str, dict[str, Any]]]]


class StreamingChatServer:
    def __init__(self, reply: Callable[[dict[str, Any]], Reply], *, stream: bool = True) -> None:
        self.reply = reply
        self.stream = stream
        self.requests: list[dict[str, Any]] = []
        self.auth: list[str | None] = []
        self.status = 200
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> StreamingChatServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readline()
            headers: dict[str, str] = {}
            while (line := (await reader.readline()).decode()) not in ("\r\n", ""):
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            request = json.loads(await reader.readexactly(int(headers["content-length"])))
            self.requests.append(request)
            self.auth.append(headers.get("authorization"))
            if self.status != 200:
                body = b'{"error": {"message": "boom"}}'
                writer.write(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
                return
            text, calls = self.reply(request)
            if not self.stream:
                message: dict[str, Any] = {"role": "assistant", "content": text or None}
                if calls:
                    message["tool_calls"] = [
                        {
                            "id": f"c{i}",
                            "type": "function",
                            "function": {"name": n, "arguments": json.dumps(a)},
                        }
                        for i, (n, a) in enumerate(calls)
                    ]
                body = json.dumps({"choices": [{"index": 0, "message": message}]}).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                return
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            events: list[dict[str, Any]] = []
            for i in range(0, len(text), 7):
                events.append({"delta": {"content": text[i : i + 7]}})
            for index, (name, args) in enumerate(calls):
                raw = json.dumps(args)
                events.append(
                    {
                        "delta": {
                            "tool_calls": [
                                {
                                    "index": index,
                                    "id": f"c{index}",
                                    "type": "function",
                                    "function": {"name": name, "arguments": ""},
                                }
                            ]
                        }
                    }
                )
                for j in range(0, len(raw), 5):
                    events.append(
                        {
                            "delta": {
                                "tool_calls": [
                                    {"index": index, "function": {"arguments": raw[j : j + 5]}}
                                ]
                            }
                        }
                    )
            for event in events:
                chunk = (
                    "data: " + json.dumps({"choices": [{"index": 0, **event}]}) + "\n\n"
                ).encode()
                writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                await writer.drain()
            done = b"data: [DONE]\n\n"
            writer.write(f"{len(done):x}\r\n".encode() + done + b"\r\n0\r\n\r\n")
        finally:
            await writer.drain()
            writer.close()
