"""SIP over TCP and TLS (RFC 3261 §18.3): the asyncio shell that frames a byte stream
into messages for the same sans-I/O core the UDP socket feeds.

One connection per peer address, accepted or opened by us (a trunk); a message is its
headers up to the blank line plus Content-Length bytes of body (a stream without it is
closed: there is no other way to find the next message). CRLF keep-alives are skipped.
Messages the core sends to an address with a live connection go down that connection;
everything else goes out over UDP. Limits: 64 KiB per message, an idle connection is
closed after `idle_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import Callable

from agentgraph.transports.sip.events import Addr

__all__ = ["MAX_MESSAGE", "StreamTransport", "server_tls_context"]

log = logging.getLogger(__name__)
MAX_MESSAGE = 65536
_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*\r?$", re.I | re.M)


def server_tls_context(cert: str, key: str) -> ssl.SSLContext:
    """A TLS server context from PEM files (the graph's `sip.tls`)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


class StreamTransport:
    """TCP/TLS connections by peer address; `on_message(data, addr)` gets each message."""

    def __init__(self, on_message: Callable[[bytes, Addr], None], *, idle_s: float = 300.0):
        self.on_message = on_message
        self.idle_s = idle_s
        self.conns: dict[Addr, asyncio.StreamWriter] = {}
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def listen(self, host: str, port: int, context: ssl.SSLContext | None = None) -> int:
        """Accept connections on host:port (TLS with `context`); returns the port."""
        server = await asyncio.start_server(self._accepted, host, port, ssl=context)
        self._servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    async def connect(self, addr: Addr, context: ssl.SSLContext | None = None) -> None:
        """Open a connection to `addr` (a trunk) unless one is up."""
        if addr in self.conns:
            return
        reader, writer = await asyncio.open_connection(addr[0], addr[1], ssl=context)
        self._start(reader, writer, addr)

    def send(self, data: bytes, addr: Addr) -> bool:
        """Write to the connection with `addr`; False when there is none (use UDP)."""
        writer = self.conns.get(addr)
        if writer is None or writer.is_closing():
            return False
        writer.write(data)
        return True

    async def close(self) -> None:
        for server in self._servers:
            server.close()
        for writer in list(self.conns.values()):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        self._start(reader, writer, (str(peer[0]), int(peer[1])))

    def _start(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, addr: Addr
    ) -> None:
        old = self.conns.get(addr)
        if old is not None:
            old.close()
        self.conns[addr] = writer
        task = asyncio.ensure_future(self._read(reader, writer, addr))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, addr: Addr
    ) -> None:
        try:
            while True:
                message = await asyncio.wait_for(_next_message(reader), self.idle_s)
                if message is None:
                    break
                self.on_message(message, addr)
        except (TimeoutError, ConnectionError, ssl.SSLError, asyncio.IncompleteReadError) as exc:
            log.debug("SIP stream from %s:%s ended: %s", addr[0], addr[1], exc)
        except ValueError as exc:  # framing: over the limit or no Content-Length
            log.info("closing SIP stream from %s:%s: %s", addr[0], addr[1], exc)
        finally:
            if self.conns.get(addr) is writer:
                del self.conns[addr]
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def _next_message(reader: asyncio.StreamReader) -> bytes | None:
    """The next whole message, or None at end of stream. Raises ValueError on bad framing."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                raise ValueError("stream ended inside a message") from None
            return None
        except asyncio.LimitOverrunError:
            raise ValueError(f"message headers over {MAX_MESSAGE} bytes") from None
        head = head.lstrip(b"\r\n")
        if head:
            break  # else: CRLF keep-alives
    if len(head) > MAX_MESSAGE:
        raise ValueError(f"message headers over {MAX_MESSAGE} bytes")
    found = _LENGTH.search(head)
    if found is None:
        raise ValueError("a message on a stream needs Content-Length")
    length = int(found.group(1))
    if len(head) + length > MAX_MESSAGE:
        raise ValueError(f"message over {MAX_MESSAGE} bytes")
    body = await reader.readexactly(length) if length else b""
    return head + body
