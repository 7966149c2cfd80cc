"""The sans-I/O UAS core: explicit `now`, assertions on datagrams and events only."""

from __future__ import annotations

import ipaddress
import itertools

import pytest

from agentgraph.errors import InvalidState
from agentgraph.transports.sip.message import SipResponse, parse_message
from agentgraph.transports.sip.protocol import (
    CallConfirmed,
    CallEnded,
    CallMedia,
    DtmfReceived,
    IncomingCall,
    MessageDropped,
    SipConfig,
    SipServerProtocol,
    TransferResult,
)
from agentgraph.transports.sip.sdp import parse_sdp
from tests.sip.sip_uac import ADDR, OFFER, Uac, parse_request

T1 = 0.5


def make(**kw: object) -> SipServerProtocol:
    counter = itertools.count(1)
    config = SipConfig(host="127.0.0.1", port=5060, **kw)  # type: ignore[arg-type]
    return SipServerProtocol(config, token=lambda: f"{next(counter):016x}")


def statuses(p: SipServerProtocol, uac: Uac | None = None) -> list[int]:
    out = []
    for data, addr in p.datagrams_to_send():
        assert addr == ADDR
        msg = uac.learn(data) if uac else parse_message(data)
        assert isinstance(msg, SipResponse)
        out.append(msg.status)
    return out


def fix_length(data: bytes) -> bytes:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = [ln for ln in head.split(b"\r\n") if not ln.startswith(b"Content-Length")]
    return b"\r\n".join([*lines, b"Content-Length: %d" % len(body)]) + b"\r\n\r\n" + body


def answered_call(p: SipServerProtocol, uac: Uac, now: float = 0.0) -> bytes:
    p.receive(uac.invite(), ADDR, now)
    assert statuses(p, uac) == [100, 180]
    (incoming,) = p.events_received()
    assert isinstance(incoming, IncomingCall)
    p.accept(incoming.call_id, rtp_host="127.0.0.1", rtp_port=40000, now=now)
    ((ok, _),) = p.datagrams_to_send()
    uac.learn(ok)
    return ok


def test_invite_100_180_200_ack_bye() -> None:
    p, uac = make(), Uac()
    p.receive(uac.invite(), ADDR, 0.0)
    assert statuses(p, uac) == [100, 180]
    (ev,) = p.events_received()
    assert ev == IncomingCall("call-1", "sip:alice@127.0.0.1:5061", "1000", ADDR, "PCMU")
    p.accept("call-1", rtp_host="127.0.0.1", rtp_port=40000, now=0.1)
    ((data, _),) = p.datagrams_to_send()
    ok = uac.learn(data)
    assert ok.status == 200
    assert ok.headers.get("Contact") == "<sip:agentgraph@127.0.0.1:5060>"
    assert ok.headers.get("Via") == ("SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1;rport=5061")
    answer = parse_sdp(ok.body)
    assert (answer.media[0].port, answer.media[0].formats) == (40000, (0, 101))
    (media,) = p.events_received()
    assert isinstance(media, CallMedia)
    assert (media.media.remote_port, media.media.codec.name) == (6000, "PCMU")
    p.receive(uac.ack(), ADDR, 0.2)
    assert p.events_received() == [CallConfirmed("call-1")]
    assert p.next_deadline() is None
    p.receive(uac.request("BYE"), ADDR, 5.0)
    assert statuses(p) == [200]
    assert p.events_received() == [CallEnded("call-1", "remote hangup")]
    assert p.active_calls == 0


def test_2xx_retransmits_on_timer_g_until_ack_then_gives_up_with_bye() -> None:
    p, uac = make(), Uac()
    ok = answered_call(p, uac)
    p.events_received()
    sent_at = []
    now = 0.0
    while (deadline := p.next_deadline()) is not None and deadline < 64 * T1:
        now = deadline
        p.handle_timeout(now)
        for data, _ in p.datagrams_to_send():
            assert data == ok
            sent_at.append(now)
    # T1, then doubling capped at T2 = 4 s: 0.5, 1.5, 3.5, 7.5, 11.5, ...
    assert sent_at[:5] == [0.5, 1.5, 3.5, 7.5, 11.5]
    p.handle_timeout(64 * T1)
    ((bye_data, _),) = p.datagrams_to_send()
    assert parse_request(bye_data).method == "BYE"
    assert p.events_received() == [CallEnded("call-1", "no ACK")]


def test_ack_stops_retransmission_and_retransmitted_invite_repeats_200() -> None:
    p, uac = make(), Uac()
    ok = answered_call(p, uac)
    p.receive(
        uac.request(
            "INVITE", body=OFFER.format(extra=""), branch=uac.invite_branch, cseq=1, in_dialog=False
        ),
        ADDR,
        0.3,
    )
    assert p.datagrams_to_send() == [(ok, ADDR)]
    p.receive(uac.ack(), ADDR, 0.4)
    p.handle_timeout(10.0)
    assert p.datagrams_to_send() == []


def test_cancel_gets_200_and_invite_487() -> None:
    p, uac = make(), Uac()
    p.receive(uac.invite(), ADDR, 0.0)
    statuses(p, uac)
    p.events_received()
    p.receive(uac.cancel(), ADDR, 1.0)
    got = [parse_message(d) for d, _ in p.datagrams_to_send()]
    assert [(m.status, m.cseq[1]) for m in got if isinstance(m, SipResponse)] == [
        (200, "CANCEL"),
        (487, "INVITE"),
    ]
    assert p.events_received() == [CallEnded("call-1", "cancelled")]
    # 487 is retransmitted (Timer G) until the ACK for it (same branch) arrives.
    p.handle_timeout(1.5)
    assert statuses(p) == [487]
    p.receive(uac.request("ACK", branch=uac.invite_branch, cseq=1), ADDR, 1.6)
    p.handle_timeout(3.0)
    assert p.datagrams_to_send() == []
    with pytest.raises(InvalidState):
        p.accept("call-1", rtp_host="127.0.0.1", rtp_port=1, now=2.0)


def test_cancel_unknown_is_481() -> None:
    p, uac = make(), Uac()
    uac.invite_branch = "z9hG4bK-nothing"
    p.receive(uac.cancel(), ADDR, 0.0)
    assert statuses(p) == [481]


def test_options_lists_methods() -> None:
    p = make()
    p.receive(Uac().request("OPTIONS"), ADDR, 0.0)
    ((data, _),) = p.datagrams_to_send()
    resp = parse_message(data)
    assert isinstance(resp, SipResponse)
    assert resp.status == 200
    assert "INVITE" in (resp.headers.get("Allow") or "")


def test_reinvite_hold_and_unhold() -> None:
    p, uac = make(), Uac()
    answered_call(p, uac)
    p.receive(uac.ack(), ADDR, 0.1)
    p.events_received()
    p.receive(uac.request("INVITE", body=OFFER.format(extra="a=sendonly\r\n")), ADDR, 1.0)
    ((data, _),) = p.datagrams_to_send()
    ok = uac.learn(data)
    assert ok.status == 200
    assert parse_sdp(ok.body).media[0].direction == "recvonly"
    assert "agentgraph" in (parse_sdp(ok.body).origin)
    (media,) = p.events_received()
    assert isinstance(media, CallMedia) and media.media.on_hold
    p.receive(uac.ack(), ADDR, 1.1)
    assert p.events_received() == []
    p.receive(uac.request("INVITE", body=OFFER.format(extra="a=sendrecv\r\n")), ADDR, 2.0)
    statuses(p, uac)
    (media,) = p.events_received()
    assert isinstance(media, CallMedia) and not media.media.on_hold
    # the SDP version in o= grows with every answer (RFC 3264 §8)
    assert p.next_deadline() == pytest.approx(2.5)


def test_invite_without_sdp_offers_in_200_answer_in_ack() -> None:
    p, uac = make(), Uac()
    p.receive(uac.invite(sdp=False), ADDR, 0.0)
    statuses(p, uac)
    p.events_received()
    p.accept("call-1", rtp_host="127.0.0.1", rtp_port=40002, now=0.0)
    ((data, _),) = p.datagrams_to_send()
    ok = uac.learn(data)
    assert parse_sdp(ok.body).media[0].formats == (0, 8, 101)
    assert p.events_received() == []
    answer = OFFER.format(extra="").replace("RTP/AVP 0 101", "RTP/AVP 8")
    p.receive(uac.ack(body=answer), ADDR, 0.1)
    media, confirmed = p.events_received()
    assert isinstance(media, CallMedia) and media.media.codec.name == "PCMA"
    assert confirmed == CallConfirmed("call-1")


@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        (lambda d: d.replace(b"RTP/AVP 0 101", b"RTP/AVP 18"), 488),
        (lambda d: d.replace(b"Content-Type: application/sdp", b"Content-Type: text/plain"), 415),
        (lambda d: d.replace(b"Max-Forwards: 70", b"Max-Forwards: 0"), 483),
        (lambda d: d.replace(b"Max-Forwards: 70", b"Require: 100rel"), 420),
        (lambda d: d.replace(b"Call-ID: call-1\r\n", b""), 400),
        (lambda d: d.replace(b"CSeq: 1 INVITE", b"CSeq: 1 BYE"), 400),
        (lambda d: d.replace(b"m=audio 6000", b"m=audio x"), 400),
        (
            lambda d: d.replace(b"INVITE sip", b"SUBSCRIBE sip").replace(
                b"1 INVITE", b"1 SUBSCRIBE"
            ),
            405,
        ),
        (lambda d: d.replace(b"INVITE sip", b"FROB sip").replace(b"1 INVITE", b"1 FROB"), 501),
    ],
)
def test_invites_we_refuse(mutate: object, status: int) -> None:
    p = make()
    p.receive(fix_length(mutate(Uac().invite())), ADDR, 0.0)  # type: ignore[operator]
    assert statuses(p) == [status]
    assert not any(isinstance(e, IncomingCall) for e in p.events_received())


def test_max_calls_503_and_allowed_networks_403() -> None:
    p = make(max_calls=1)
    p.receive(Uac("a").invite(), ADDR, 0.0)
    p.receive(Uac("b").invite(), ADDR, 0.0)
    assert statuses(p) == [100, 180, 503]
    q = make(allow=(ipaddress.ip_network("10.0.0.0/8"),))
    q.receive(Uac().invite(), ADDR, 0.0)
    assert statuses(q) == [403]


def test_in_dialog_requests_for_unknown_dialog_get_481() -> None:
    p, uac = make(), Uac()
    uac.to_tag = "nope"
    p.receive(uac.request("BYE"), ADDR, 0.0)
    p.receive(uac.request("INFO"), ADDR, 0.0)
    assert statuses(p) == [481, 481]


def test_hangup_sends_bye_with_timer_e_until_200() -> None:
    p, uac = make(), Uac()
    answered_call(p, uac)
    p.receive(uac.ack(), ADDR, 0.1)
    p.events_received()
    p.hangup("call-1", 1.0)
    ((data, addr),) = p.datagrams_to_send()
    bye = parse_request(data)
    assert (bye.method, bye.uri, addr) == ("BYE", "sip:alice@127.0.0.1:5061", ADDR)
    assert bye.headers.get("To") == "<sip:alice@127.0.0.1:5061>;tag=alice-tag"
    assert ";tag=" in (bye.headers.get("From") or "")
    assert p.events_received() == [CallEnded("call-1", "local hangup")]
    p.handle_timeout(1.5)
    assert [parse_request(d).method for d, _ in p.datagrams_to_send()] == ["BYE"]
    via = bye.headers.get("Via") or ""
    reply = (
        f"SIP/2.0 200 OK\r\nVia: {via}\r\nFrom: x\r\nTo: y\r\nCall-ID: call-1\r\n"
        f"CSeq: 2 BYE\r\n\r\n"
    ).encode()
    p.receive(reply, ADDR, 1.6)
    assert p.next_deadline() is None


def test_hangup_before_ack_waits_for_ack() -> None:
    p, uac = make(), Uac()
    answered_call(p, uac)
    p.events_received()
    p.hangup("call-1", 0.1)
    assert p.datagrams_to_send() == []
    p.receive(uac.ack(), ADDR, 0.2)
    ((data, _),) = p.datagrams_to_send()
    assert parse_request(data).method == "BYE"


def test_refer_and_notify_progress() -> None:
    p, uac = make(), Uac()
    answered_call(p, uac)
    p.receive(uac.ack(), ADDR, 0.1)
    p.events_received()
    p.refer("call-1", "sip:agent@127.0.0.1", 1.0)
    ((data, _),) = p.datagrams_to_send()
    refer = parse_request(data)
    assert refer.headers.get("Refer-To") == "<sip:agent@127.0.0.1>"
    via = refer.headers.get("Via") or ""
    p.receive(
        (
            f"SIP/2.0 202 Accepted\r\nVia: {via}\r\nCall-ID: call-1\r\nCSeq: 2 REFER\r\n\r\n"
        ).encode(),
        ADDR,
        1.1,
    )
    p.receive(
        uac.request(
            "NOTIFY", body="SIP/2.0 200 OK\r\n", ctype="message/sipfrag", headers={"Event": "refer"}
        ),
        ADDR,
        1.2,
    )
    (notify_ok, bye) = p.datagrams_to_send()
    assert parse_message(notify_ok[0]).status == 200  # type: ignore[union-attr]
    assert parse_request(bye[0]).method == "BYE"  # the transfer worked: our leg ends
    assert p.events_received() == [
        TransferResult("call-1", 202, final=False),
        TransferResult("call-1", 200, final=True),
        CallEnded("call-1", "transferred"),
    ]


def test_refer_timeout_reports_408() -> None:
    p, uac = make(), Uac()
    answered_call(p, uac)
    p.receive(uac.ack(), ADDR, 0.1)
    p.events_received()
    p.refer("call-1", "tel:+1555", 1.0)
    p.handle_timeout(1.0 + 64 * T1)
    assert p.events_received() == [TransferResult("call-1", 408, final=True)]


def test_info_dtmf_relay() -> None:
    p, uac = make(), Uac()
    answered_call(p, uac)
    p.receive(uac.ack(), ADDR, 0.1)
    p.events_received()
    p.receive(
        uac.request("INFO", body="Signal=5\r\nDuration=160\r\n", ctype="application/dtmf-relay"),
        ADDR,
        1.0,
    )
    assert statuses(p) == [200]
    assert p.events_received() == [DtmfReceived("call-1", "5")]


def test_non_2xx_retransmission_of_request_repeats_response() -> None:
    p, uac = make(), Uac()
    data = fix_length(uac.invite().replace(b"RTP/AVP 0 101", b"RTP/AVP 18"))
    p.receive(data, ADDR, 0.0)
    p.receive(data, ADDR, 0.1)
    assert statuses(p) == [488, 488]


@pytest.mark.parametrize(
    "junk",
    [
        b"\x00\xff garbage",
        b"INVITE\r\n\r\n",
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=nope\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nVia: bogus\r\n\r\n",
    ],
)
def test_garbage_is_dropped_with_a_reason(junk: bytes) -> None:
    p = make()
    p.receive(junk, ADDR, 0.0)
    assert p.datagrams_to_send() == []
    (ev,) = p.events_received()
    assert isinstance(ev, MessageDropped) and ev.reason
