"""Denial-of-service attacks on the SIP and RTP ports, reproduced on loopback (issue 12).

Each test plays the attacker with real UDP sockets (127.0.0.x addresses stand in for
other networks) against a real `SipServer`, then checks what a legitimate caller notices:
they are still answered, their media still flows, and nobody can make the server
resolve a name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator

import pytest

from agentgraph.transports.sip.events import SipConfig
from agentgraph.transports.sip.media import RtpStream
from agentgraph.transports.sip.rtp import RtpPacket
from agentgraph.transports.sip.sdp import Codec, NegotiatedMedia
from agentgraph.transports.sip.server import SipCall, SipServer
from tests.sip.udp_phone import Phone, to_tag


async def hold(call: SipCall) -> None:
    await call.ended.wait()


@pytest.fixture
async def server(request: pytest.FixtureRequest) -> AsyncIterator[SipServer]:
    kw = getattr(request, "param", {})
    config = SipConfig(host="127.0.0.1", port=0, **kw)
    async with SipServer(config, on_call=hold) as srv:
        yield srv


# no rate limit here: every datagram of the flood reaches the allow-list check
ALLOW_127_0_0_2 = {"allow": (ipaddress.ip_network("127.0.0.2/32"),), "rate_per_s": 0.0}


@pytest.mark.parametrize("server", [ALLOW_127_0_0_2], indirect=True)
async def test_flood_from_a_refused_network_keeps_no_state(server: SipServer) -> None:
    attacker, caller = Phone("127.0.0.3"), Phone("127.0.0.2")
    try:
        i = 0
        # more INVITEs than the 4,096-entry transaction table holds (the kernel drops some)
        while server.core.refused.get("not allowed", 0) <= 4200 and i < 40_000:
            for _ in range(50):
                attacker.invite(server.address, f"flood-{i}")
                i += 1
            await asyncio.sleep(0.005)  # let the server read: the socket buffer is finite
            attacker.drain()
        assert server.core.refused["not allowed"] > 4096  # each refused with a 403
        caller.invite(server.address, "legit")
        got = await caller.responses(until=200)
        assert [r.status for r in got][-1] == 200  # answered at once, not after ~40 s
    finally:
        attacker.close()
        caller.close()


@pytest.mark.parametrize("server", [{"rate_per_s": 20.0, "rate_burst": 40.0}], indirect=True)
async def test_rate_limit_per_source_spares_other_callers(server: SipServer) -> None:
    flooder, caller = Phone("127.0.0.4"), Phone("127.0.0.5")
    try:
        for i in range(500):
            options = flooder.request("OPTIONS", server.address, call_id=f"o{i}")
            flooder.send(options, server.address)
            if i % 50 == 49:
                await asyncio.sleep(0.005)  # let the server read: the socket buffer is finite
        await asyncio.sleep(0.3)
        answered = flooder.drain()
        assert 40 <= answered < 100  # the burst, plus what refilled meanwhile
        assert server.core.rate_limited > 0
        caller.invite(server.address, "legit")
        assert [r.status for r in await caller.responses(until=200)][-1] == 200
    finally:
        flooder.close()
        caller.close()


@pytest.mark.parametrize("server", [{"max_calls": 4, "ack_grace_s": 0.3}], indirect=True)
async def test_unacked_invites_cannot_hold_every_slot(server: SipServer) -> None:
    attacker, caller = Phone("127.0.0.6"), Phone("127.0.0.7")
    try:
        for i in range(4):  # answered, never ACKed: each would be held for 32 s
            attacker.invite(server.address, f"half-{i}")
        await asyncio.sleep(0.6)  # their ACKs are now overdue
        assert server.core.half_open_calls == 4
        attacker.invite(server.address, "half-4")  # no more while its others are unACKed
        assert [r.status for r in await attacker.responses(until=503)][-1] == 503
        assert server.core.refused["half-open"] == 1
        for i in range(4):  # callers that ACK take the slots the unACKed dialogs held
            caller.invite(server.address, f"legit-{i}")
            ok = (await caller.responses(until=200))[-1]
            assert ok.status == 200
            ack = caller.request("ACK", server.address, call_id=f"legit-{i}", to_tag=to_tag(ok))
            caller.send(ack, server.address)
        await asyncio.sleep(0.2)
        assert sum(1 for c in server.calls.values() if c.started) == 4
        assert "capacity" not in server.core.refused
    finally:
        attacker.close()
        caller.close()


@pytest.mark.parametrize("server", [{}], indirect=True)
async def test_sdp_host_name_is_refused_without_a_lookup(server: SipServer) -> None:
    caller = Phone("127.0.0.1")
    try:
        caller.invite(server.address, "named", sdp_host="evil.example")
        got = await caller.responses(until=488)
        assert [r.status for r in got] == [488]
        assert "not a literal IP address" in (got[0].headers.get("Warning") or "")
        assert not server.calls  # no call, no RTP socket, nothing sent anywhere
    finally:
        caller.close()


# --- RTP -----------------------------------------------------------------------------


async def open_stream() -> RtpStream:
    loop = asyncio.get_running_loop()
    stream = RtpStream(ssrc=1, sequence=1, timestamp=0)
    transport, _ = await loop.create_datagram_endpoint(lambda: stream, local_addr=("127.0.0.1", 0))
    stream.connection_made(transport)
    return stream


def udp(host: str = "127.0.0.1") -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    s.settimeout(2)
    return s


def rtp(seq: int, *, ssrc: int = 7, fill: int = 0x55) -> bytes:
    return RtpPacket(0, seq, seq * 160, ssrc, bytes([fill]) * 160).serialize()


async def test_rtp_from_another_port_cannot_take_over_the_callers_media() -> None:
    stream = await open_stream()
    phone, intruder = udp(), udp()
    try:
        port = phone.getsockname()[1]
        stream.set_media(NegotiatedMedia("127.0.0.1", port, Codec(0, "PCMU"), None, "sendrecv"))
        stream.signaling_host = "127.0.0.1"
        intruder.sendto(rtp(1, ssrc=99), ("127.0.0.1", stream.local_port))  # first, too
        await asyncio.sleep(0.05)
        phone.sendto(rtp(1), ("127.0.0.1", stream.local_port))
        await asyncio.sleep(0.05)
        intruder.sendto(rtp(2, ssrc=99), ("127.0.0.1", stream.local_port))
        await asyncio.sleep(0.05)
        stream.tick(0.0)
        assert len(phone.recv(2048)) == 172  # the caller still hears us
        intruder.settimeout(0.2)
        with pytest.raises(TimeoutError):
            intruder.recv(2048)
    finally:
        stream.close()
        phone.close()
        intruder.close()


async def test_rtp_latching_closes_after_its_window() -> None:
    stream = await open_stream()
    nat = udp()
    try:
        # the SDP names an unreachable private address; after the window nothing latches
        stream.set_media(NegotiatedMedia("192.0.2.9", 4000, Codec(0, "PCMU"), None, "sendrecv"))
        stream.signaling_host = "127.0.0.1"
        stream._latch_until = 0.0  # the window has passed
        nat.sendto(rtp(1), ("127.0.0.1", stream.local_port))
        await asyncio.sleep(0.05)
        assert stream.packets_received == 0 and stream.packets_dropped == 1
    finally:
        stream.close()
        nat.close()


async def test_new_ssrc_with_lower_sequence_is_heard() -> None:
    stream = await open_stream()
    phone = udp()
    try:
        port = phone.getsockname()[1]
        stream.set_media(NegotiatedMedia("127.0.0.1", port, Codec(0, "PCMU"), None, "sendrecv"))
        for seq in range(30000, 30010):
            phone.sendto(rtp(seq, ssrc=1111, fill=0x11), ("127.0.0.1", stream.local_port))
        await asyncio.sleep(0.1)
        # the phone restarts its stream: new SSRC, sequence numbers far below
        for seq in range(100, 110):
            phone.sendto(rtp(seq, ssrc=2222, fill=0x22), ("127.0.0.1", stream.local_port))
        await asyncio.sleep(0.1)
        stream.flush_jitter(asyncio.get_running_loop().time() + 1)
        frames = [stream.audio_in.get_nowait() for _ in range(stream.audio_in.qsize())]
        assert sum(1 for f in frames if f[0] == 0x22) >= 9  # not muted for 600 s
    finally:
        stream.close()
        phone.close()
