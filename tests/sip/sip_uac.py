"""A tiny scripted SIP UAC for core tests: builds requests the way a phone would."""

from __future__ import annotations

import itertools

from agentgraph.transports.sip.message import SipRequest, SipResponse, parse_message

ADDR = ("127.0.0.1", 5061)
OFFER = (
    "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 6000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n{extra}"
)
_branches = itertools.count(1)


class Uac:
    """One caller dialog: remembers Call-ID, tags and CSeq."""

    def __init__(self, call_id: str = "call-1", *, number: str = "1000") -> None:
        self.call_id = call_id
        self.number = number
        self.cseq = 0
        self.to_tag: str | None = None
        self.invite_branch = ""

    def request(
        self,
        method: str,
        *,
        body: str = "",
        branch: str | None = None,
        cseq: int | None = None,
        headers: dict[str, str] | None = None,
        in_dialog: bool = True,
        ctype: str = "application/sdp",
    ) -> bytes:
        if cseq is None:
            if method not in ("ACK", "CANCEL"):
                self.cseq += 1
            cseq = self.cseq
        branch = branch or f"z9hG4bK-{next(_branches)}"
        if method == "INVITE" and self.to_tag is None:
            self.invite_branch = branch
        to_tag = f";tag={self.to_tag}" if (self.to_tag and in_dialog) else ""
        lines = [
            f"{method} sip:{self.number}@127.0.0.1:5060 SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:5061;branch={branch};rport",
            "Max-Forwards: 70",
            "From: <sip:alice@127.0.0.1:5061>;tag=alice-tag",
            f"To: <sip:{self.number}@127.0.0.1>{to_tag}",
            f"Call-ID: {self.call_id}",
            f"CSeq: {cseq} {method}",
            "Contact: <sip:alice@127.0.0.1:5061>",
        ]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body:
            lines.append(f"Content-Type: {ctype}")
        lines.append(f"Content-Length: {len(body.encode())}")
        return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()

    def invite(self, extra: str = "", *, sdp: bool = True) -> bytes:
        return self.request("INVITE", body=OFFER.format(extra=extra) if sdp else "")

    def ack(self, *, body: str = "", branch: str | None = None) -> bytes:
        return self.request("ACK", body=body, branch=branch)

    def cancel(self) -> bytes:
        return self.request("CANCEL", branch=self.invite_branch, in_dialog=False)

    def learn(self, data: bytes) -> SipResponse:
        """Parse a response and remember the To tag."""
        msg = parse_message(data)
        assert isinstance(msg, SipResponse)
        to = msg.headers.get("To") or ""
        if ";tag=" in to and msg.status >= 101:
            self.to_tag = to.split(";tag=")[1].split(";")[0]
        return msg


def parse_request(data: bytes) -> SipRequest:
    msg = parse_message(data)
    assert isinstance(msg, SipRequest)
    return msg
