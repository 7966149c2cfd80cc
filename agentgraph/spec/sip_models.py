"""The `sip:` section of the graph language (phone calls), as pydantic models.

Split from `models.py` (which imports `SipSpec` for `Graph.sip`); the same rules apply:
these models are the single source of truth for the schema, and their descriptions are
the editor hints.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CodecName",
    "HostPort",
    "SipMediaStreamsSpec",
    "SipOpenAISpec",
    "SipSpec",
    "SipTls",
    "SipTrunk",
    "SipUser",
]

CodecName = Literal["pcmu", "pcma"]
HostPort = Annotated[str, Field(pattern=r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):[0-9]{1,5}$")]


def _default_codecs() -> list[CodecName]:
    return ["pcmu", "pcma"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SipOpenAISpec(_Model):
    """OpenAI's SIP connector: a webhook receives realtime.call.incoming."""

    webhook_secret: str = Field(
        description="The whsec_... signing secret; use ${...}.",
        repr=False,
        examples=["${OPENAI_WEBHOOK_SECRET}"],
    )
    listen: HostPort = Field("127.0.0.1:8000", description="Where the webhook listens (HTTP).")
    path: str = Field("/openai/webhook", description="The webhook's URL path.")
    project_id: str | None = Field(
        None, description="Your OpenAI project id (for the SIP URI).", examples=["proj_abc123"]
    )


class SipMediaStreamsSpec(_Model):
    """Who may open a media stream (`serve --media-streams`): a URL token, Twilio's
    signature, or both.

    Without either, media streams are served on loopback only.
    """

    token: str | None = Field(
        None,
        min_length=16,
        description="A secret the stream URL must carry as ?token=...; use ${...}.",
        repr=False,
        examples=["${MEDIA_STREAM_TOKEN}"],
    )
    twilio_auth_token: str | None = Field(
        None,
        description="Your Twilio auth token: each handshake's X-Twilio-Signature is "
        "checked with it; use ${...}.",
        repr=False,
        examples=["${TWILIO_AUTH_TOKEN}"],
    )
    public_url: str | None = Field(
        None,
        pattern=r"^wss?://",
        description="The wss:// URL configured at Twilio (what it signs), without query; "
        "needed with twilio_auth_token.",
        examples=["wss://agent.example.com/media"],
    )


class SipUser(_Model):
    """A caller or trunk allowed to call in with SIP digest authentication."""

    user: str = Field(min_length=1)
    secret: str = Field(min_length=1, description="The password; use ${...}.", repr=False)


class SipTls(_Model):
    """SIP over TLS: where, and the certificate to present."""

    port: int = Field(5061, ge=1, le=65535, description="TLS port (on the listen host).")
    cert: str = Field(description="PEM certificate chain file (relative to the graph file).")
    key: str = Field(description="PEM private key file (relative to the graph file).")


class SipTrunk(_Model):
    """The SIP trunk (carrier or PBX) for outgoing calls, and to register with."""

    address: HostPort = Field(description="The trunk's SIP address, host:port.")
    user: str | None = Field(None, description="Digest user name (and our AOR user).")
    secret: str | None = Field(None, description="Digest password; use ${...}.", repr=False)
    domain: str | None = Field(None, description="AOR domain; default: the trunk's host.")
    registration: bool = Field(False, description="REGISTER while serving, refreshed.")
    expires: int = Field(300, ge=30, le=86400, description="Registration lifetime asked.")
    from_user: str | None = Field(None, description="Caller ID user; default: user.")
    transport: Literal["udp", "tcp", "tls"] = Field("udp", description="How to reach it.")


class SipSpec(_Model):
    """Answering phone calls directly as a SIP user agent (and/or via OpenAI)."""

    listen: HostPort = Field("127.0.0.1:5060", description="UDP address to listen on.")
    allow: list[str] = Field(
        default_factory=lambda: ["127.0.0.0/8"],
        description="Networks (CIDR) allowed to call in.",
    )
    max_calls: int = Field(4, ge=1, le=1000)
    advertise: str | None = Field(
        None,
        pattern=r"^[0-9A-Fa-f:.]+$",
        description="The IP address callers reach us at (public or NAT address), put in "
        "Via, Contact and SDP; default: the listen address (required when listening on "
        "0.0.0.0).",
    )
    rtp_ports: str | None = Field(
        None,
        pattern=r"^[0-9]{1,5}-[0-9]{1,5}$",
        description="RTP port range, e.g. 10000-20000 (even ports are used); default: any.",
    )
    rate_limit: int = Field(
        200, ge=0, description="SIP datagrams per second from one address (0: no limit)."
    )
    auth: list[SipUser] = Field(
        default_factory=list,
        description="When set, new calls must authenticate (SIP digest) as one of these.",
    )
    trunk: SipTrunk | None = None
    tcp: bool = Field(False, description="Also take SIP over TCP on the listen port.")
    tls: SipTls | None = None
    srtp: Literal["off", "optional", "required"] = Field(
        "off",
        description="SRTP (SDES, AES_CM_128_HMAC_SHA1_80): off refuses SRTP offers, "
        "optional takes SRTP or RTP, required refuses plain RTP and offers only SRTP.",
    )
    routes: dict[str, str] = Field(
        default_factory=dict, description="Dialled number -> the agent that answers."
    )
    codecs: list[CodecName] = Field(default_factory=_default_codecs)
    openai: SipOpenAISpec | None = None
    media_streams: SipMediaStreamsSpec | None = Field(
        None, description="Authentication of Twilio-style media streams."
    )
