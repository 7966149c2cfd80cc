"""RTP media for SIP calls: one UDP endpoint per call, one shared 20 ms pacer.

`RtpPacer` wakes every 20 ms on `loop.call_at()` against an absolute schedule (no drift)
and asks every active `RtpStream` for one frame, so 100 calls cost one timer, not 100.
Each stream pulls 160 bytes of G.711 from its `PlayoutBuffer` (silence when empty, so the
far end sees a continuous stream), or sends the next RFC 4733 packet when a DTMF digit is
queued. Received packets go through a jitter buffer; audio frames land in `audio_in`,
telephone-events become digits in `dtmf_in`. Send timing is recorded per packet (the
deviation of each inter-departure interval from 20 ms) for the benchmark.

Where media goes. We send to the SDP address. Symmetric RTP (RFC 4961) for callers
behind NAT: within `LATCH_WINDOW_S` of the answer, the first valid packet from the SDP
host or the signalling host (any port) becomes the destination; a packet from the exact
SDP address always takes it back, and once it has been heard nothing else can latch.
A new SSRC (a phone restarting its stream) resets the sequence state, so a lower
sequence number is not taken for late packets.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections import deque
from collections.abc import Callable

from agentgraph.audio import AudioFormat
from agentgraph.errors import ProtocolError
from agentgraph.transports.base import PlayoutBuffer
from agentgraph.transports.sip.dtmf import DtmfEvent, DtmfReceiver, dtmf_packets
from agentgraph.transports.sip.jitter import JitterBuffer
from agentgraph.transports.sip.rtp import RtpHeaderWriter, RtpPacket
from agentgraph.transports.sip.sdp import NegotiatedMedia
from agentgraph.transports.sip.srtp import SrtpContext

__all__ = ["FRAME_BYTES", "FRAME_S", "RtpPacer", "RtpStream", "SendTiming"]

log = logging.getLogger(__name__)
FRAME_S = 0.020
FRAME_BYTES = 160  # 20 ms of 8 kHz G.711
_FIXED = struct.Struct("!BBHII")
MAX_QUEUED_FRAMES = 500  # 10 s of caller audio not yet consumed
LATCH_WINDOW_S = 3.0


class SendTiming:
    """Histogram of |interval - 20 ms| between consecutive packets of a stream (0.1 ms bins)."""

    __slots__ = ("bins", "count", "max_s")

    def __init__(self) -> None:
        self.bins = [0] * 1001  # last bin: >= 100 ms
        self.count = 0
        self.max_s = 0.0

    def add(self, deviation_s: float) -> None:
        self.count += 1
        if deviation_s > self.max_s:
            self.max_s = deviation_s
        self.bins[min(int(deviation_s * 10_000), 1000)] += 1

    def merge(self, other: SendTiming) -> None:
        self.count += other.count
        self.max_s = max(self.max_s, other.max_s)
        for i, n in enumerate(other.bins):
            self.bins[i] += n

    def percentile_ms(self, q: float) -> float:
        """Upper edge of the bin holding quantile `q` (0..1), in ms."""
        if not self.count:
            return 0.0
        target = q * self.count
        seen = 0
        for i, n in enumerate(self.bins):
            seen += n
            if seen >= target:
                return (i + 1) / 10
        return 100.0


class RtpStream(asyncio.DatagramProtocol):
    """The RTP leg of one call (asyncio shell around rtp/dtmf/jitter)."""

    def __init__(self, *, ssrc: int, sequence: int, timestamp: int) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.media: NegotiatedMedia | None = None
        self.playout = PlayoutBuffer(AudioFormat.G711_ULAW)
        self.audio_in: asyncio.Queue[bytes] = asyncio.Queue()
        self.dtmf_in: asyncio.Queue[str] = asyncio.Queue()
        self.on_dtmf: Callable[[str], None] | None = None
        self.on_heard: Callable[[], None] | None = None  # first frame of agent audio sent
        self.timing = SendTiming()
        self.packets_sent = 0
        self.packets_received = 0
        self.packets_dropped = 0
        self.agent_frames_sent = 0  # frames that carried agent audio (the caller heard it)
        self.jitter_ms = 0.0  # RFC 3550 §6.4.1 interarrival jitter of the caller's audio
        self._lost_before = 0  # losses counted by earlier jitter buffers (SSRC changes)
        self._ssrc: int | None = None
        self._transit: float | None = None
        self._sdp_heard = False
        self._latch_until = 0.0
        self._srtp: SrtpContext | None = None
        self._writer = RtpHeaderWriter(0, ssrc=ssrc, sequence=sequence, timestamp=timestamp)
        self._jitter = JitterBuffer()
        self._dtmf_rx = DtmfReceiver()
        self._dtmf_out: deque[tuple[str, list[DtmfEvent]]] = deque()
        self._dtmf_ts: int | None = None
        self._last_send: float | None = None
        self._dest: tuple[str, int] | None = None
        self._latched = False
        self.signaling_host: str | None = None
        self._loop = asyncio.get_running_loop()

    # --- asyncio.DatagramProtocol -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        media = self.media
        if media is None:
            self.packets_dropped += 1
            return
        if self._srtp is not None:
            try:
                data = self._srtp.unprotect(data)
            except ValueError:  # not authentic (or replayed): never reaches the caller's audio
                self.packets_dropped += 1
                return
        if len(data) >= 12 and data[0] == 0x80:  # fast path: no CSRC/extension/padding
            _, b1, seq, ts, ssrc = _FIXED.unpack_from(data)
            pt, payload = b1 & 0x7F, data[12:]
        else:
            try:
                pkt = RtpPacket.parse(data)
            except ProtocolError as exc:
                self.packets_dropped += 1
                log.debug("dropped RTP from %s: %s", addr, exc)
                return
            pt, seq, ts, payload = pkt.payload_type, pkt.sequence, pkt.timestamp, pkt.payload
            ssrc = pkt.ssrc
        if pt != media.codec.payload_type and pt != media.dtmf_payload_type:
            self.packets_dropped += 1  # comfort noise, an unnegotiated type, or junk
            return
        if addr != self._dest and not self._latch(addr, media):
            self.packets_dropped += 1
            return
        self._latched = True
        self.packets_received += 1
        if ssrc != self._ssrc:
            self._new_source(ssrc)
        if pt == media.codec.payload_type:
            now = self._loop.time()
            self._track_jitter(now, ts)
            self._jitter.push(seq, payload, now)
            for frame in self._jitter.pop_due(now):
                self._deliver(frame)
            return
        try:
            digit = self._dtmf_rx.receive(ts, payload)
        except ProtocolError:
            self.packets_dropped += 1
            return
        if digit is not None:
            self.dtmf_in.put_nowait(digit)
            if self.on_dtmf is not None:
                self.on_dtmf(digit)

    def _latch(self, addr: tuple[str, int], media: NegotiatedMedia) -> bool:
        """Whether a packet from `addr` (not the current destination) may move it there."""
        if addr == (media.remote_host, media.remote_port):
            self._sdp_heard = True  # the advertised address always wins
        elif (
            self._latched
            or self._sdp_heard
            or addr[0] not in (media.remote_host, self.signaling_host)
            or self._loop.time() > self._latch_until
        ):
            return False
        self._dest = (addr[0], addr[1])
        return True

    def _new_source(self, ssrc: int) -> None:
        # RFC 3550 §8.2: a new SSRC is a new stream; its sequence numbers start afresh.
        if self._ssrc is not None:
            self._lost_before += self._jitter.lost
            for frame in self._jitter.pop_due(float("inf")):
                self._deliver(frame)
            self._jitter = JitterBuffer()
            self._dtmf_rx = DtmfReceiver()
            self._transit = None
        self._ssrc = ssrc

    def _track_jitter(self, now: float, timestamp: int) -> None:
        transit = now * 8000 - timestamp
        if self._transit is not None:
            d = abs(transit - self._transit)
            if d < 8000 * 10:  # ignore timestamp jumps (silence suppression, wraps)
                self.jitter_ms += (d / 8 - self.jitter_ms) / 16
        self._transit = transit

    @property
    def packets_lost(self) -> int:
        """Caller packets never received (gaps the jitter buffer gave up on)."""
        return self._lost_before + self._jitter.lost

    def _deliver(self, frame: bytes) -> None:
        if self.audio_in.qsize() >= MAX_QUEUED_FRAMES:
            self.audio_in.get_nowait()  # nobody is reading: keep the newest audio
        self.audio_in.put_nowait(frame)

    def error_received(self, exc: Exception) -> None:
        log.debug("RTP socket error: %s", exc)

    # --- control ------------------------------------------------------------------------

    @property
    def local_port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def set_media(self, media: NegotiatedMedia) -> None:
        """Apply negotiated media (first answer or a re-INVITE); new SRTP keys, new
        SRTP sessions."""
        if media.srtp_keys is None:
            self._srtp = None
        elif self._srtp is None or self.media is None or self.media.srtp_keys != media.srtp_keys:
            self._srtp = SrtpContext(*media.srtp_keys)
        self.media = media
        self._writer.payload_type = media.codec.payload_type
        fmt = AudioFormat.G711_ALAW if media.codec.name == "PCMA" else AudioFormat.G711_ULAW
        if fmt is not self.playout.audio_format:
            tracker = self.playout.tracker
            self.playout = PlayoutBuffer(fmt, tracker=tracker)
        self._dest = (media.remote_host, media.remote_port)
        self._latched = False
        self._sdp_heard = False
        self._latch_until = self._loop.time() + LATCH_WINDOW_S

    def send_dtmf(self, digit: str, *, duration_ms: int = 100) -> None:
        """Queue a digit to send as RFC 4733 events (needs a negotiated telephone-event)."""
        self._dtmf_out.append((digit, dtmf_packets(digit, duration_ms=duration_ms)))

    def flush_jitter(self, now: float) -> None:
        """Release frames whose gap waited too long (called by the pacer)."""
        if len(self._jitter):
            for frame in self._jitter.pop_due(now):
                self._deliver(frame)

    def tick(self, now: float) -> None:
        """Send one 20 ms frame (the pacer calls this every 20 ms)."""
        media, transport = self.media, self.transport
        if media is None or transport is None or self._dest is None:
            return
        if media.direction in ("recvonly", "inactive") or media.remote_host == "0.0.0.0":
            self._writer.timestamp = (self._writer.timestamp + FRAME_BYTES) & 0xFFFFFFFF
            self.playout.pull(FRAME_BYTES)  # on hold: time passes, nothing is sent
            self._last_send = None
            return
        if self._dtmf_out and media.dtmf_payload_type is not None:
            data = self._dtmf_packet(media.dtmf_payload_type)
        else:
            if self.playout.buffered_bytes:
                self.agent_frames_sent += 1
                if self.agent_frames_sent == 1 and self.on_heard is not None:
                    self.on_heard()
            data = self._writer.packet(self.playout.pull(FRAME_BYTES), samples=FRAME_BYTES)
        if self._srtp is not None:
            data = self._srtp.protect(data)
        transport.sendto(data, self._dest)
        self.packets_sent += 1
        sent = self._loop.time()
        if self._last_send is not None:
            self.timing.add(abs(sent - self._last_send - FRAME_S))
        self._last_send = sent

    def _dtmf_packet(self, payload_type: int) -> bytes:
        _digit, events = self._dtmf_out[0]
        first = self._dtmf_ts is None
        if first:
            self._dtmf_ts = self._writer.timestamp
        event = events.pop(0)
        ts_now = self._writer.timestamp
        self._writer.timestamp = self._dtmf_ts or 0  # RFC 4733 §2.5.1.2: one timestamp
        data = self._writer.packet(
            event.serialize(), samples=0, marker=first, payload_type=payload_type, advance=False
        )
        self._writer.timestamp = (ts_now + FRAME_BYTES) & 0xFFFFFFFF
        if not events:
            self._dtmf_out.popleft()
            self._dtmf_ts = None
        return data

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class RtpPacer:
    """One 20 ms clock for every stream; re-arms `loop.call_at` on an absolute grid."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._streams: set[RtpStream] = set()
        self._handle: asyncio.TimerHandle | None = None
        self._next = 0.0
        self.late_ticks = 0

    def add(self, stream: RtpStream) -> None:
        self._streams.add(stream)
        if self._handle is None:
            self._next = self._loop.time() + FRAME_S
            self._handle = self._loop.call_at(self._next, self._tick)

    def remove(self, stream: RtpStream) -> None:
        self._streams.discard(stream)
        if not self._streams and self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        now = self._loop.time()
        for stream in list(self._streams):
            stream.flush_jitter(now)
            try:
                stream.tick(now)
            except Exception:  # one broken call must not stop every call's audio
                log.exception("RTP send failed")
                self._streams.discard(stream)
        self._next += FRAME_S
        if now - self._next > 5 * FRAME_S:  # stalled loop: resync rather than burst
            self.late_ticks += 1
            self._next = now + FRAME_S
        self._handle = self._loop.call_at(self._next, self._tick) if self._streams else None

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._streams.clear()
