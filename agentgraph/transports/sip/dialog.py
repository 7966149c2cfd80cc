"""The dialog record the SIP core keeps per call (sans-I/O, shared by protocol and uac)."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field

from agentgraph.transports.sip.events import Addr
from agentgraph.transports.sip.message import SipRequest
from agentgraph.transports.sip.sdp import NegotiatedMedia, SessionDescription

__all__ = ["CallState", "_Call", "_token"]


class CallState(enum.Enum):
    RINGING = "ringing"  # INVITE received, no final response yet
    ANSWERED = "answered"  # 200 OK sent, waiting for ACK
    CONFIRMED = "confirmed"
    ENDED = "ended"


@dataclass(slots=True)
class _Call:
    call_id: str
    addr: Addr
    invite: SipRequest
    invite_key: str
    local_tag: str
    remote_tag: str
    remote: str  # From header value (their address incl. tag)
    local: str  # To header value with our tag
    target: str  # their Contact URI: where in-dialog requests go
    route_set: list[str]
    session_id: int
    state: CallState = CallState.RINGING
    offer: SessionDescription | None = None
    media: NegotiatedMedia | None = None
    rtp: Addr | None = None
    sdp_version: int = 1
    local_cseq: int = 1
    remote_cseq: int = 0
    ok: bytes | None = None  # 2xx being retransmitted until ACK (INVITE or re-INVITE)
    ok_cseq: int = 0
    ok_retransmit_at: float = 0.0
    ok_interval_s: float = 0.0
    ok_expires_at: float = 0.0
    awaiting_answer: bool = False  # we offered in the 2xx; the answer comes in the ACK
    bye_after_ack: bool = False
    outbound: bool = False  # we placed it (uac.py)
    credentials: tuple[str, str] | None = None  # answers 401/407 to our requests
    auth_tried: frozenset[str] = frozenset()  # methods already re-sent with credentials
    srtp_key: bytes = field(default_factory=lambda: secrets.token_bytes(30), repr=False)
    transport: str = "UDP"  # of the INVITE's top Via: our in-dialog requests use it too
    answered_at: float = 0.0


def _token() -> str:
    return secrets.token_hex(8)
