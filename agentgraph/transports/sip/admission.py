"""Who may start a call (sans-I/O): capacity, draining, answered calls whose ACK is
overdue, and the digest challenge of `sip.auth`. A mixin of `SipServerProtocol`."""

from __future__ import annotations

from agentgraph.transports.sip.dialog import CallState, _Call
from agentgraph.transports.sip.digest import DigestVerifier
from agentgraph.transports.sip.events import Addr, SipConfig
from agentgraph.transports.sip.message import SipRequest
from agentgraph.transports.sip.transaction import TransactionLayer

__all__ = ["Admission"]


class Admission:
    """Admission rules; see the module docstring."""

    config: SipConfig
    draining: bool
    _calls: dict[str, _Call]
    _tx: TransactionLayer
    _verifier: DigestVerifier | None

    def _end(self, call: _Call, reason: str) -> None:
        raise NotImplementedError

    def _refuse(self, reason: str) -> None:
        raise NotImplementedError

    def _stale(self, now: float, host: str | None = None) -> list[_Call]:
        """Answered calls whose ACK is overdue (a caller that ACKs does so within an RTT
        plus a few 200 retransmissions), oldest first; from `host` when given."""
        grace = self.config.ack_grace_s
        return sorted(
            (
                c
                for c in self._calls.values()
                if c.state is CallState.ANSWERED
                and now - c.answered_at >= grace
                and (host is None or c.addr[0] == host)
            ),
            key=lambda c: c.answered_at,
        )

    def _admission(self, host: str, now: float) -> str | None:
        """Why a new INVITE from `host` is refused (503), or None to take it."""
        if self.draining:
            return "draining"
        if len(self._calls) >= self.config.max_calls:
            stale = self._stale(now)
            if not stale:
                return "capacity"
            # A dialog that never ACKed gives its slot to a caller (no BYE before ACK).
            stale[0].ok = None
            self._end(stale[0], "no ACK")
        if len(self._stale(now, host)) >= self.config.half_open_limit:
            return "half-open"
        return None

    def _authenticated(self, req: SipRequest, addr: Addr, now: float) -> bool:
        """Digest check of a new INVITE (`sip.auth`); a stateless 401 when it fails."""
        assert self._verifier is not None
        header = req.headers.get("Authorization") or req.headers.get("Proxy-Authorization")
        ok, stale, _user = self._verifier.verify(header, req.method, req.uri, now)
        if ok:
            return True
        if header:
            self._refuse("bad credentials")
        challenge = self._verifier.challenge(now, stale=stale)
        self._tx.reply(req, addr, 401, headers=[("WWW-Authenticate", challenge)])
        return False
