"""A small HTTP/1.1 server for webhooks: one request per connection, bounded sizes.

Only what a webhook endpoint needs: read the request line, headers (lower-cased) and a
`Content-Length` body, call `handler(method, path, headers, body)` and write its
`(status, body)` answer. Anything malformed gets 400; oversize gets 413; no keep-alive.

Unauthenticated peers can open connections, so everything they hold is bounded before a
byte of body is read: the headers must arrive within `HEADER_TIMEOUT_S`, an optional
`precheck(method, path, headers)` may refuse the request from its headers alone (wrong
path, missing signature headers), a declared body over `MAX_BODY_BYTES` (64 KiB; a
`realtime.call.incoming` is a few kB) is refused at once, the body must follow within
`BODY_TIMEOUT_S`, and past `MAX_CONNECTIONS` open requests new ones get 503 unread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

__all__ = ["Handler", "HttpServer"]

log = logging.getLogger(__name__)
MAX_HEADER_BYTES = 16_384
MAX_BODY_BYTES = 64 * 1024
HEADER_TIMEOUT_S = 5.0
BODY_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 256
REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    413: "Payload Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

Handler = Callable[[str, str, dict[str, str], bytes], Awaitable[tuple[int, bytes]]]
Precheck = Callable[[str, str, dict[str, str]], "tuple[int, bytes] | None"]


class HttpServer:
    """Serves `handler` on host:port (port 0 picks one); `async with` starts and stops it."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        precheck: Precheck | None = None,
    ) -> None:
        self.handler = handler
        self.precheck = precheck
        self.host = host
        self.port = port
        self.open_requests = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> HttpServer:
        self._server = await asyncio.start_server(
            self._serve, self.host, self.port, limit=MAX_HEADER_BYTES
        )
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.open_requests >= MAX_CONNECTIONS:
            status, body = 503, b"busy\n"
        else:
            self.open_requests += 1
            try:
                status, body = await self._request(reader)
            except TimeoutError:
                status, body = 408, b"request timeout\n"
            except Exception:  # a handler bug answers 500 and is logged, never kills it
                log.exception("webhook handler failed")
                status, body = 500, b"internal error\n"
            finally:
                self.open_requests -= 1
        head = (
            f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\n"
            f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        try:
            writer.write(head + body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _request(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEADER_TIMEOUT_S)
        except asyncio.LimitOverrunError:
            return 413, b"headers too large\n"
        except asyncio.IncompleteReadError:
            return 400, b"incomplete request\n"
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return 400, b"bad request line\n"
        method, path = parts[0], parts[1]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, colon, value = line.partition(":")
            if not colon:
                return 400, b"bad header line\n"
            headers[name.strip().lower()] = value.strip()
        length_text = headers.get("content-length", "0")
        if not length_text.isdigit():
            return 400, b"bad content-length\n"
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            return 413, b"body too large\n"
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return 400, b"chunked bodies are not supported\n"
        if self.precheck is not None and (refused := self.precheck(method, path, headers)):
            return refused
        try:
            body = await asyncio.wait_for(reader.readexactly(length), BODY_TIMEOUT_S)
        except asyncio.IncompleteReadError:
            return 400, b"incomplete body\n"
        return await self.handler(method, path, headers, body)
