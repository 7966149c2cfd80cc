"""Fuzz the SIP, SDP and RTP parsers: random and mutated input never raises anything but
ProtocolError (which the server turns into a 400 or a dropped datagram)."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentgraph.errors import ProtocolError
from agentgraph.transports.sip.message import parse_message, parse_name_addr, parse_uri, parse_via
from agentgraph.transports.sip.rtp import RtpPacket
from agentgraph.transports.sip.sdp import answer_offer, parse_sdp

SEED_SIP = (
    b"INVITE sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK1\r\n"
    b"From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: c1\r\n"
    b"CSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:5061>\r\nContent-Type: application/sdp\r\n"
    b"Content-Length: 118\r\n\r\n"
    b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=audio 6000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "dup"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(
                st.sampled_from(
                    [b"\r\n", b":", b";", b",", b"<", b'"', b" ", b"\x00", b"\xff", b"=", b"\r\n "]
                )
            )
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 20))]
        else:
            end = pos + draw(st.integers(1, 40))
            data[pos:pos] = data[pos:end]
    return bytes(data)


def _parse_all_sip(data: bytes) -> None:
    try:
        msg = parse_message(data)
    except ProtocolError:
        return
    for name in ("Via",):
        for value in msg.headers.get_all(name):
            with contextlib.suppress(ProtocolError):
                parse_via(value)
    for name in ("From", "To", "Contact"):
        value = msg.headers.get(name)
        if value:
            try:
                na = parse_name_addr(value)
                parse_uri(na.uri)
            except ProtocolError:
                pass
    msg.serialize()
    _parse_all_sdp(msg.body)


def _parse_all_sdp(data: bytes) -> None:
    try:
        desc = parse_sdp(data)
        answer_offer(desc, local_host="127.0.0.1", local_port=1, session_id=1)
        desc.serialize()
    except ProtocolError:
        pass


@SETTINGS
@given(mutated(SEED_SIP))
def test_mutated_sip_never_escapes(data: bytes) -> None:
    _parse_all_sip(data)


@SETTINGS
@given(st.binary(max_size=600))
def test_random_bytes_never_escape(data: bytes) -> None:
    _parse_all_sip(data)
    _parse_all_sdp(data)
    with contextlib.suppress(ProtocolError):
        RtpPacket.parse(data)


@SETTINGS
@given(
    st.text(
        alphabet=st.sampled_from(list("v=o0 1IN P4c.amudio/RTPAVP\r\n:;-sendonlyrtpmap")),
        max_size=300,
    )
)
def test_random_sdp_text_never_escapes(text: str) -> None:
    _parse_all_sdp(text.encode())
