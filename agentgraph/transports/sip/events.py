"""Settings and events of the SIP UAS core (`SipServerProtocol.events_received()`)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from agentgraph.transports.sip.sdp import NegotiatedMedia

__all__ = [
    "Addr",
    "CallConfirmed",
    "CallEnded",
    "CallMedia",
    "CallProgress",
    "DtmfReceived",
    "IncomingCall",
    "MessageDropped",
    "Registered",
    "RegistrationFailed",
    "SipConfig",
    "SipEvent",
    "TransferResult",
]

Addr = tuple[str, int]


@dataclass(frozen=True, slots=True)
class SipConfig:
    """UAS settings.

    `host`/`port` are where we listen; `advertise` (when set) is the address callers
    reach us at (a public or NAT address) and goes into Via, Contact and SDP instead.
    `max_half_open` bounds the answered calls from one source address whose ACK is
    `ack_grace_s` overdue (None: a quarter of `max_calls`, at least one); when full, such
    a call gives its slot to a new caller, so unACKed INVITEs cannot hold every slot. `rate_per_s`
    and `rate_burst` limit datagrams per source address (0 turns the limit off).
    """

    host: str
    port: int
    advertise: str = ""
    user: str = "agentgraph"
    user_agent: str = "agentgraph"
    max_calls: int = 100
    codecs: tuple[str, ...] = ("PCMU", "PCMA")  # our preference when we make the offer
    allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    t1_s: float = 0.5  # RFC 3261 §17.1.1.1 defaults
    t2_s: float = 4.0
    t4_s: float = 5.0
    max_half_open: int | None = None
    ack_grace_s: float = 2.0
    rate_per_s: float = 200.0
    rate_burst: float = 400.0
    # digest users (user, secret) new INVITEs must authenticate as; empty: no challenge
    auth: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    auth_realm: str = "agentgraph"
    srtp: str = "off"  # off | optional | required (SDES AES_CM_128_HMAC_SHA1_80)
    tls_port: int = 0  # where we take SIP over TLS (0: none); TCP shares `port`

    @property
    def public_host(self) -> str:
        """The address we put in Via, Contact and SDP."""
        return self.advertise or self.host

    @property
    def half_open_limit(self) -> int:
        """Calls that may wait for their ACK at once."""
        if self.max_half_open is not None:
            return max(1, self.max_half_open)
        return max(1, self.max_calls // 4)


# --- events -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IncomingCall:
    """A new call is ringing: answer with `accept()` or `reject()`."""

    call_id: str
    caller: str
    callee: str  # the dialled user part (number), used for routing
    remote_addr: Addr
    codec: str | None = None  # "PCMU"/"PCMA" from the offer; None when it had no SDP


@dataclass(frozen=True, slots=True)
class CallMedia:
    """Media was (re)negotiated: send RTP to `media.remote_*` with `media.codec`."""

    call_id: str
    media: NegotiatedMedia


@dataclass(frozen=True, slots=True)
class CallConfirmed:
    """The caller ACKed our 200 OK: the conversation starts."""

    call_id: str


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call is over (`reason` says why); release its media."""

    call_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class DtmfReceived:
    """A DTMF digit arrived by SIP INFO (RTP digits are seen by the media shell)."""

    call_id: str
    digit: str


@dataclass(frozen=True, slots=True)
class TransferResult:
    """Outcome of our REFER: the REFER's final status, then NOTIFY sipfrag statuses."""

    call_id: str
    status: int
    final: bool


@dataclass(frozen=True, slots=True)
class CallProgress:
    """Our outgoing call is ringing (180) or has early media (183)."""

    call_id: str
    status: int


@dataclass(frozen=True, slots=True)
class Registered:
    """The registrar accepted our REGISTER for `aor` for `expires_s` seconds."""

    aor: str
    expires_s: int


@dataclass(frozen=True, slots=True)
class RegistrationFailed:
    """The registrar refused us (or never answered)."""

    aor: str
    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class MessageDropped:
    """A datagram was ignored; the shell logs `reason`."""

    reason: str
    addr: Addr


SipEvent = (
    IncomingCall
    | CallMedia
    | CallConfirmed
    | CallEnded
    | DtmfReceived
    | TransferResult
    | MessageDropped
    | CallProgress
    | Registered
    | RegistrationFailed
)
