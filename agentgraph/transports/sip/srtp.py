"""SRTP for a call's RTP leg (SDES keys from the SDP, AES_CM_128_HMAC_SHA1_80), through
libsrtp (`pylibsrtp`, the `phone` extra). One session protects what we send with our
key; one unprotects what arrives with theirs (any SSRC, so a restarted stream works)."""

from __future__ import annotations

from typing import Any

from agentgraph.errors import UsageError

__all__ = ["SrtpContext"]


class SrtpContext:
    """protect()/unprotect() for one call; unprotect raises ValueError on a bad packet."""

    def __init__(self, local_key: bytes, remote_key: bytes) -> None:
        try:
            from pylibsrtp import Policy, Session
        except ImportError:
            raise UsageError("SRTP needs pylibsrtp: pip install 'agentgraph[phone]'") from None
        profile = Policy.SRTP_PROFILE_AES128_CM_SHA1_80
        self._out: Any = Session(
            policy=Policy(key=local_key, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile)
        )
        self._in: Any = Session(
            policy=Policy(key=remote_key, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=profile)
        )

    def protect(self, packet: bytes) -> bytes:
        return bytes(self._out.protect(packet))

    def unprotect(self, packet: bytes) -> bytes:
        try:
            return bytes(self._in.unprotect(packet))
        except Exception as exc:  # pylibsrtp.Error: auth failure, replay, garbage
            raise ValueError(str(exc)) from None
