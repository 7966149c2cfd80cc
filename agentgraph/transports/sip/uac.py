"""The UAC half of the SIP core (sans-I/O): outgoing calls, REGISTER, digest answers.

`SipServerProtocol` owns one `Uac` and hands it every response first. An outgoing call
is an ordinary `_Call` (marked `outbound`) once its INVITE is sent, so in-dialog requests
(BYE, INFO, re-INVITE, NOTIFY), our BYE and REFER, and `CallEnded` work as for calls we
answer. The INVITE runs a client transaction; 1xx report `CallProgress`; a 2xx is ACKed
(and its retransmissions ACKed again), its SDP answer read and `CallConfirmed` raised;
a final failure is ACKed and ends the call with a reason a person understands ("busy",
"no answer", "declined", "failed: 503 ..."). A 401/407 to any request we send (INVITE,
BYE, REFER, REGISTER) is answered once with the configured credentials. Registrations
refresh at 80 % of the granted expiry. Hanging up a call still ringing sends CANCEL.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentgraph.errors import ProtocolError
from agentgraph.transports.sip.dialog import CallState, _Call
from agentgraph.transports.sip.digest import answer_challenge, parse_challenge
from agentgraph.transports.sip.events import (
    Addr,
    CallConfirmed,
    CallProgress,
    Registered,
    RegistrationFailed,
)
from agentgraph.transports.sip.message import (
    Headers,
    SipRequest,
    SipResponse,
    parse_message,
    parse_name_addr,
)
from agentgraph.transports.sip.sdp import make_offer, parse_sdp, read_answer
from agentgraph.transports.sip.transaction import ClientTransaction

if TYPE_CHECKING:
    from agentgraph.transports.sip.protocol import SipServerProtocol

__all__ = ["Uac", "failure_reason"]

Credentials = tuple[str, str]


def failure_reason(status: int, reason: str) -> str:
    """How a final failure to our INVITE reads in a report."""
    if status in (486, 600):
        return "busy"
    if status in (408, 480, 487):
        return "no answer"
    if status == 603:
        return "declined"
    return f"failed: {status} {reason}".strip()


@dataclass(slots=True)
class _Registration:
    registrar: Addr
    aor: str  # sip:user@domain
    credentials: Credentials | None
    expires_s: int
    call_id: str
    local_tag: str
    cseq: int = 0
    refresh_at: float | None = None
    registered: bool = False


class Uac:
    """Outgoing requests of the core; see the module docstring."""

    def __init__(self, core: SipServerProtocol) -> None:
        self.core = core
        self.registrations: dict[str, _Registration] = {}
        self._acks: dict[str, tuple[bytes, Addr, int]] = {}  # call id -> 2xx ACK to repeat

    # --- outgoing calls -----------------------------------------------------------------

    def dial(
        self,
        target: str,
        *,
        dest: Addr,
        rtp_host: str,
        rtp_port: int,
        from_user: str,
        credentials: Credentials | None,
        transport: str = "UDP",
        now: float,
    ) -> str:
        """Send an INVITE for `target` (a sip: URI) to `dest`; returns the call id."""
        core = self.core
        host = core.config.public_host
        call_id = f"{core._token()}@{host}"
        local_tag = core._token()
        session_id = int(core._token()[:8], 16)
        local = f"<sip:{from_user}@{host}>;tag={local_tag}"
        invite = SipRequest("INVITE", target, Headers())
        call = _Call(
            call_id=call_id,
            addr=dest,
            invite=invite,
            invite_key="",
            local_tag=local_tag,
            remote_tag="",
            remote=f"<{target}>",
            local=local,
            target=target,
            route_set=[],
            session_id=session_id,
            state=CallState.RINGING,
            rtp=(rtp_host, rtp_port),
            local_cseq=0,
            outbound=True,
            credentials=credentials,
            transport=transport.upper(),
        )
        offer = make_offer(
            local_host=rtp_host,
            local_port=rtp_port,
            session_id=session_id,
            srtp_key=core._offer_key(call),
        )
        call.sdp_version += 1
        core._calls[call_id] = call
        self._send_invite(call, offer.serialize().encode(), [], now)
        return call_id

    def _send_invite(
        self, call: _Call, body: bytes, extra: list[tuple[str, str]], now: float
    ) -> None:
        call.local_cseq += 1
        branch = "z9hG4bK" + self.core._token()
        headers = self._headers(call, "INVITE", call.local_cseq, branch, call.target)
        for name, value in extra:
            headers.add(name, value)
        headers.add("Content-Type", "application/sdp")
        call.invite = SipRequest("INVITE", call.target, headers, body)
        call.invite_key = branch
        call.ok_cseq = call.local_cseq
        self.core._tx.start_client(
            call.call_id, "INVITE", branch, call.invite.serialize(), call.addr, now
        )

    def _headers(self, call: _Call, method: str, cseq: int, branch: str, uri: str) -> Headers:
        config = self.core.config
        h = Headers()
        h.add("Via", self.core.via(call.transport, branch))
        h.add("Max-Forwards", "70")
        h.add("From", call.local)
        h.add("To", call.remote)
        h.add("Call-ID", call.call_id)
        h.add("CSeq", f"{cseq} {method}")
        h.add("Contact", self.core._contact)
        for route in call.route_set:
            h.add("Route", route)
        h.add("User-Agent", config.user_agent)
        return h

    def cancel(self, call: _Call, now: float) -> None:
        """CANCEL our INVITE while it rings (RFC 3261 §9.1); the 487 ends the call."""
        tx = self.core._tx.client.get(call.invite_key)
        if tx is None:
            return
        invite = call.invite
        h = Headers()
        for name in ("Via", "Max-Forwards", "From", "To", "Call-ID"):
            value = invite.headers.get(name)
            if value is not None:
                h.add(name, value)
        h.add("CSeq", f"{invite.cseq[0]} CANCEL")
        h.add("User-Agent", self.core.config.user_agent)
        data = SipRequest("CANCEL", invite.uri, h).serialize()
        self.core._tx.start_client(
            call.call_id, "CANCEL", call.invite_key + "-c", data, call.addr, now
        )

    # --- REGISTER -----------------------------------------------------------------------

    def register(
        self,
        aor: str,
        *,
        registrar: Addr,
        credentials: Credentials | None,
        expires_s: int,
        now: float,
    ) -> None:
        """REGISTER our Contact for `aor` and keep it registered (refresh at 80 %)."""
        core = self.core
        reg = _Registration(
            registrar, aor, credentials, expires_s, f"{core._token()}@reg", core._token()
        )
        self.registrations[reg.call_id] = reg
        self._send_register(reg, [], now)

    def _send_register(self, reg: _Registration, extra: list[tuple[str, str]], now: float) -> None:
        config = self.core.config
        reg.cseq += 1
        branch = "z9hG4bK" + self.core._token()
        domain = reg.aor.split("@", 1)[-1]
        h = Headers()
        h.add("Via", f"SIP/2.0/UDP {config.public_host}:{config.port};branch={branch};rport")
        h.add("Max-Forwards", "70")
        h.add("From", f"<{reg.aor}>;tag={reg.local_tag}")
        h.add("To", f"<{reg.aor}>")
        h.add("Call-ID", reg.call_id)
        h.add("CSeq", f"{reg.cseq} REGISTER")
        h.add("Contact", self.core._contact)
        h.add("Expires", str(reg.expires_s))
        for name, value in extra:
            h.add(name, value)
        h.add("User-Agent", config.user_agent)
        uri = f"sip:{domain}"
        data = SipRequest("REGISTER", uri, h).serialize()
        self.core._tx.start_client(reg.call_id, "REGISTER", branch, data, reg.registrar, now)

    # --- responses ----------------------------------------------------------------------

    def receive_response(self, resp: SipResponse, now: float) -> bool:
        """Handle a response to our INVITE, REGISTER or CANCEL, or answer a 401/407 to
        any request of ours. True when it was ours to handle."""
        try:
            _cseq, method = resp.cseq
        except ProtocolError:
            return False
        if method == "INVITE" and resp.status >= 200 and self._repeat_ack(resp):
            return True
        if method == "REGISTER" and resp.call_id in self.registrations:
            tx = self._match(resp, now)
            if tx is not None:
                self._register_response(self.registrations[resp.call_id], resp, tx, now)
            return True
        if method == "CANCEL":
            self._match(resp, now)
            return True
        call = self.core._calls.get(resp.call_id)
        if resp.status in (401, 407) and call is not None and call.credentials:
            tx = self._match(resp, now)
            if tx is None:
                return False
            if method == "INVITE":
                self._ack_failure(call, resp)
            if not self._retry_with_auth(call, tx, resp, now) and method == "INVITE":
                self.core._end(call, "unauthorized")
            return True
        if method == "INVITE" and call is not None and call.outbound:
            self._match(resp, now)  # 1xx keep the transaction, a final one ends it
            self._invite_response(call, resp, now)
            return True
        return False

    def _match(self, resp: SipResponse, now: float) -> ClientTransaction | None:
        try:
            return self.core._tx.match_response(resp, now)
        except KeyError:
            return None

    def _repeat_ack(self, resp: SipResponse) -> bool:
        sent = self._acks.get(resp.call_id)
        if sent is None or resp.status < 200 or resp.status >= 300:
            return False
        data, dest, cseq = sent
        if resp.cseq[0] != cseq:
            return False
        self.core._out.append((data, dest))  # our ACK was lost: the 2xx came again
        return True

    def _invite_response(self, call: _Call, resp: SipResponse, now: float) -> None:
        core = self.core
        if call.state is not CallState.RINGING:
            return
        if resp.status < 200:
            if resp.status in (180, 183):
                core._events.append(CallProgress(call.call_id, resp.status))
            return
        if resp.status >= 300:
            self._ack_failure(call, resp)
            core._end(call, failure_reason(resp.status, resp.reason))
            return
        to = resp.headers.get("To") or ""
        contact = resp.headers.get("Contact")
        try:
            call.remote_tag = parse_name_addr(to).tag or ""
            if contact:
                call.target = parse_name_addr(contact).uri
        except ProtocolError as exc:
            core._drop(f"2xx to our INVITE unusable: {exc}", call.addr)
            return
        call.remote = to
        call.route_set = list(reversed(resp.headers.get_all("Record-Route")))
        self._send_ack(call, now)
        try:
            answer = read_answer(parse_sdp(resp.body), srtp_key=core._offer_key(call))
            core._set_media(call, answer)
        except ProtocolError as exc:
            core._drop(f"SDP answer unusable: {exc}", call.addr)
            core._send_bye(call, now)
            core._end(call, "bad SDP answer")
            return
        call.state = CallState.CONFIRMED
        core._events.append(CallConfirmed(call.call_id))

    def _send_ack(self, call: _Call, now: float) -> None:
        # RFC 3261 §13.2.2.4: the ACK for a 2xx is its own transaction, to the target.
        branch = "z9hG4bK" + self.core._token()
        h = self._headers(call, "ACK", call.ok_cseq, branch, call.target)
        data = SipRequest("ACK", call.target, h).serialize()
        dest = self.core._destination(call)
        self._acks[call.call_id] = (data, dest, call.ok_cseq)
        self.core._out.append((data, dest))

    def _ack_failure(self, call: _Call, resp: SipResponse) -> None:
        # §17.1.1.3: the ACK for a non-2xx final is part of the INVITE transaction.
        invite = call.invite
        h = Headers()
        for name in ("Via", "Max-Forwards", "From", "Call-ID"):
            value = invite.headers.get(name)
            if value is not None:
                h.add(name, value)
        h.add("To", resp.headers.get("To") or call.remote)
        h.add("CSeq", f"{invite.cseq[0]} ACK")
        self.core._out.append((SipRequest("ACK", invite.uri, h).serialize(), call.addr))

    def _retry_with_auth(
        self, call: _Call, tx: ClientTransaction, resp: SipResponse, now: float
    ) -> bool:
        """Send the request again with credentials; False when that cannot help."""
        if call.credentials is None or tx.method in call.auth_tried:
            return False
        header = "WWW-Authenticate" if resp.status == 401 else "Proxy-Authenticate"
        try:
            challenge = parse_challenge(resp.headers.get(header) or "")
            original = parse_message(tx.data)
        except ProtocolError:
            return False
        if not isinstance(original, SipRequest):
            return False
        call.auth_tried = call.auth_tried | {tx.method}
        user, secret = call.credentials
        value = answer_challenge(
            challenge,
            method=tx.method,
            uri=original.uri,
            user=user,
            password=secret,
            cnonce=secrets.token_hex(8),
        )
        name = "Authorization" if resp.status == 401 else "Proxy-Authorization"
        if tx.method == "INVITE":
            self._send_invite(call, original.body, [(name, value)], now)
            return True
        extra = [
            (header_name, v)
            for header_name in ("Refer-To", "Referred-By")
            for v in original.headers.get_all(header_name)
        ]
        self.core._send_request(call, tx.method, now, [*extra, (name, value)])
        return True

    def _register_response(
        self, reg: _Registration, resp: SipResponse, tx: ClientTransaction, now: float
    ) -> None:
        core = self.core
        if 200 <= resp.status < 300:
            granted = reg.expires_s
            expires = resp.headers.get("Expires")
            if expires and expires.strip().isdigit():
                granted = int(expires.strip())
            reg.registered = True
            reg.refresh_at = now + max(1.0, granted * 0.8)
            core._events.append(Registered(reg.aor, granted))
            return
        if resp.status in (401, 407) and reg.credentials is not None:
            header = "WWW-Authenticate" if resp.status == 401 else "Proxy-Authenticate"
            name = "Authorization" if resp.status == 401 else "Proxy-Authorization"
            already = b"Authorization:" in tx.data
            try:
                challenge = parse_challenge(resp.headers.get(header) or "")
            except ProtocolError:
                challenge = None
            if challenge is not None and (not already or challenge.stale):
                user, secret = reg.credentials
                value = answer_challenge(
                    challenge,
                    method="REGISTER",
                    uri=f"sip:{reg.aor.split('@', 1)[-1]}",
                    user=user,
                    password=secret,
                    cnonce=secrets.token_hex(8),
                )
                self._send_register(reg, [(name, value)], now)
                return
        reg.registered = False
        reg.refresh_at = None
        core._events.append(RegistrationFailed(reg.aor, resp.status, resp.reason))

    # --- timers -------------------------------------------------------------------------

    def deadlines(self) -> list[float]:
        return [r.refresh_at for r in self.registrations.values() if r.refresh_at is not None]

    def handle_timeout(self, now: float) -> None:
        for reg in self.registrations.values():
            if reg.refresh_at is not None and now >= reg.refresh_at:
                reg.refresh_at = None
                self._send_register(reg, [], now)

    def transaction_timed_out(self, ctx: ClientTransaction) -> None:
        """Timer B/F fired for one of our requests."""
        core = self.core
        if ctx.method == "REGISTER" and ctx.call_id in self.registrations:
            reg = self.registrations[ctx.call_id]
            reg.registered = False
            core._events.append(RegistrationFailed(reg.aor, 408, "no answer from registrar"))
        elif ctx.method == "INVITE":
            call = core._calls.get(ctx.call_id)
            if call is not None and call.outbound:
                core._end(call, "no answer")

    def forget(self, call_id: str) -> None:
        self._acks.pop(call_id, None)
