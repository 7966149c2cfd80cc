"""Requests the core sends on its own initiative (sans-I/O): hang up, transfer, place a
call, register; the Via and route they take; responses to them. A mixin of
`SipServerProtocol`, which holds the state these methods use."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from agentgraph.errors import InvalidState, ProtocolError
from agentgraph.transports.sip.dialog import CallState, _Call
from agentgraph.transports.sip.events import Addr, SipConfig, SipEvent, TransferResult
from agentgraph.transports.sip.message import (
    Headers,
    SipRequest,
    SipResponse,
    parse_name_addr,
    parse_uri,
)
from agentgraph.transports.sip.transaction import TransactionLayer
from agentgraph.transports.sip.uac import Uac

__all__ = ["OutgoingRequests"]


class OutgoingRequests:
    """Our requests in dialogs; see the module docstring."""

    config: SipConfig
    uac: Uac
    _calls: dict[str, _Call]
    _events: list[SipEvent]
    _tx: TransactionLayer
    _contact: str
    _token: Callable[[], str]

    def reject(self, call_id: str, status: int, now: float) -> None:
        raise NotImplementedError

    def _end(self, call: _Call, reason: str) -> None:
        raise NotImplementedError

    def _drop(self, reason: str, addr: Addr) -> None:
        raise NotImplementedError

    def via(self, transport: str, branch: str) -> str:
        """Our Via for a request sent over `transport` (UDP, TCP or TLS)."""
        port = self.config.tls_port if transport == "TLS" and self.config.tls_port else None
        sent_by = f"{self.config.public_host}:{port or self.config.port}"
        return f"SIP/2.0/{transport} {sent_by};branch={branch};rport"

    def _offer_key(self, call: _Call) -> bytes | None:
        """Our SRTP key when we offer: SDES offers are RTP/SAVP only when required
        (an optional SRTP offer would be refused by plain-RTP peers)."""
        return call.srtp_key if self.config.srtp == "required" else None

    def hangup(self, call_id: str, now: float) -> None:
        """End a call from our side: BYE when answered, 480 while still ringing."""
        call = self._calls.get(call_id)
        if call is None:
            return
        if call.outbound and call.state is CallState.RINGING:
            self.uac.cancel(call, now)  # the 487 ends it
        elif call.state is CallState.RINGING:
            self.reject(call_id, 480, now)
        elif call.state is CallState.ANSWERED:
            call.bye_after_ack = True  # §15: no BYE before the ACK (or its timeout)
        else:
            self._send_bye(call, now)
            self._end(call, "local hangup")

    def dial(
        self,
        target: str,
        *,
        dest: Addr,
        rtp_host: str,
        rtp_port: int,
        from_user: str = "agentgraph",
        credentials: tuple[str, str] | None = None,
        transport: str = "UDP",
        now: float,
    ) -> str:
        """Place a call to `target` (sip: URI) through `dest` over `transport`; returns
        its call id. `CallProgress`, then `CallConfirmed` or `CallEnded` (why not) follow."""
        return self.uac.dial(
            target,
            dest=dest,
            rtp_host=rtp_host,
            rtp_port=rtp_port,
            from_user=from_user,
            credentials=credentials,
            transport=transport,
            now=now,
        )

    def register(
        self,
        aor: str,
        *,
        registrar: Addr,
        credentials: tuple[str, str] | None = None,
        expires_s: int = 300,
        now: float,
    ) -> None:
        """Register our Contact as `aor` and refresh it; `Registered` or
        `RegistrationFailed` follow."""
        self.uac.register(
            aor, registrar=registrar, credentials=credentials, expires_s=expires_s, now=now
        )

    def refer(self, call_id: str, target: str, now: float) -> None:
        """Ask the caller to transfer to `target` (RFC 3515); `TransferResult` follows.

        Raises:
            InvalidState: the call is not confirmed.
        """
        call = self._calls.get(call_id)
        if call is None or call.state is not CallState.CONFIRMED:
            raise InvalidState(f"cannot transfer call {call_id!r}: not connected")
        contact_uri = self._contact[1:-1]
        self._send_request(
            call, "REFER", now, [("Refer-To", f"<{target}>"), ("Referred-By", f"<{contact_uri}>")]
        )

    def _send_bye(self, call: _Call, now: float) -> None:
        self._send_request(call, "BYE", now, [])

    def _send_request(
        self, call: _Call, method: str, now: float, extra: list[tuple[str, str]]
    ) -> None:
        call.local_cseq += 1
        branch = "z9hG4bK" + self._token()
        h = Headers()
        h.add("Via", self.via(call.transport, branch))
        h.add("Max-Forwards", "70")
        h.add("From", call.local)
        h.add("To", call.remote)
        h.add("Call-ID", call.call_id)
        h.add("CSeq", f"{call.local_cseq} {method}")
        h.add("Contact", self._contact)
        # RFC 3261 §12.1.1: the UAS route set is Record-Route in order (loose routing).
        for route in call.route_set:
            h.add("Route", route)
        for name, value in extra:
            h.add(name, value)
        h.add("User-Agent", self.config.user_agent)
        data = SipRequest(method, call.target, h).serialize()
        self._tx.start_client(call.call_id, method, branch, data, self._destination(call), now)

    def _destination(self, call: _Call) -> Addr:
        # Send to the first route, else the remote target; names we cannot resolve without
        # DNS (the core has no I/O) fall back to where the INVITE came from.
        try:
            uri = parse_uri(
                parse_name_addr(call.route_set[0]).uri if call.route_set else call.target
            )
            ipaddress.ip_address(uri.host)
        except (ProtocolError, ValueError):
            return call.addr
        return uri.host, uri.port or 5060

    def _receive_response(self, resp: SipResponse, addr: Addr, now: float) -> None:
        if self.uac.receive_response(resp, now):
            return
        try:
            tx = self._tx.match_response(resp, now)
        except KeyError:
            self._drop(f"response {resp.status} matches no transaction", addr)
            return
        if tx is not None and tx.method == "REFER":
            self._events.append(TransferResult(tx.call_id, resp.status, final=resp.status >= 300))
