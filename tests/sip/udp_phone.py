"""A raw UDP "phone" on a loopback address for tests that play attacker or caller."""

from __future__ import annotations

import asyncio
import socket

from agentgraph.transports.sip.message import SipResponse, parse_message

OFFER = (
    "v=0\r\no=alice 1 1 IN IP4 {host}\r\ns=-\r\nc=IN IP4 {host}\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0\r\n"
)


class Phone:
    """A UDP socket on a loopback address that speaks just enough SIP."""

    def __init__(self, host: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.setblocking(False)
        self.host, self.port = self.sock.getsockname()
        self.n = 0

    def close(self) -> None:
        self.sock.close()

    def request(
        self,
        method: str,
        target: tuple[str, int],
        *,
        call_id: str,
        cseq: int = 1,
        to_tag: str = "",
        body: str = "",
    ) -> bytes:
        self.n += 1
        lines = [
            f"{method} sip:1000@{target[0]}:{target[1]} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.host}:{self.port};branch=z9hG4bK-{call_id}-{self.n};rport",
            "Max-Forwards: 70",
            f"From: <sip:alice@{self.host}>;tag=t-{call_id}",
            f"To: <sip:1000@{target[0]}>" + (f";tag={to_tag}" if to_tag else ""),
            f"Call-ID: {call_id}",
            f"CSeq: {cseq} {method}",
            f"Contact: <sip:alice@{self.host}:{self.port}>",
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()

    def send(self, data: bytes, target: tuple[str, int]) -> None:
        self.sock.sendto(data, target)

    def invite(
        self, target: tuple[str, int], call_id: str, *, sdp_host: str = "", rtp_port: int = 40000
    ) -> None:
        body = OFFER.format(host=sdp_host or self.host, port=rtp_port)
        self.send(self.request("INVITE", target, call_id=call_id, body=body), target)

    async def responses(self, *, until: int, timeout: float = 5.0) -> list[SipResponse]:
        """Responses received until one with status `until` (or the timeout)."""
        loop = asyncio.get_running_loop()
        got: list[SipResponse] = []
        end = loop.time() + timeout
        while loop.time() < end:
            try:
                data = await asyncio.wait_for(loop.sock_recv(self.sock, 65535), end - loop.time())
            except TimeoutError:
                break
            msg = parse_message(data)
            if isinstance(msg, SipResponse):
                got.append(msg)
                if msg.status == until:
                    break
        return got

    def drain(self) -> int:
        n = 0
        while True:
            try:
                self.sock.recv(65535)
            except BlockingIOError:
                return n
            n += 1


def to_tag(resp: SipResponse) -> str:
    return (resp.headers.get("To") or "").split(";tag=")[1].split(";")[0]
