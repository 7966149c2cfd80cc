"""The UAC core without sockets: a 407 to our INVITE is ACKed and answered once with
Proxy-Authorization that a digest verifier accepts; a second 407 ends the call."""

from __future__ import annotations

import itertools

from agentgraph.transports.sip.digest import DigestVerifier
from agentgraph.transports.sip.events import CallEnded, CallProgress, SipConfig
from agentgraph.transports.sip.message import SipRequest, parse_message
from agentgraph.transports.sip.protocol import SipServerProtocol

TRUNK = ("127.0.0.1", 5080)


def make() -> SipServerProtocol:
    counter = itertools.count(1)
    config = SipConfig(host="127.0.0.1", port=5060)
    return SipServerProtocol(config, token=lambda: f"{next(counter):016x}")


def sent(p: SipServerProtocol) -> list[SipRequest]:
    out = []
    for data, addr in p.datagrams_to_send():
        assert addr == TRUNK
        msg = parse_message(data)
        assert isinstance(msg, SipRequest)
        out.append(msg)
    return out


def respond(p: SipServerProtocol, req: SipRequest, status: int, extra: str = "") -> None:
    lines = [f"SIP/2.0 {status} X"]
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        value = req.headers.get(name) or ""
        if name == "To" and status > 100:
            value += ";tag=trunk"
        lines.append(f"{name}: {value}")
    p.receive(
        ("\r\n".join(lines) + "\r\n" + extra + "Content-Length: 0\r\n\r\n").encode(), TRUNK, 0
    )


def test_407_is_answered_once_with_proxy_authorization() -> None:
    p = make()
    verifier = DigestVerifier("trunk.example", {"alice": "pw"})
    call_id = p.dial(
        "sip:+15551234567@trunk.example",
        dest=TRUNK,
        rtp_host="127.0.0.1",
        rtp_port=40000,
        credentials=("alice", "pw"),
        now=0.0,
    )
    (invite,) = sent(p)
    assert invite.method == "INVITE" and invite.cseq == (1, "INVITE")
    respond(p, invite, 180)
    assert p.events_received() == [CallProgress(call_id, 180)]
    challenge = verifier.challenge(0.0)
    respond(p, invite, 407, f"Proxy-Authenticate: {challenge}\r\n")
    ack, again = sent(p)
    assert ack.method == "ACK" and ack.cseq == (1, "ACK")
    assert again.method == "INVITE" and again.cseq == (2, "INVITE")
    ok, _stale, user = verifier.verify(
        again.headers.get("Proxy-Authorization"), "INVITE", again.uri, 0.0
    )
    assert ok and user == "alice"
    respond(p, again, 407, f"Proxy-Authenticate: {challenge}\r\n")  # wrong secret after all
    (ack2,) = sent(p)
    assert ack2.method == "ACK"
    assert p.events_received() == [CallEnded(call_id, "unauthorized")]
