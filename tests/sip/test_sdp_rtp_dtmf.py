"""SDP offer/answer, RTP and RFC 4733 DTMF: table-driven parse/serialize."""

from __future__ import annotations

import pytest

from agentgraph.errors import ProtocolError
from agentgraph.transports.sip.dtmf import DtmfEvent, DtmfReceiver, dtmf_packets
from agentgraph.transports.sip.jitter import JitterBuffer
from agentgraph.transports.sip.rtp import RtpHeaderWriter, RtpPacket, seq_delta
from agentgraph.transports.sip.sdp import (
    NoCommonCodec,
    answer_offer,
    make_offer,
    parse_sdp,
    read_answer,
)


def offer(formats: str, extra: str = "", conn: str = "127.0.0.1") -> str:
    return (
        "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\n"
        f"c=IN IP4 {conn}\r\nt=0 0\r\nm=audio 6000 RTP/AVP {formats}\r\n{extra}"
    )


@pytest.mark.parametrize(
    ("formats", "extra", "codec", "dtmf"),
    [
        ("0", "", "PCMU", None),
        ("8 0", "", "PCMA", None),
        ("18 8 101", "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n", "PCMA", 101),
        ("96 0 97", "a=rtpmap:96 opus/48000/2\r\na=rtpmap:97 telephone-event/8000\r\n", "PCMU", 97),
        ("100", "a=rtpmap:100 pcmu/8000\r\n", "PCMU", None),
    ],
)
def test_answer_picks_offerers_first_supported_codec(
    formats: str, extra: str, codec: str, dtmf: int | None
) -> None:
    answer, media = answer_offer(
        parse_sdp(offer(formats, extra)), local_host="127.0.0.1", local_port=40000, session_id=7
    )
    assert (media.codec.name, media.dtmf_payload_type) == (codec, dtmf)
    assert (media.remote_host, media.remote_port, media.direction) == (
        "127.0.0.1",
        6000,
        "sendrecv",
    )
    reparsed = parse_sdp(answer.serialize())
    (m,) = reparsed.media
    assert m.port == 40000
    assert m.formats[0] == media.codec.payload_type
    assert reparsed.connection == "127.0.0.1"
    assert read_answer(reparsed).codec.name == codec


@pytest.mark.parametrize("formats", ["18", "9 3", "96"])
def test_no_common_codec_is_488(formats: str) -> None:
    with pytest.raises(NoCommonCodec, match="no common codec"):
        answer_offer(
            parse_sdp(offer(formats, "a=rtpmap:96 opus/48000/2\r\n")),
            local_host="127.0.0.1",
            local_port=1,
            session_id=1,
        )


@pytest.mark.parametrize(
    ("extra", "conn", "ours", "hold"),
    [
        ("a=sendonly\r\n", "127.0.0.1", "recvonly", True),
        ("a=inactive\r\n", "127.0.0.1", "inactive", True),
        ("a=recvonly\r\n", "127.0.0.1", "sendonly", False),
        ("", "0.0.0.0", "recvonly", True),
        ("a=sendrecv\r\n", "127.0.0.1", "sendrecv", False),
    ],
)
def test_hold_directions(extra: str, conn: str, ours: str, hold: bool) -> None:
    answer, media = answer_offer(
        parse_sdp(offer("0", extra, conn)), local_host="127.0.0.1", local_port=1, session_id=1
    )
    assert media.direction == ours
    assert media.on_hold is hold
    assert f"a={ours}" in answer.serialize()


def test_extra_media_lines_are_rejected_with_port_zero() -> None:
    text = offer("0") + "m=video 6002 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    answer, _ = answer_offer(parse_sdp(text), local_host="127.0.0.1", local_port=5, session_id=1)
    assert [(m.media, m.port) for m in parse_sdp(answer.serialize()).media] == [
        ("audio", 5),
        ("video", 0),
    ]


def test_offer_for_invite_without_sdp() -> None:
    ours = parse_sdp(make_offer(local_host="127.0.0.1", local_port=4000, session_id=3).serialize())
    assert ours.media[0].formats == (0, 8, 101)
    peer_answer = parse_sdp(offer("8 101", "a=rtpmap:101 telephone-event/8000\r\n"))
    media = read_answer(peer_answer)
    assert (media.codec.name, media.dtmf_payload_type) == ("PCMA", 101)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "must start with v=0"),
        ("v=0\r\ns=-\r\n", "no o= line"),
        ("v=0\r\no=x 1 1 IN IP4 h\r\nbogus\r\n", "malformed SDP line"),
        ("v=0\r\no=x 1 1 IN IP4 h\r\nc=IN\r\n", "malformed SDP c= line"),
        ("v=0\r\no=x 1 1 IN IP4 h\r\nm=audio x RTP/AVP 0\r\n", "malformed SDP m= line"),
        ("v=0\r\no=x 1 1 IN IP4 h\r\nm=audio 99999 RTP/AVP 0\r\n", "port out of range"),
        ("v=0\r\no=x 1 1 IN IP4 h\r\nm=audio 1 RTP/AVP zz\r\n", "bad RTP payload type"),
        ("v=0\r\no=x 1 1 IN IP4 h\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:x\r\n", "malformed a=rtpmap"),
    ],
)
def test_bad_sdp(text: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_sdp(text)


def test_offer_without_connection_is_an_error() -> None:
    text = "v=0\r\no=x 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\nm=audio 5 RTP/AVP 0\r\n"
    with pytest.raises(ProtocolError, match="no connection address"):
        answer_offer(parse_sdp(text), local_host="h", local_port=1, session_id=1)


# --- RTP -------------------------------------------------------------------------------

RTP_CASES = [
    RtpPacket(0, 1, 160, 0xDEADBEEF, b"\xff" * 160),
    RtpPacket(8, 65535, 2**32 - 1, 1, b"\xd5" * 4, marker=True),
    RtpPacket(101, 7, 320, 2, b"\x01\x80\x00\xa0", csrc=(1, 2, 3)),
    RtpPacket(0, 9, 480, 3, b"abc", extension=(0xBEDE, b"\x10\x01\x00\x00")),
    RtpPacket(0, 10, 640, 4, b"abcd", padding=4),
]


@pytest.mark.parametrize("packet", RTP_CASES)
def test_rtp_round_trip(packet: RtpPacket) -> None:
    assert RtpPacket.parse(packet.serialize()) == packet


def test_rtp_known_bytes() -> None:
    data = bytes.fromhex("80e0 0001 000000a0 deadbeef") + b"\x01\x02"
    pkt = RtpPacket.parse(data)
    assert (pkt.payload_type, pkt.marker, pkt.sequence, pkt.timestamp, pkt.ssrc) == (
        96,
        True,
        1,
        160,
        0xDEADBEEF,
    )
    assert pkt.payload == b"\x01\x02"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x80\x00", "too short"),
        (b"\x40" + bytes(11), "version 1 is not 2"),
        (b"\x82" + bytes(11) + bytes(4), "truncated CSRC"),
        (b"\x90" + bytes(11) + b"\xbe", "truncated extension header"),
        (b"\x90" + bytes(11) + b"\xbe\xde\x00\x02" + bytes(4), "truncated extension"),
        (b"\xa0" + bytes(11) + b"ab\x00", "bad padding length 0"),
        (b"\xa0" + bytes(11) + b"ab\x09", "bad padding length 9"),
    ],
)
def test_rtp_errors(data: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        RtpPacket.parse(data)


def test_header_writer_advances_and_wraps() -> None:
    w = RtpHeaderWriter(0, ssrc=5, sequence=65535, timestamp=2**32 - 80)
    first = RtpPacket.parse(w.packet(b"x" * 160, samples=160, marker=True))
    second = RtpPacket.parse(w.packet(b"y" * 160, samples=160))
    assert (first.sequence, first.timestamp, first.marker) == (65535, 2**32 - 80, True)
    assert (second.sequence, second.timestamp) == (0, 80)
    assert seq_delta(second.sequence, first.sequence) == 1


# --- DTMF ------------------------------------------------------------------------------


def test_dtmf_event_bytes() -> None:
    ev = DtmfEvent.parse(bytes.fromhex("058a0320"))
    assert (ev.digit, ev.end, ev.volume, ev.duration) == ("5", True, 10, 800)
    assert ev.serialize() == bytes.fromhex("058a0320")
    with pytest.raises(ProtocolError):
        DtmfEvent.parse(b"\x01")


def test_dtmf_receiver_reports_each_press_once() -> None:
    rx = DtmfReceiver()
    digits = []
    for ts, digit in ((1000, "1"), (2000, "#"), (3000, "1")):
        for ev in dtmf_packets(digit):
            got = rx.receive(ts, ev.serialize())
            if got:
                digits.append(got)
    assert digits == ["1", "#", "1"]


def test_dtmf_packets_shape() -> None:
    train = dtmf_packets("*", duration_ms=60)
    assert [e.end for e in train] == [False, False, True, True, True]
    assert train[-1].duration == 480
    with pytest.raises(ValueError, match="not a DTMF digit"):
        dtmf_packets("x")


# --- jitter buffer ---------------------------------------------------------------------


def test_jitter_buffer_reorders_and_drops_duplicates() -> None:
    jb = JitterBuffer(depth=3)
    for seq in (10, 12, 11, 11):
        jb.push(seq, bytes([seq]), now=0.0)
    assert jb.pop_due(0.0) == [b"\x0a", b"\x0b", b"\x0c"]
    assert jb.dropped == 1
    jb.push(9, b"late", 0.0)
    assert jb.dropped == 2


def test_jitter_buffer_skips_gap_after_wait_or_depth() -> None:
    jb = JitterBuffer(depth=3, max_wait_s=0.06)
    jb.push(65535, b"a", 0.0)
    assert jb.pop_due(0.0) == [b"a"]
    jb.push(1, b"c", 0.01)  # 0 missing
    assert jb.pop_due(0.02) == []
    assert jb.next_deadline() == pytest.approx(0.07)
    assert jb.pop_due(0.08) == [b"c"]
    assert jb.lost == 1
    for seq in (4, 5, 6, 7):  # 2, 3 missing; depth exceeded releases at once
        jb.push(seq, bytes([seq]), 0.1)
    assert jb.pop_due(0.1) == [b"\x04", b"\x05", b"\x06", b"\x07"]
    assert jb.lost == 3


def test_transcode_between_g711_laws_keeps_the_signal() -> None:
    import numpy as np

    from agentgraph.audio import AudioFormat, alaw_to_pcm16, pcm16_to_ulaw, ulaw_to_pcm16
    from agentgraph.transports.sip.call import transcode_g711

    t = np.arange(160) / 8000
    pcm = (8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()
    ulaw = pcm16_to_ulaw(pcm)
    alaw = transcode_g711(ulaw, AudioFormat.G711_ULAW, AudioFormat.G711_ALAW)
    assert len(alaw) == 160
    back = np.frombuffer(alaw_to_pcm16(alaw), "<i2").astype(float)
    ref = np.frombuffer(ulaw_to_pcm16(ulaw), "<i2").astype(float)
    assert np.max(np.abs(back - ref)) < 300  # within one A-law step at this level
    assert transcode_g711(alaw, AudioFormat.G711_ALAW, AudioFormat.G711_ULAW) != alaw
