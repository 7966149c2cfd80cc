"""The sans-I/O SIP user agent server: transactions, dialogs and RFC 3261 timers.

Theory of operation. `receive(data, addr, now)` takes one datagram. Requests are checked
(mandatory headers, allowed networks, Max-Forwards, Require) and matched first against
server transactions by top-Via branch (a retransmission gets the last response again),
then dispatched by method. A new INVITE gets `100 Trying` and `180 Ringing` at once and
raises `IncomingCall`; the shell then calls `accept(...)` (200 OK with the SDP answer,
retransmitted on Timer G intervals until the ACK, given up after 64*T1 with a BYE) or
`reject(...)`. Our own requests (BYE, REFER) run client transactions with Timer E/F.

Hostile input costs little. A per-source token bucket is checked before a datagram is
parsed; the allow list is checked before anything is remembered (a refused source gets a
stateless 403, no transaction); answered calls whose ACK is overdue (`ack_grace_s`) are
capped per source address (`half_open_limit`) and give up their slot to a new caller
when we are full, so unACKed INVITEs cannot hold every slot; an SDP whose
connection address is not a literal IP is refused with 488 (we never resolve names).
`drain()` makes OPTIONS and new INVITEs answer 503 while current calls go on.

Outputs are drained: `datagrams_to_send()` -> `[(bytes, (host, port))]` and
`events_received()` -> `[SipEvent]`. The core never reads a clock: every input carries
`now`, `next_deadline()` says when to call `handle_timeout(now)`. Bad input never raises:
it is answered (400, 481, ...) or dropped with a `MessageDropped` event the shell logs.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from agentgraph.errors import InvalidState, ProtocolError
from agentgraph.transports.sip.admission import Admission
from agentgraph.transports.sip.dialog import CallState, _Call, _token
from agentgraph.transports.sip.digest import DigestVerifier
from agentgraph.transports.sip.events import (
    Addr,
    CallConfirmed,
    CallEnded,
    CallMedia,
    DtmfReceived,
    IncomingCall,
    MessageDropped,
    SipConfig,
    SipEvent,
    TransferResult,
)
from agentgraph.transports.sip.message import (
    SipRequest,
    SipResponse,
    parse_message,
    parse_name_addr,
    parse_uri,
    parse_via,
)
from agentgraph.transports.sip.outgoing import OutgoingRequests
from agentgraph.transports.sip.ratelimit import SourceLimiter
from agentgraph.transports.sip.sdp import (
    CODECS,
    MediaRefused,
    NegotiatedMedia,
    SessionDescription,
    answer_offer,
    make_offer,
    parse_sdp,
    read_answer,
)
from agentgraph.transports.sip.transaction import (
    ALLOW,
    ServerTransaction,
    TransactionLayer,
)
from agentgraph.transports.sip.uac import Uac

__all__ = [
    "CallConfirmed",
    "CallEnded",
    "CallMedia",
    "DtmfReceived",
    "IncomingCall",
    "MessageDropped",
    "SipConfig",
    "SipEvent",
    "SipServerProtocol",
    "TransferResult",
]

KNOWN_UNSUPPORTED = frozenset(
    {"REGISTER", "SUBSCRIBE", "MESSAGE", "PUBLISH", "REFER", "UPDATE", "PRACK"}
)
MAX_TRANSACTIONS = 4096


class SipServerProtocol(Admission, OutgoingRequests):
    """The UAS core. See the module docstring for the calling discipline."""

    def __init__(self, config: SipConfig, *, token: Callable[[], str] = _token) -> None:
        self.config = config
        self._token = token
        self._calls: dict[str, _Call] = {}
        self._out: list[tuple[bytes, Addr]] = []
        self._events: list[SipEvent] = []
        self._contact = f"<sip:{config.user}@{config.public_host}:{config.port}>"
        self._tx = TransactionLayer(config, self._out, self._contact)
        names = {c.upper() for c in config.codecs}
        self._codecs = tuple(c for c in CODECS if c.name in names) or CODECS
        self._limiter = SourceLimiter(config.rate_per_s, config.rate_burst)
        self._verifier = (
            DigestVerifier(config.auth_realm, dict(config.auth)) if config.auth else None
        )
        self.draining = False
        # INVITEs refused before answering, by reason ("capacity", "half-open",
        # "draining", "not allowed"); the metrics count them.
        self.refused: dict[str, int] = {}
        self.uac = Uac(self)

    # --- drains -------------------------------------------------------------------------

    def datagrams_to_send(self) -> list[tuple[bytes, Addr]]:
        """Datagrams to write, in order. Call after every input."""
        out = list(self._out)
        self._out.clear()  # the same list is shared with the transaction layer
        return out

    def events_received(self) -> list[SipEvent]:
        """Events since the last call; a second call returns []."""
        events, self._events = self._events, []
        return events

    @property
    def active_calls(self) -> int:
        return len(self._calls)

    @property
    def half_open_calls(self) -> int:
        """Calls not yet confirmed: ringing, or answered and waiting for the ACK."""
        calls = list(self._calls.values())  # one C-level copy: metrics read it from a thread
        return sum(1 for c in calls if c.state is not CallState.CONFIRMED)

    @property
    def rate_limited(self) -> int:
        """Datagrams dropped by the per-source rate limit."""
        return self._limiter.dropped

    def drain(self) -> None:
        """Stop taking calls: OPTIONS and new INVITEs get 503; current calls go on."""
        self.draining = True

    def _refuse(self, reason: str) -> None:
        self.refused[reason] = self.refused.get(reason, 0) + 1

    def next_deadline(self) -> float | None:
        """The earliest time `handle_timeout()` has work to do, or None."""
        times = self._tx.deadlines() + self.uac.deadlines()
        for call in self._calls.values():
            if call.ok is not None:
                times.append(min(call.ok_retransmit_at, call.ok_expires_at))
        return min(times) if times else None

    # --- input --------------------------------------------------------------------------

    def receive(self, data: bytes, addr: Addr, now: float) -> None:
        """Feed one datagram from `addr`. Never raises on bad input."""
        if not data.strip():
            return  # CRLF keep-alive (RFC 5626 §3.5.1)
        if not self._limiter.allow(addr[0], now):
            if self._limiter.first_drop(addr[0]):  # one line per flood, not one per packet
                self._drop("rate limit exceeded; dropping until it slows down", addr)
            return
        try:
            msg = parse_message(data)
        except ProtocolError as exc:
            self._drop(str(exc), addr)
            return
        if isinstance(msg, SipResponse):
            self._receive_response(msg, addr, now)
            return
        try:
            self._receive_request(msg, addr, now)
        except ProtocolError as exc:
            self._drop(f"{msg.method}: {exc}", addr)

    def _drop(self, reason: str, addr: Addr) -> None:
        self._events.append(MessageDropped(reason[:200], addr))

    def _receive_request(self, req: SipRequest, addr: Addr, now: float) -> None:
        vias = req.headers.get_all("Via")
        if not vias:
            raise ProtocolError("request has no Via header")
        top = parse_via(vias[0])  # unparseable Via: no way to answer, drop
        if self.config.allow and not _allowed(addr[0], self.config.allow):
            # Stateless: a flood from outside must not fill the transaction table.
            if req.method != "ACK":
                if req.method == "INVITE":
                    self._refuse("not allowed")
                self._tx.reply(req, addr, 403)
            return
        for name in ("From", "To", "Call-ID", "CSeq"):
            if req.headers.get(name) is None:
                self._tx.reply(req, addr, 400, reason=f"Missing {name} Header")
                return
        try:
            _cseq_num, cseq_method = req.cseq
            parse_name_addr(req.headers.get("From") or "")
            parse_name_addr(req.headers.get("To") or "")
        except ProtocolError as exc:
            self._tx.reply(req, addr, 400, reason=str(exc)[:60])
            return
        if cseq_method != req.method:
            self._tx.reply(req, addr, 400, reason="CSeq Method Mismatch")
            return
        key = self._tx.key(req, top)
        if req.method == "ACK":
            self._receive_ack(req, key, now)
            return
        if req.method != "CANCEL":
            tx = self._tx.server.get(key)
            if tx is not None:  # retransmission: repeat the last response
                if tx.response is not None:
                    self._out.append((tx.response, addr))
                return
        if len(self._tx.server) >= MAX_TRANSACTIONS:
            self._drop("too many pending transactions", addr)
            return
        max_fwd = req.headers.get("Max-Forwards")
        if max_fwd is not None and max_fwd.strip() == "0" and req.method != "CANCEL":
            self._tx.reply(req, addr, 483, key=key, now=now)
            return
        require = req.headers.get("Require")
        if require and req.method != "CANCEL":
            self._tx.reply(req, addr, 420, key=key, now=now, headers=[("Unsupported", require)])
            return
        handler = {
            "INVITE": self._receive_invite,
            "BYE": self._receive_bye,
            "CANCEL": self._receive_cancel,
            "OPTIONS": self._receive_options,
            "INFO": self._receive_info,
            "NOTIFY": self._receive_notify,
        }.get(req.method)
        if handler is not None:
            handler(req, addr, key, now)
        elif req.method in KNOWN_UNSUPPORTED:
            self._tx.reply(req, addr, 405, key=key, now=now, headers=[("Allow", ALLOW)])
        else:
            self._tx.reply(req, addr, 501, key=key, now=now, headers=[("Allow", ALLOW)])

    def _find_dialog(self, req: SipRequest) -> _Call | None:
        call = self._calls.get(req.call_id)
        if call is None:
            return None
        to_tag = parse_name_addr(req.headers.get("To") or "").tag
        from_tag = parse_name_addr(req.headers.get("From") or "").tag
        if to_tag != call.local_tag or from_tag != call.remote_tag:
            return None
        return call

    # --- INVITE -------------------------------------------------------------------------

    def _receive_invite(self, req: SipRequest, addr: Addr, key: str, now: float) -> None:
        to = parse_name_addr(req.headers.get("To") or "")
        if to.tag is not None:
            self._receive_reinvite(req, addr, key, now)
            return
        frm = parse_name_addr(req.headers.get("From") or "")
        if self._verifier is not None and not self._authenticated(req, addr, now):
            return
        existing = self._calls.get(req.call_id)
        if existing is not None:
            if existing.invite_key == key:  # retransmitted after our 2xx: repeat it
                if existing.ok is not None:
                    self._out.append((existing.ok, existing.addr))
            elif existing.remote_tag == frm.tag:  # same call, new branch: loop (§8.2.2.2)
                self._tx.reply(req, addr, 482, key=key, now=now)
            else:
                self._tx.reply(req, addr, 486, key=key, now=now)
            return
        ok, offer = self._read_offer(req, addr, key, now)
        if not ok:
            return
        busy = self._admission(addr[0], now)
        if busy is not None:  # 503 sends a proxy on to the next worker
            self._refuse(busy)
            self._tx.reply(req, addr, 503, key=key, now=now, headers=[("Retry-After", "5")])
            return
        contact = req.headers.get("Contact")
        try:
            target = parse_name_addr(contact).uri if contact else frm.uri
            callee = parse_uri(req.uri).user or parse_uri(to.uri).user
        except ProtocolError as exc:
            self._tx.reply(req, addr, 400, key=key, now=now, reason=str(exc)[:60])
            return
        local_tag = self._token()
        call = _Call(
            call_id=req.call_id,
            addr=addr,
            invite=req,
            invite_key=key,
            local_tag=local_tag,
            remote_tag=frm.tag or "",
            remote=req.headers.get("From") or "",
            local=str(to.with_param("tag", local_tag)),
            target=target,
            route_set=req.headers.get_all("Record-Route"),
            session_id=int(self._token()[:8], 16),
            offer=offer,
            remote_cseq=req.cseq[0],
            transport=parse_via(req.headers.get_all("Via")[0]).transport.upper(),
        )
        self._calls[call.call_id] = call
        self._tx.server[key] = ServerTransaction("INVITE", addr)
        self._tx.reply(req, addr, 100, key=key, now=now)
        self._tx.reply(req, addr, 180, key=key, now=now, to_tag=local_tag, dialog=True)
        codec = None
        if offer is not None:
            codec = answer_offer(
                offer,
                local_host=self.config.public_host,
                local_port=9,
                session_id=0,
                codecs=self._codecs,
                srtp=self.config.srtp,
            )[1].codec.name
        self._events.append(IncomingCall(call.call_id, frm.uri, callee, addr, codec))

    def _read_offer(
        self, req: SipRequest, addr: Addr, key: str, now: float
    ) -> tuple[bool, SessionDescription | None]:
        """(usable, offer) of an (re-)INVITE: offer None if it has none; not usable means
        it has been answered with 415/488/400 already."""
        if not req.body:
            return True, None
        ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/sdp":
            self._tx.reply(
                req, addr, 415, key=key, now=now, headers=[("Accept", "application/sdp")]
            )
            return False, None
        try:
            offer = parse_sdp(req.body)
            answer_offer(
                offer,
                local_host=self.config.public_host,
                local_port=9,
                session_id=0,
                codecs=self._codecs,
                srtp=self.config.srtp,
            )
        except MediaRefused as exc:
            self._tx.reply(
                req,
                addr,
                488,
                key=key,
                now=now,
                headers=[("Warning", f'304 {self.config.public_host} "{exc}"')],
            )
            return False, None
        except ProtocolError as exc:
            self._tx.reply(req, addr, 400, key=key, now=now, reason=f"Bad SDP: {exc}"[:80])
            return False, None
        return True, offer

    def accept(self, call_id: str, *, rtp_host: str, rtp_port: int, now: float) -> None:
        """Answer a ringing call: 200 OK with our SDP (RTP at `rtp_host:rtp_port`).

        Raises:
            InvalidState: the call is unknown or not ringing.
        """
        call = self._calls.get(call_id)
        if call is None or call.state is not CallState.RINGING:
            raise InvalidState(f"cannot accept call {call_id!r}: not ringing")
        call.rtp = (rtp_host, rtp_port)
        body = self._local_sdp(call, call.offer)
        call.state = CallState.ANSWERED
        call.answered_at = now
        data = self._tx.reply(
            call.invite,
            call.addr,
            200,
            key=None,
            now=now,
            to_tag=call.local_tag,
            dialog=True,
            body=body,
        )
        self._tx.server.pop(call.invite_key, None)  # 2xx ends the transaction (§17.2.1)
        self._start_ok(call, data, call.invite.cseq[0], now)

    def _local_sdp(self, call: _Call, offer: SessionDescription | None) -> bytes:
        assert call.rtp is not None
        host, port = call.rtp
        if offer is None:
            call.awaiting_answer = True
            sdp = make_offer(
                local_host=host,
                local_port=port,
                session_id=call.session_id,
                version=call.sdp_version,
                srtp_key=self._offer_key(call),
            )
        else:
            sdp, media = answer_offer(
                offer,
                codecs=self._codecs,
                local_host=host,
                local_port=port,
                session_id=call.session_id,
                version=call.sdp_version,
                srtp=self.config.srtp,
                srtp_key=call.srtp_key,
            )
            self._set_media(call, media)
        call.sdp_version += 1
        return sdp.serialize().encode()

    def _set_media(self, call: _Call, media: NegotiatedMedia) -> None:
        if media != call.media:
            call.media = media
            self._events.append(CallMedia(call.call_id, media))

    def _start_ok(self, call: _Call, data: bytes, cseq: int, now: float) -> None:
        # RFC 3261 §13.3.1.4: the UAS core retransmits its 2xx at T1, 2T1, ... up to T2
        # until the ACK, and gives up after 64*T1.
        call.ok, call.ok_cseq = data, cseq
        call.ok_interval_s = self.config.t1_s
        call.ok_retransmit_at = now + self.config.t1_s
        call.ok_expires_at = now + 64 * self.config.t1_s

    def reject(self, call_id: str, status: int, now: float) -> None:
        """Refuse a ringing call with a final status (e.g. 486, 480, 603)."""
        call = self._calls.get(call_id)
        if call is None or call.state is not CallState.RINGING:
            raise InvalidState(f"cannot reject call {call_id!r}: not ringing")
        self._tx.reply(
            call.invite, call.addr, status, key=call.invite_key, now=now, to_tag=call.local_tag
        )
        self._end(call, f"rejected with {status}")

    def _receive_ack(self, req: SipRequest, key: str, now: float) -> None:
        tx = self._tx.server.get(key)
        if tx is not None and tx.final:  # ACK for a non-2xx final: Timer I (§17.2.1)
            tx.retransmit_at = None
            tx.expires_at = now + self.config.t4_s
            return
        call = self._find_dialog(req)
        if call is None or call.ok is None or req.cseq[0] != call.ok_cseq:
            return  # stray or retransmitted ACK: nothing to do (§17.2.1 says absorb)
        call.ok = None
        if call.awaiting_answer:
            call.awaiting_answer = False
            try:
                answer = parse_sdp(req.body)
                self._set_media(call, read_answer(answer, srtp_key=self._offer_key(call)))
            except ProtocolError as exc:
                self._drop(f"ACK answer unusable: {exc}", call.addr)
                self._send_bye(call, now)
                self._end(call, "bad SDP answer in ACK")
                return
        if call.state is CallState.ANSWERED:
            call.state = CallState.CONFIRMED
            self._events.append(CallConfirmed(call.call_id))
        if call.bye_after_ack:
            self._send_bye(call, now)
            self._end(call, "local hangup")

    def _receive_reinvite(self, req: SipRequest, addr: Addr, key: str, now: float) -> None:
        call = self._find_dialog(req)
        if call is None:
            self._tx.reply(req, addr, 481, key=key, now=now)
            return
        if call.ok is not None or call.state is not CallState.CONFIRMED:
            self._tx.reply(req, addr, 491, key=key, now=now)  # §14.2: one at a time
            return
        if req.cseq[0] <= call.remote_cseq:
            self._tx.reply(req, addr, 500, key=key, now=now, reason="CSeq Out Of Order")
            return
        call.remote_cseq = req.cseq[0]
        ok, offer = self._read_offer(req, addr, key, now)
        if not ok:
            return
        body = self._local_sdp(call, offer)
        data = self._tx.reply(req, addr, 200, key=None, now=now, dialog=True, body=body)
        self._start_ok(call, data, req.cseq[0], now)

    # --- other requests -----------------------------------------------------------------

    def _receive_bye(self, req: SipRequest, addr: Addr, key: str, now: float) -> None:
        call = self._find_dialog(req)
        if call is None:
            self._tx.reply(req, addr, 481, key=key, now=now)
            return
        self._tx.reply(req, addr, 200, key=key, now=now)
        if call.state is CallState.RINGING:  # BYE before the 2xx: the INVITE gets 487
            self._tx.reply(
                call.invite, call.addr, 487, key=call.invite_key, now=now, to_tag=call.local_tag
            )
        self._end(call, "remote hangup")

    def _receive_cancel(self, req: SipRequest, addr: Addr, key: str, now: float) -> None:
        invite_key = key.rsplit("|", 1)[0] + "|INVITE"
        call = next((c for c in self._calls.values() if c.invite_key == invite_key), None)
        tx = self._tx.server.get(invite_key)
        if call is None and tx is None:
            self._tx.reply(req, addr, 481, key=key, now=now)
            return
        self._tx.reply(req, addr, 200, key=key, now=now, to_tag=call.local_tag if call else None)
        if call is not None and call.state is CallState.RINGING:
            self._tx.reply(
                call.invite, call.addr, 487, key=invite_key, now=now, to_tag=call.local_tag
            )
            self._end(call, "cancelled")

    def _receive_options(self, req: SipRequest, addr: Addr, key: str, now: float) -> None:
        if self.draining:  # a proxy's probe: stop sending us calls
            self._tx.reply(req, addr, 503, key=key, now=now, headers=[("Retry-After", "30")])
            return
        self._tx.reply(
            req,
            addr,
            200,
            key=key,
            now=now,
            headers=[("Allow", ALLOW), ("Accept", "application/sdp"), ("Supported", "")],
        )

    def _receive_info(self, req: SipRequest, addr: Addr, key: str, now: float) -> None:
        call = self._find_dialog(req)
        if call is None:
            self._tx.reply(req, addr, 481, key=key, now=now)
            return
        self._tx.reply(req, addr, 200, key=key, now=now)
        ctype = (req.headers.get("Content-Type") or "").lower()
        if "dtmf-relay" in ctype:  # "Signal=5\r\nDuration=160"
            for line in req.body.decode("utf-8", "replace").splitlines():
                name, _, value = line.partition("=")
                digit = value.strip()
                if name.strip().lower() == "signal" and digit and digit in "0123456789*#ABCD":
                    self._events.append(DtmfReceived(call.call_id, digit[:1]))

    def _receive_notify(self, req: SipRequest, addr: Addr, key: str, now: float) -> None:
        call = self._find_dialog(req)
        if call is None:
            self._tx.reply(req, addr, 481, key=key, now=now)
            return
        self._tx.reply(req, addr, 200, key=key, now=now)
        # RFC 3515 §2.4.5: the body is a sipfrag status line, e.g. "SIP/2.0 200 OK".
        line = req.body.decode("utf-8", "replace").strip().split("\r\n")[0].split("\n")[0]
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "SIP/2.0" and parts[1].isdigit():
            status = int(parts[1])
            self._events.append(TransferResult(call.call_id, status, final=status >= 200))
            if 200 <= status < 300 and call.state is CallState.CONFIRMED:
                # RFC 5589 §6.1: the transfer succeeded, so our leg is done.
                self._send_bye(call, now)
                self._end(call, "transferred")

    # --- timers -------------------------------------------------------------------------

    def handle_timeout(self, now: float) -> None:
        """Run every timer due at `now` (retransmissions and expiries)."""
        t2 = self.config.t2_s
        self.uac.handle_timeout(now)
        for ctx in self._tx.handle_timeout(now):
            self.uac.transaction_timed_out(ctx)
            if ctx.method == "REFER":
                self._events.append(TransferResult(ctx.call_id, 408, final=True))
        for call in list(self._calls.values()):
            if call.ok is None:
                continue
            if now >= call.ok_expires_at:  # §13.3.1.4: no ACK in 64*T1 -> BYE
                call.ok = None
                self._send_bye(call, now)
                self._end(call, "no ACK")
            elif now >= call.ok_retransmit_at:
                self._out.append((call.ok, call.addr))
                call.ok_interval_s = min(2 * call.ok_interval_s, t2)
                call.ok_retransmit_at = now + call.ok_interval_s

    def _end(self, call: _Call, reason: str) -> None:
        if self._calls.pop(call.call_id, None) is not None:
            call.state = CallState.ENDED
            self._events.append(CallEnded(call.call_id, reason))


def _allowed(
    host: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(ip in net for net in networks)
