"""Settings and events of the SIP UAS core (`SipServerProtocol.events_received()`)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from agentgraph.transports.sip.sdp import NegotiatedMedia

__all__ = [
    "Addr",
    "CallConfirmed",
    "CallEnded",
    "CallMedia",
    "DtmfReceived",
    "IncomingCall",
    "MessageDropped",
    "SipConfig",
    "SipEvent",
    "TransferResult",
]

Addr = tuple[str, int]


@dataclass(frozen=True, slots=True)
class SipConfig:
    """UAS settings. `host`/`port` are what we advertise in Via, Contact and SDP."""

    host: str
    port: int
    user: str = "agentgraph"
    user_agent: str = "agentgraph"
    max_calls: int = 100
    codecs: tuple[str, ...] = ("PCMU", "PCMA")  # our preference when we make the offer
    allow: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    t1_s: float = 0.5  # RFC 3261 §17.1.1.1 defaults
    t2_s: float = 4.0
    t4_s: float = 5.0


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
)
