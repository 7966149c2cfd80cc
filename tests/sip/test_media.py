"""The RTP shell on real loopback sockets: two streams talk to each other through the
shared 20 ms pacer (audio both ways, RFC 4733 digits out and in, symmetric-RTP latching)."""

from __future__ import annotations

import asyncio
import socket

from agentgraph.transports.sip.media import RtpPacer, RtpStream
from agentgraph.transports.sip.rtp import RtpPacket
from agentgraph.transports.sip.sdp import Codec, NegotiatedMedia


async def open_stream(ssrc: int) -> RtpStream:
    loop = asyncio.get_running_loop()
    stream = RtpStream(ssrc=ssrc, sequence=65530, timestamp=1000)
    transport, _ = await loop.create_datagram_endpoint(lambda: stream, local_addr=("127.0.0.1", 0))
    stream.connection_made(transport)
    return stream


PCMU = Codec(0, "PCMU")


def media_to(port: int) -> NegotiatedMedia:
    return NegotiatedMedia("127.0.0.1", port, PCMU, 101, "sendrecv")


async def test_two_streams_exchange_audio_and_dtmf() -> None:
    a, b = await open_stream(1), await open_stream(2)
    a.set_media(media_to(b.local_port))
    b.set_media(media_to(a.local_port))
    pacer = RtpPacer()
    pacer.add(a)
    pacer.add(b)
    try:
        frames = [bytes([0x10 + i]) * 160 for i in range(10)]
        for frame in frames:
            a.playout.push("item", 0, frame)
        a.send_dtmf("7", duration_ms=60)
        got: list[bytes] = []
        while len(got) < 12:  # sequence numbers wrap at 65535 on the way
            got.append(await asyncio.wait_for(b.audio_in.get(), 2))
        digit = await asyncio.wait_for(b.dtmf_in.get(), 2)
    finally:
        pacer.close()
        a.close()
        b.close()
    assert digit == "7"
    # the digit's packets took the first five ticks; then the queued audio, in order
    assert [f for f in got if f in frames] == frames
    assert a.timing.count > 10


async def test_latches_to_the_first_peer_and_drops_others() -> None:
    stream = await open_stream(3)
    # the SDP says 192.0.2.1 (unreachable); the phone really sends from 127.0.0.1
    stream.set_media(NegotiatedMedia("192.0.2.1", 4000, Codec(0, "PCMU"), None, "sendrecv"))
    stream.signaling_host = "127.0.0.1"
    packet = RtpPacket(0, 1, 160, 9, b"\x55" * 160).serialize()
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as phone,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as intruder,
    ):
        phone.bind(("127.0.0.1", 0))
        phone.sendto(packet, ("127.0.0.1", stream.local_port))
        assert await asyncio.wait_for(stream.audio_in.get(), 2) == b"\x55" * 160
        intruder.sendto(
            RtpPacket(0, 2, 320, 9, b"\x66" * 160).serialize(), ("127.0.0.1", stream.local_port)
        )
        await asyncio.sleep(0.1)
        stream.tick(0.0)  # our next packet goes to where the phone really is
        phone.settimeout(2)
        reply = RtpPacket.parse(phone.recv(2048))
    stream.close()
    assert stream.packets_dropped == 1 and stream.audio_in.empty()
    assert reply.ssrc == 3 and len(reply.payload) == 160
