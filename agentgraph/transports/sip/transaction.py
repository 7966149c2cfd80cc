"""SIP transactions (RFC 3261 §17) for the UAS core: matching, responses, retransmission.

Server transactions are keyed by top-Via branch, sent-by and method (§17.2.3); each keeps
its last response so a retransmitted request is answered again, and final responses to an
INVITE are retransmitted on Timer G until the ACK (Timer H gives up). Client transactions
(our BYE and REFER) are retransmitted on Timer E until a final response or Timer F. Time
is an argument everywhere; nothing here does I/O: datagrams are appended to `out`.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentgraph.errors import ProtocolError
from agentgraph.transports.sip.events import Addr, SipConfig
from agentgraph.transports.sip.message import (
    REASONS,
    Headers,
    SipRequest,
    SipResponse,
    Via,
    parse_name_addr,
    parse_via,
)

__all__ = ["ALLOW", "ClientTransaction", "ServerTransaction", "TransactionLayer"]

ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY"


@dataclass(slots=True)
class ServerTransaction:
    """A server transaction: the last response and its retransmission timers."""

    method: str
    addr: Addr
    response: bytes | None = None
    final: bool = False
    retransmit_at: float | None = None  # Timer G (INVITE non-2xx)
    interval_s: float = 0.0
    expires_at: float | None = None  # Timer H / I / J


@dataclass(slots=True)
class ClientTransaction:
    """Our BYE or REFER: retransmitted on Timer E until a final response or Timer F."""

    call_id: str
    method: str
    data: bytes
    addr: Addr
    retransmit_at: float
    interval_s: float
    expires_at: float


class TransactionLayer:
    """The transaction tables plus response building; shared by the UAS core."""

    def __init__(self, config: SipConfig, out: list[tuple[bytes, Addr]], contact: str) -> None:
        self.config = config
        self.out = out
        self.contact = contact
        self.server: dict[str, ServerTransaction] = {}
        self.client: dict[str, ClientTransaction] = {}

    @staticmethod
    def key(req: SipRequest, top: Via) -> str:
        # RFC 3261 §17.2.3: branch + sent-by + method (ACK matches the INVITE).
        method = "INVITE" if req.method == "ACK" else req.method
        branch = top.branch or f"{req.call_id}/{req.cseq[0]}"  # RFC 2543 peers
        return f"{branch}|{top.host}:{top.port}|{method}"

    def deadlines(self) -> list[float]:
        """Every pending timer of every transaction."""
        times: list[float] = []
        for tx in self.server.values():
            times.extend(t for t in (tx.retransmit_at, tx.expires_at) if t is not None)
        for ctx in self.client.values():
            times.append(min(ctx.retransmit_at, ctx.expires_at))
        return times

    def start_client(
        self, call_id: str, method: str, branch: str, data: bytes, addr: Addr, now: float
    ) -> None:
        """Send a request and retransmit it on Timer E until `match_response()` ends it."""
        self.out.append((data, addr))
        t1 = self.config.t1_s
        self.client[branch] = ClientTransaction(
            call_id, method, data, addr, now + t1, t1, now + 64 * t1
        )

    def match_response(self, resp: SipResponse, now: float) -> ClientTransaction | None:
        """The client transaction a response finishes (None: provisional or unmatched).

        Raises:
            KeyError: the response matches no transaction.
        """
        vias = resp.headers.get_all("Via")
        try:
            branch = parse_via(vias[0]).branch if vias else None
        except ProtocolError:
            branch = None
        tx = self.client[branch or ""]
        if resp.status < 200:
            if tx.method == "INVITE":  # §17.1.1.2: proceeding, no more retransmissions;
                # the caller's ring timeout (CANCEL) bounds the wait, Timer B is a backstop
                tx.retransmit_at = tx.expires_at = now + 600.0
            else:
                tx.retransmit_at = now + self.config.t2_s  # §17.1.2.2: proceeding uses T2
            return None
        del self.client[branch or ""]
        return tx

    def handle_timeout(self, now: float) -> list[ClientTransaction]:
        """Run due timers; returns client transactions that timed out (Timer F)."""
        t2 = self.config.t2_s
        for key, tx in list(self.server.items()):
            if tx.expires_at is not None and now >= tx.expires_at:
                del self.server[key]
            elif tx.retransmit_at is not None and now >= tx.retransmit_at and tx.response:
                self.out.append((tx.response, tx.addr))  # Timer G
                tx.interval_s = min(2 * tx.interval_s, t2)
                tx.retransmit_at = now + tx.interval_s
        expired: list[ClientTransaction] = []
        for branch, ctx in list(self.client.items()):
            if now >= ctx.expires_at:  # Timer F
                del self.client[branch]
                expired.append(ctx)
            elif now >= ctx.retransmit_at:  # Timer E
                self.out.append((ctx.data, ctx.addr))
                ctx.interval_s = min(2 * ctx.interval_s, t2)
                ctx.retransmit_at = now + ctx.interval_s
        return expired

    def reply(
        self,
        req: SipRequest,
        addr: Addr,
        status: int,
        *,
        key: str | None = None,
        now: float = 0.0,
        to_tag: str | None = None,
        dialog: bool = False,
        body: bytes = b"",
        headers: list[tuple[str, str]] | None = None,
        reason: str | None = None,
    ) -> bytes:
        """Build, queue and remember (in the transaction `key`) a response to `req`."""
        h = Headers()
        vias = req.headers.get_all("Via")
        dest = addr
        for i, value in enumerate(vias):
            if i == 0:
                top = parse_via(value)
                updates: dict[str, str] = {}
                if top.host != addr[0]:
                    updates["received"] = addr[0]
                if top.has_param("rport"):
                    updates["rport"] = str(addr[1])  # RFC 3581
                elif top.transport.upper() not in ("TCP", "TLS"):
                    dest = (addr[0], top.port or 5060)  # §18.2.2 sent-by port
                # (over TCP/TLS the response goes back down the request's connection)
                value = str(top.with_params(**updates)) if updates else value
            h.add("Via", value)
        h.add("From", req.headers.get("From") or "")
        to = req.headers.get("To") or ""
        if to_tag is not None and status != 100:
            parsed = parse_name_addr(to)
            if parsed.tag is None:
                to = str(parsed.with_param("tag", to_tag))
        h.add("To", to)
        h.add("Call-ID", req.call_id)
        h.add("CSeq", req.headers.get("CSeq") or "")
        if dialog:
            for rr in req.headers.get_all("Record-Route"):
                h.add("Record-Route", rr)
            h.add("Contact", self.contact)
            h.add("Allow", ALLOW)
        for name, value in headers or ():
            h.add(name, value)
        h.add("Server", self.config.user_agent)
        if body:
            h.add("Content-Type", "application/sdp")
        data = SipResponse(status, reason or REASONS.get(status, "Unknown"), h, body).serialize()
        self.out.append((data, dest))
        if key is not None and status >= 100:
            tx = self.server.get(key)
            if tx is None:
                tx = self.server[key] = ServerTransaction(req.method, dest)
            tx.response = data
            if status >= 200:
                tx.final = True
                t1 = self.config.t1_s
                if req.method == "INVITE":  # Timer G until ACK, Timer H gives up
                    tx.interval_s = t1
                    tx.retransmit_at = now + t1
                    tx.expires_at = now + 64 * t1
                else:  # Timer J
                    tx.expires_at = now + 64 * t1
        return data
