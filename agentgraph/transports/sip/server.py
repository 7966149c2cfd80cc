"""The asyncio shell of the SIP UAS: one UDP socket for SIP, one per call for RTP.

Every callback does the same steps (STYLE.md §b): feed the core, write
`datagrams_to_send()`, re-arm the single deadline timer, dispatch `events_received()`.
An `IncomingCall` opens the call's RTP socket and answers with its port; `CallConfirmed`
starts the application's `on_call(call)` coroutine (one task per call); `CallEnded`
releases the media. No protocol rules live here.

`drain()` stops taking calls (the core answers OPTIONS and INVITEs with 503) while the
current ones go on; `wait_idle()` returns when the last has ended. `hangup()` lets agent
audio already queued play out first (bounded by `goodbye_s`), so a goodbye is heard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from agentgraph.audio import AudioFormat
from agentgraph.errors import AgentGraphError, InvalidState
from agentgraph.transports.sip.events import (
    Addr,
    CallConfirmed,
    CallEnded,
    CallMedia,
    CallProgress,
    DtmfReceived,
    IncomingCall,
    MessageDropped,
    Registered,
    RegistrationFailed,
    SipConfig,
    SipEvent,
    TransferResult,
)
from agentgraph.transports.sip.media import FRAME_S, RtpPacer, RtpStream, SendTiming
from agentgraph.transports.sip.protocol import SipServerProtocol
from agentgraph.transports.sip.stream import StreamTransport

__all__ = ["CallHandler", "Preparer", "SipCall", "SipServer", "loopback_handler"]

log = logging.getLogger(__name__)


class SipCall:
    """One answered call as the application sees it; also the session's `call_control`."""

    def __init__(self, server: SipServer, incoming: IncomingCall, rtp: RtpStream) -> None:
        self.call_id = incoming.call_id
        self.caller = incoming.caller
        self.callee = incoming.callee
        self.remote_addr = incoming.remote_addr
        self.rtp = rtp
        self.ended = asyncio.Event()
        self.end_reason = ""
        self.transfer_status: int | None = None
        self.prepared: Any = None  # what `SipServer.prepare` returned (e.g. a live session)
        self.started = False
        self.outbound = False
        self.ringing = False  # an outgoing call got 180/183
        self._server = server
        self._transfer_done: asyncio.Future[int] | None = None

    @property
    def audio_format(self) -> AudioFormat:
        """G.711 flavour negotiated on the RTP leg (what the model should speak)."""
        media = self.rtp.media
        if media is not None and media.codec.name == "PCMA":
            return AudioFormat.G711_ALAW
        return AudioFormat.G711_ULAW

    async def hangup(self) -> None:
        """End the call with a BYE (CallControl), once the agent audio already queued
        (a goodbye) has played: at most `SipServer.goodbye_s`, and a quiet 100 ms."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._server.goodbye_s
        quiet = 0
        while not self.ended.is_set() and quiet < 5 and loop.time() < deadline:
            quiet = 0 if self.rtp.playout.buffered_bytes else quiet + 1
            await asyncio.sleep(FRAME_S)
        if not self.ended.is_set():
            self._server.protocol_hangup(self.call_id)

    def hangup_now(self) -> None:
        """BYE at once (shutdown)."""
        self._server.protocol_hangup(self.call_id)

    async def transfer(self, target: str, *, timeout_s: float = 10.0) -> None:
        """Blind transfer by REFER (CallControl); waits for the REFER's answer.

        Raises:
            InvalidState: the call is not connected, or the transfer was refused.
        """
        self._transfer_done = asyncio.get_running_loop().create_future()
        self._server.protocol_refer(self.call_id, target)
        try:
            status = await asyncio.wait_for(asyncio.shield(self._transfer_done), timeout_s)
        except TimeoutError:
            status = 408
        if status >= 300:
            raise InvalidState(f"transfer to {target} failed with SIP {status}")

    def _transfer_event(self, event: TransferResult) -> None:
        self.transfer_status = event.status
        if self._transfer_done is not None and not self._transfer_done.done():
            self._transfer_done.set_result(event.status)


CallHandler = Callable[[SipCall], Awaitable[None]]
Preparer = Callable[[IncomingCall], Awaitable[Any]]


async def _release(prepared: Any) -> None:
    aclose = getattr(prepared, "aclose", None)
    if aclose is not None:
        try:
            await aclose()
        except Exception as exc:
            log.debug("releasing a prepared call failed: %s", exc)


async def loopback_handler(call: SipCall) -> None:
    """Echo the caller's audio back (tests and the SIP+RTP benchmark)."""
    ended = asyncio.ensure_future(call.ended.wait())
    try:
        while not call.ended.is_set():
            getter = asyncio.ensure_future(call.rtp.audio_in.get())
            done, _ = await asyncio.wait({getter, ended}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                call.rtp.playout.push("echo", 0, getter.result())
            else:
                getter.cancel()
    finally:
        ended.cancel()


class _SipEndpoint(asyncio.DatagramProtocol):
    def __init__(self, server: SipServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.server._datagram(data, (addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:
        log.debug("SIP socket error: %s", exc)


class SipServer:
    """Answer SIP calls on UDP and run `on_call` for each connected call.

    Args:
        config: the UAS settings (advertised host/port are filled in by `start()` when
            `config.port` is 0).
        on_call: coroutine run once per confirmed call; when it returns we hang up.
        rtp_host: address to bind RTP sockets on (default: the SIP host); the SDP names
            `config.advertise` when set, else this address.
        rtp_ports: (first, last) port range for RTP (even ports); default: any free port.
        goodbye_s: how long `hangup()` waits for queued agent audio to play.
        on_call_end: called with each call that ends (metrics, records).
        tcp: also take SIP over TCP on the same port number.
        tls: also take SIP over TLS (this server context) on `config.tls_port`.
        answer_delay_s: let it ring this long before answering (the caller may CANCEL).
        prepare: run while it rings (e.g. connect the model); its result is
            `call.prepared`; if it raises, the caller gets 503. A result with `aclose()`
            is closed when the call ends before `on_call` runs.
    """

    def __init__(
        self,
        config: SipConfig,
        *,
        on_call: CallHandler = loopback_handler,
        rtp_host: str | None = None,
        answer_delay_s: float = 0.0,
        prepare: Preparer | None = None,
        rtp_ports: tuple[int, int] | None = None,
        goodbye_s: float = 8.0,
        on_call_end: Callable[[SipCall], None] | None = None,
        tcp: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.config = config
        self.answer_delay_s = answer_delay_s
        self.prepare = prepare
        self.on_call = on_call
        self.rtp_host = rtp_host or config.host
        self.rtp_ports = rtp_ports
        self.goodbye_s = goodbye_s
        self.on_call_end = on_call_end
        self.tcp = tcp
        self.tls = tls
        self.streams: StreamTransport | None = None
        self.calls: dict[str, SipCall] = {}
        self.completed_calls = 0
        self.failed_calls = 0
        self.answered_calls = 0  # calls where the caller heard agent audio
        self.refused_unprepared = 0  # 503 because `prepare` failed (no model)
        self.registration: Registered | RegistrationFailed | None = None
        self.registrations = 0  # successful REGISTERs, refreshes included
        self.registration_changed = asyncio.Event()
        self._port_cursor: int | None = None
        self.timing = SendTiming()
        self.rtp_packets_sent = 0
        self.rtp_packets_received = 0
        self._core: SipServerProtocol | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._pacer: RtpPacer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending: dict[str, RtpStream] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def address(self) -> Addr:
        assert self._transport is not None, "server not started"
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    async def start(self) -> SipServer:
        """Bind the SIP socket (port 0 picks a free one)."""
        self._loop = asyncio.get_running_loop()
        transport, _ = await self._loop.create_datagram_endpoint(
            lambda: _SipEndpoint(self), local_addr=(self.config.host, self.config.port)
        )
        self._transport = transport
        port = int(transport.get_extra_info("sockname")[1])
        if port != self.config.port:
            from dataclasses import replace

            self.config = replace(self.config, port=port)
        if self.tcp or self.tls is not None:
            from dataclasses import replace

            self.streams = StreamTransport(self._datagram)
            if self.tcp:
                await self.streams.listen(self.config.host, port)
            if self.tls is not None:
                tls_port = await self.streams.listen(
                    self.config.host, self.config.tls_port, self.tls
                )
                self.config = replace(self.config, tls_port=tls_port)
        self._core = SipServerProtocol(self.config)
        self._pacer = RtpPacer()
        return self

    @property
    def core(self) -> SipServerProtocol:
        """The sans-I/O core (its counters: `refused`, `rate_limited`, `half_open_calls`)."""
        assert self._core is not None, "server not started"
        return self._core

    @property
    def draining(self) -> bool:
        return self._core is not None and self._core.draining

    def drain(self) -> None:
        """Take no new calls (OPTIONS and INVITE get 503); current calls go on."""
        self.core.drain()

    async def wait_idle(self) -> None:
        """Return once no call is ringing, answered or connected."""
        while self.calls or self._pending or self.core.active_calls:
            await asyncio.sleep(0.1)

    async def __aenter__(self) -> SipServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Hang up every call, stop the handlers and close sockets."""
        if self._core is not None:
            for call_id in list(self.calls):
                self.protocol_hangup(call_id)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for stream in self._pending.values():
            stream.close()
        if self._pacer is not None:
            self._pacer.close()
        if self._timer is not None:
            self._timer.cancel()
        if self.streams is not None:
            await self.streams.close()
        if self._transport is not None:
            self._transport.close()

    # --- the shell loop: feed, write, re-arm, dispatch ----------------------------------

    def _now(self) -> float:
        assert self._loop is not None
        return self._loop.time()

    def _datagram(self, data: bytes, addr: Addr) -> None:
        assert self._core is not None
        self._core.receive(data, addr, self._now())
        self._flush()

    def _on_timer(self) -> None:
        assert self._core is not None
        self._timer = None
        self._core.handle_timeout(self._now())
        self._flush()

    def _flush(self) -> None:
        core, transport, loop = self._core, self._transport, self._loop
        assert core is not None and transport is not None and loop is not None
        streams = self.streams
        for data, addr in core.datagrams_to_send():
            if streams is None or not streams.send(data, addr):
                transport.sendto(data, addr)
        deadline = core.next_deadline()
        if self._timer is not None and (deadline is None or self._timer.when() != deadline):
            self._timer.cancel()
            self._timer = None
        if deadline is not None and self._timer is None:
            self._timer = loop.call_at(deadline, self._on_timer)
        for event in core.events_received():
            self._dispatch(event)

    def protocol_hangup(self, call_id: str) -> None:
        assert self._core is not None
        self._core.hangup(call_id, self._now())
        self._flush()

    def protocol_refer(self, call_id: str, target: str) -> None:
        assert self._core is not None
        self._core.refer(call_id, target, self._now())
        self._flush()

    def _dispatch(self, event: SipEvent) -> None:
        match event:
            case IncomingCall():
                task = asyncio.ensure_future(self._answer(event))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            case CallMedia(call_id=call_id, media=media):
                stream = self._pending.get(call_id)
                if stream is not None:
                    stream.set_media(media)
            case CallConfirmed(call_id=call_id):
                self._start_call(call_id)
            case CallEnded(call_id=call_id, reason=reason):
                self._finish(call_id, reason)
            case DtmfReceived(call_id=call_id, digit=digit):
                call = self.calls.get(call_id)
                if call is not None:
                    call.rtp.dtmf_in.put_nowait(digit)
            case TransferResult(call_id=call_id):
                call = self.calls.get(call_id)
                if call is not None:
                    call._transfer_event(event)
            case CallProgress(call_id=call_id):
                call = self.calls.get(call_id)
                if call is not None:
                    call.ringing = True
            case Registered(aor=aor, expires_s=expires):
                self.registration = event
                self.registrations += 1
                self.registration_changed.set()
                log.info("registered as %s for %d s", aor, expires)
            case RegistrationFailed(aor=aor, status=status, reason=reason):
                self.registration = event
                self.registration_changed.set()
                log.warning("registration of %s failed: %d %s", aor, status, reason)
            case MessageDropped(reason=reason, addr=addr):
                log.info("dropped SIP datagram from %s:%s: %s", addr[0], addr[1], reason)

    async def _answer(self, incoming: IncomingCall) -> None:
        assert self._loop is not None and self._core is not None
        if self.answer_delay_s > 0:
            await asyncio.sleep(self.answer_delay_s)
        prepared: Any = None
        if self.prepare is not None:
            # Set up what the call needs (its model session) while it rings, so a model
            # that cannot be reached gives the caller a 503 instead of dead air.
            try:
                prepared = await self.prepare(incoming)
            except Exception as exc:
                log.warning("call %s: not answered: %s", incoming.call_id, exc)
                self.refused_unprepared += 1
                with contextlib.suppress(InvalidState):  # the caller may have given up
                    self._core.reject(incoming.call_id, 503, self._now())
                self._flush()
                return
        rand = secrets.randbits(64)
        stream = RtpStream(
            ssrc=rand & 0xFFFFFFFF,
            sequence=(rand >> 32) & 0xFFFF,
            timestamp=(rand >> 16) & 0xFFFFFFFF,
        )
        try:
            transport, _ = await self._loop.create_datagram_endpoint(
                lambda: stream, sock=self._rtp_socket()
            )
        except OSError as exc:
            log.warning("no RTP port for call %s: %s", incoming.call_id, exc)
            with contextlib.suppress(InvalidState):
                self._core.reject(incoming.call_id, 503, self._now())
            self._flush()
            await _release(prepared)
            return
        stream.connection_made(transport)  # asyncio calls it later with call_soon
        stream.signaling_host = incoming.remote_addr[0]
        stream.on_heard = self._heard
        self._pending[incoming.call_id] = stream
        call = self.calls[incoming.call_id] = SipCall(self, incoming, stream)
        call.prepared = prepared
        try:
            self._core.accept(
                incoming.call_id,
                rtp_host=self.config.advertise or self.rtp_host,
                rtp_port=stream.local_port,
                now=self._now(),
            )
        except InvalidState:  # cancelled while we opened the socket
            self._finish(incoming.call_id, "cancelled")
            return
        self._flush()

    # --- outgoing --------------------------------------------------------------------

    def register(
        self,
        aor: str,
        registrar: Addr,
        *,
        credentials: tuple[str, str] | None = None,
        expires_s: int = 300,
    ) -> None:
        """REGISTER as `aor` at `registrar` and keep refreshing (`registration` says how
        it went; `registration_changed` is set on every answer)."""
        self.core.register(
            aor, registrar=registrar, credentials=credentials, expires_s=expires_s, now=self._now()
        )
        self._flush()

    async def dial(
        self,
        target: str,
        via: Addr,
        *,
        from_user: str = "agentgraph",
        credentials: tuple[str, str] | None = None,
        ring_timeout_s: float = 30.0,
        transport: str = "udp",
        tls: ssl.SSLContext | None = None,
    ) -> SipCall:
        """Call `target` (a sip: URI) through `via` (the trunk or the callee).

        Returns once the call is answered (`call.started`; `on_call` runs it) or has
        failed (`call.ended` set; `call.end_reason` says "busy", "no answer",
        "declined", "unauthorized" or "failed: <status> <reason>"). `transport` "tcp" or
        "tls" (with a client context `tls`) opens a connection to `via` first.
        """
        assert self._loop is not None
        if transport in ("tcp", "tls"):
            if self.streams is None:
                self.streams = StreamTransport(self._datagram)
            await self.streams.connect(via, tls if transport == "tls" else None)
        rand = secrets.randbits(64)
        stream = RtpStream(
            ssrc=rand & 0xFFFFFFFF, sequence=(rand >> 32) & 0xFFFF, timestamp=rand >> 32
        )
        rtp, _ = await self._loop.create_datagram_endpoint(lambda: stream, sock=self._rtp_socket())
        stream.connection_made(rtp)
        stream.signaling_host = via[0]
        stream.on_heard = self._heard
        call_id = self.core.dial(
            target,
            dest=via,
            rtp_host=self.config.advertise or self.rtp_host,
            rtp_port=stream.local_port,
            from_user=from_user,
            credentials=credentials,
            transport=transport,
            now=self._now(),
        )
        user = target.split(":", 1)[-1].split("@", 1)[0]
        incoming = IncomingCall(call_id, f"sip:{from_user}@{self.config.public_host}", user, via)
        self._pending[call_id] = stream
        call = self.calls[call_id] = SipCall(self, incoming, stream)
        call.outbound = True
        self._flush()
        try:
            await asyncio.wait_for(self._answered_or_ended(call), ring_timeout_s)
        except TimeoutError:
            self.protocol_hangup(call_id)  # CANCEL; the 487 ends it
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(call.ended.wait(), 5)
            if not call.ended.is_set():
                self._finish(call_id, "no answer")
        return call

    @staticmethod
    async def _answered_or_ended(call: SipCall) -> None:
        while not call.started and not call.ended.is_set():
            await asyncio.sleep(0.02)

    def _rtp_socket(self) -> socket.socket:
        """A UDP socket for one call's RTP, in `rtp_ports` when set (even ports)."""
        family = socket.AF_INET6 if ":" in self.rtp_host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setblocking(False)
        if self.rtp_ports is None:
            try:
                sock.bind((self.rtp_host, 0))
            except OSError:
                sock.close()
                raise
            return sock
        first, last = self.rtp_ports
        ports = list(range(first + first % 2, last + 1, 2))
        if self._port_cursor is None:  # start anywhere: ports are not guessable in order
            self._port_cursor = random.randrange(len(ports)) if ports else 0
        for i in range(len(ports)):
            index = (self._port_cursor + i) % len(ports)
            try:
                sock.bind((self.rtp_host, ports[index]))
            except OSError:
                continue
            self._port_cursor = index + 1
            return sock
        sock.close()
        raise OSError(f"every RTP port in {first}-{last} is in use")

    def _heard(self) -> None:
        self.answered_calls += 1

    def _start_call(self, call_id: str) -> None:
        call = self.calls.get(call_id)
        if call is None:
            return
        assert self._pacer is not None
        call.started = True
        self._pacer.add(call.rtp)
        task = asyncio.ensure_future(self._run_handler(call))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_handler(self, call: SipCall) -> None:
        try:
            await self.on_call(call)
        except asyncio.CancelledError:
            raise
        except AgentGraphError as exc:  # e.g. the model could not be reached: one line
            log.warning("call %s: %s", call.call_id, exc)
        except Exception:
            log.exception("call %s: handler failed", call.call_id)
        if not call.ended.is_set():
            await call.hangup()

    def _finish(self, call_id: str, reason: str) -> None:
        stream = self._pending.pop(call_id, None)
        call = self.calls.pop(call_id, None)
        if stream is not None:
            if self._pacer is not None:
                self._pacer.remove(stream)
            self.timing.merge(stream.timing)
            self.rtp_packets_sent += stream.packets_sent
            self.rtp_packets_received += stream.packets_received
            stream.close()
        if call is not None:
            call.end_reason = reason
            call.ended.set()
            if self.on_call_end is not None:
                try:
                    self.on_call_end(call)
                except Exception:  # a metrics bug must not break call handling
                    log.exception("call end observer failed")
            if not call.started and call.prepared is not None:
                task = asyncio.ensure_future(_release(call.prepared))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            if reason in ("remote hangup", "local hangup", "transferred"):
                self.completed_calls += 1
            elif reason not in ("cancelled", "busy", "no answer", "declined"):
                self.failed_calls += 1
        log.info("call %s ended: %s", call_id, reason)
