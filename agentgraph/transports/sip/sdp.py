"""SDP (RFC 4566) parsing and the offer/answer rules of RFC 3264 for one audio stream.

We speak PCMU (payload type 0), PCMA (8) and telephone-event (RFC 4733, dynamic type).
`answer_offer()` picks the first codec of the offer we support (the offerer's preference,
RFC 3264 §6.1), mirrors the direction (sendonly -> recvonly for hold), and raises
`NoCommonCodec` when nothing fits so the UAS can answer 488. `make_offer()` is used when
an INVITE arrives without SDP (we offer in the 200, the answer comes in the ACK).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from dataclasses import dataclass, field, replace

from agentgraph.errors import ProtocolError

__all__ = [
    "CODECS",
    "Codec",
    "MediaDescription",
    "MediaRefused",
    "NegotiatedMedia",
    "NoCommonCodec",
    "SessionDescription",
    "answer_offer",
    "crypto_line",
    "make_offer",
    "parse_sdp",
    "read_answer",
]

MAX_SDP_LINES = 256
SRTP_SUITE = "AES_CM_128_HMAC_SHA1_80"  # SDES (RFC 4568), the one suite carriers all take
SRTP_KEY_BYTES = 30  # 16-byte master key + 14-byte salt
DIRECTIONS = frozenset({"sendrecv", "sendonly", "recvonly", "inactive"})
_REVERSE = {
    "sendrecv": "sendrecv",
    "sendonly": "recvonly",
    "recvonly": "sendonly",
    "inactive": "inactive",
}


@dataclass(frozen=True, slots=True)
class Codec:
    """An audio codec we can carry: RTP payload type, encoding name, clock rate."""

    payload_type: int
    name: str
    clock_rate_hz: int = 8000


PCMU = Codec(0, "PCMU")
PCMA = Codec(8, "PCMA")
CODECS = (PCMU, PCMA)
_STATIC = {
    0: ("PCMU", 8000),
    8: ("PCMA", 8000),
    3: ("GSM", 8000),
    9: ("G722", 8000),
    18: ("G729", 8000),
    4: ("G723", 8000),
}


class MediaRefused(ProtocolError):
    """A well-formed offer we will not take (answer 488 Not Acceptable Here)."""


class NoCommonCodec(MediaRefused):
    """The offer has no codec we support (answer 488 Not Acceptable Here)."""


def _literal_host(host: str, what: str) -> str:
    # A caller must not make us resolve names or stream to a group: we send media only
    # to a literal unicast address (0.0.0.0 is the old hold convention).
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise MediaRefused(
            f"SDP {what} connection address {host[:60]!r} is not a literal IP address"
        ) from None
    if ip.is_multicast:
        raise MediaRefused(f"SDP {what} connection address {host} is multicast")
    return host


@dataclass(frozen=True, slots=True)
class MediaDescription:
    """One m= section with the attributes we use."""

    media: str
    port: int
    proto: str
    formats: tuple[int, ...]
    rtpmap: tuple[tuple[int, str, int], ...] = ()  # (payload type, name, clock rate)
    fmtp: tuple[tuple[int, str], ...] = ()
    direction: str = "sendrecv"
    connection: str | None = None
    ptime_ms: int | None = None
    crypto: tuple[tuple[int, str, str], ...] = ()  # a=crypto: (tag, suite, key params)

    def encoding(self, payload_type: int) -> tuple[str, int] | None:
        """(name, clock) for a payload type, from rtpmap or the static table."""
        for pt, name, clock in self.rtpmap:
            if pt == payload_type:
                return name, clock
        return _STATIC.get(payload_type)


@dataclass(frozen=True, slots=True)
class SessionDescription:
    """A parsed session description; `media` keeps m= order."""

    origin: str
    session_name: str
    connection: str | None
    media: tuple[MediaDescription, ...] = field(default_factory=tuple)
    direction: str = "sendrecv"

    def serialize(self) -> str:
        """SDP text with CRLF line ends."""
        lines = ["v=0", f"o={self.origin}", f"s={self.session_name or '-'}"]
        if self.connection:
            lines.append(f"c=IN IP4 {self.connection}")
        lines.append("t=0 0")
        for m in self.media:
            fmts = " ".join(str(f) for f in m.formats)
            lines.append(f"m={m.media} {m.port} {m.proto} {fmts}")
            if m.connection:
                lines.append(f"c=IN IP4 {m.connection}")
            for pt, name, clock in m.rtpmap:
                lines.append(f"a=rtpmap:{pt} {name}/{clock}")
            for pt, params in m.fmtp:
                lines.append(f"a=fmtp:{pt} {params}")
            if m.ptime_ms:
                lines.append(f"a=ptime:{m.ptime_ms}")
            for tag, suite, params in m.crypto:
                lines.append(f"a=crypto:{tag} {suite} {params}")
            lines.append(f"a={m.direction}")
        return "\r\n".join(lines) + "\r\n"


def parse_sdp(text: str | bytes) -> SessionDescription:
    """Parse SDP; raises ProtocolError with the offending line."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("SDP is not UTF-8") from None
    lines = [ln.strip() for ln in text.replace("\r\n", "\n").split("\n") if ln.strip()]
    if len(lines) > MAX_SDP_LINES:
        raise ProtocolError(f"SDP has {len(lines)} lines (limit {MAX_SDP_LINES})")
    if not lines or lines[0] != "v=0":
        raise ProtocolError("SDP must start with v=0")
    origin = session_name = ""
    connection: str | None = None
    session_dir = "sendrecv"
    media: list[_MediaBuilder] = []
    for line in lines[1:]:
        if len(line) < 2 or line[1] != "=":
            raise ProtocolError(f"malformed SDP line {line[:40]!r}")
        kind, value = line[0], line[2:]
        current = media[-1] if media else None
        if kind == "o":
            origin = value
        elif kind == "s":
            session_name = value
        elif kind == "c":
            addr = _parse_connection(value)
            if current is None:
                connection = addr
            else:
                current.connection = addr
        elif kind == "m":
            media.append(_parse_m_line(value))
        elif kind == "a":
            name, _, arg = value.partition(":")
            if name in DIRECTIONS:
                if current is None:
                    session_dir = name
                else:
                    current.direction = name
            elif current is not None and name == "rtpmap":
                current.rtpmap.append(_parse_rtpmap(arg))
            elif current is not None and name == "fmtp":
                pt_text, _, params = arg.partition(" ")
                if pt_text.isdigit():
                    current.fmtp.append((int(pt_text), params.strip()))
            elif current is not None and name == "ptime" and arg.strip().isdigit():
                current.ptime_ms = int(arg)
            elif current is not None and name == "crypto":
                parts = arg.split()
                if len(parts) >= 3 and parts[0].isdigit() and len(parts[0]) < 10:
                    current.crypto.append((int(parts[0]), parts[1], parts[2]))
    if not origin:
        raise ProtocolError("SDP has no o= line")
    descs = tuple(
        MediaDescription(
            m.media,
            m.port,
            m.proto,
            tuple(m.formats),
            tuple(m.rtpmap),
            tuple(m.fmtp),
            m.direction or session_dir,
            m.connection,
            m.ptime_ms,
            tuple(m.crypto),
        )
        for m in media
    )
    return SessionDescription(origin, session_name, connection, descs, session_dir)


def _parse_connection(value: str) -> str:
    parts = value.split()
    if len(parts) != 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
        raise ProtocolError(f"malformed SDP c= line {value[:40]!r}")
    return parts[2].split("/")[0]


@dataclass(slots=True)
class _MediaBuilder:
    media: str
    port: int
    proto: str
    formats: list[int]
    rtpmap: list[tuple[int, str, int]] = field(default_factory=list)
    fmtp: list[tuple[int, str]] = field(default_factory=list)
    direction: str | None = None
    connection: str | None = None
    ptime_ms: int | None = None
    crypto: list[tuple[int, str, str]] = field(default_factory=list)


def _parse_m_line(value: str) -> _MediaBuilder:
    parts = value.split()
    if len(parts) < 4 or not parts[1].split("/")[0].isdigit():
        raise ProtocolError(f"malformed SDP m= line {value[:40]!r}")
    port = int(parts[1].split("/")[0])
    if port > 65535:
        raise ProtocolError(f"SDP m= port out of range {value[:40]!r}")
    formats = []
    for fmt in parts[3:]:
        if fmt.isdigit() and int(fmt) < 128:
            formats.append(int(fmt))
        elif parts[2].startswith("RTP"):
            raise ProtocolError(f"bad RTP payload type {fmt[:10]!r} in m= line")
    return _MediaBuilder(parts[0], port, parts[2], formats)


def _parse_rtpmap(arg: str) -> tuple[int, str, int]:
    pt_text, _, enc = arg.partition(" ")
    pieces = enc.strip().split("/")
    if not pt_text.isdigit() or len(pieces) < 2 or not pieces[1].isdigit():
        raise ProtocolError(f"malformed a=rtpmap {arg[:40]!r}")
    return int(pt_text), pieces[0], int(pieces[1])


@dataclass(frozen=True, slots=True)
class NegotiatedMedia:
    """What both sides agreed: where to send RTP, which codec, DTMF type, direction.

    `direction` is from OUR point of view: `sendrecv`, `recvonly` when the caller put us on
    hold (we stop sending), `inactive`, or `sendonly`.
    """

    remote_host: str
    remote_port: int
    codec: Codec
    dtmf_payload_type: int | None
    direction: str
    srtp_keys: tuple[bytes, bytes] | None = None  # (ours, theirs) when the leg is SRTP

    @property
    def on_hold(self) -> bool:
        return self.direction in ("recvonly", "inactive") or self.remote_host == "0.0.0.0"


def _pick_audio(desc: SessionDescription) -> tuple[int, MediaDescription]:
    for index, m in enumerate(desc.media):
        if m.media == "audio" and m.port != 0 and m.proto in ("RTP/AVP", "RTP/SAVP"):
            return index, m
    raise NoCommonCodec("SDP offer has no RTP/AVP or RTP/SAVP audio stream")


def _their_key(audio: MediaDescription) -> tuple[int, bytes]:
    """(tag, key material) of the first crypto line we can use; MediaRefused if none."""
    for tag, suite, params in audio.crypto:
        if suite != SRTP_SUITE or not params.startswith("inline:"):
            continue
        encoded = params[len("inline:") :].split("|", 1)[0]
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(key) == SRTP_KEY_BYTES:
            return tag, key
    raise MediaRefused(f"no usable SRTP crypto line (we take {SRTP_SUITE} with an inline key)")


def crypto_line(tag: int, key: bytes) -> tuple[int, str, str]:
    """Our a=crypto attribute for `key` (30 bytes)."""
    return tag, SRTP_SUITE, "inline:" + base64.b64encode(key).decode()


def answer_offer(
    offer: SessionDescription,
    *,
    local_host: str,
    local_port: int,
    session_id: int,
    version: int = 1,
    codecs: tuple[Codec, ...] = CODECS,
    srtp: str = "off",
    srtp_key: bytes | None = None,
) -> tuple[SessionDescription, NegotiatedMedia]:
    """Build the answer to an offer (RFC 3264 §6); raises MediaRefused (send 488).

    `srtp`: "off" refuses RTP/SAVP offers, "required" refuses plain RTP/AVP ones,
    "optional" takes either; an SRTP answer carries `srtp_key` (ours) in a=crypto.
    """
    index, audio = _pick_audio(offer)
    keys: tuple[bytes, bytes] | None = None
    crypto: tuple[tuple[int, str, str], ...] = ()
    if audio.proto == "RTP/SAVP":
        if srtp == "off":
            raise MediaRefused("the offer is SRTP (RTP/SAVP) and sip.srtp is off")
        tag, theirs = _their_key(audio)
        mine = srtp_key or bytes(SRTP_KEY_BYTES)
        keys, crypto = (mine, theirs), (crypto_line(tag, mine),)
    elif srtp == "required":
        raise MediaRefused("SRTP is required here (RTP/SAVP with SDES crypto)")
    chosen: Codec | None = None
    dtmf_pt: int | None = None
    wanted = {c.name.upper(): c for c in codecs}
    for pt in audio.formats:
        enc = audio.encoding(pt)
        if enc is None:
            continue
        name, clock = enc[0].upper(), enc[1]
        if chosen is None and name in wanted and clock == 8000:
            chosen = Codec(pt, wanted[name].name)
        elif name == "TELEPHONE-EVENT" and clock == 8000 and dtmf_pt is None:
            dtmf_pt = pt
    if chosen is None:
        raise NoCommonCodec("no common codec: we accept PCMU and PCMA")
    remote_host = audio.connection or offer.connection
    if not remote_host:
        raise ProtocolError("SDP offer has no connection address")
    _literal_host(remote_host, "offer")
    direction = _REVERSE.get(audio.direction, "sendrecv")
    if remote_host == "0.0.0.0":  # RFC 2543 hold
        direction = "recvonly"
    formats = [chosen.payload_type] + ([dtmf_pt] if dtmf_pt is not None else [])
    rtpmap = [(chosen.payload_type, chosen.name, 8000)]
    fmtp: list[tuple[int, str]] = []
    if dtmf_pt is not None:
        rtpmap.append((dtmf_pt, "telephone-event", 8000))
        fmtp.append((dtmf_pt, "0-16"))
    ours = MediaDescription(
        "audio",
        local_port,
        audio.proto,
        tuple(formats),
        tuple(rtpmap),
        tuple(fmtp),
        direction,
        None,
        20,
        crypto,
    )
    # RFC 3264 §6: the answer has as many m= lines as the offer; others rejected (port 0).
    media = tuple(
        ours if i == index else replace(m, port=0, rtpmap=(), fmtp=(), connection=None, crypto=())
        for i, m in enumerate(offer.media)
    )
    answer = SessionDescription(
        f"agentgraph {session_id} {version} IN IP4 {local_host}", "agentgraph", local_host, media
    )
    negotiated = NegotiatedMedia(remote_host, audio.port, chosen, dtmf_pt, direction, keys)
    return answer, negotiated


def make_offer(
    *,
    local_host: str,
    local_port: int,
    session_id: int,
    version: int = 1,
    dtmf_payload_type: int = 101,
    srtp_key: bytes | None = None,
) -> SessionDescription:
    """Our offer (an INVITE without SDP, or our own call): PCMU, PCMA, telephone-event;
    RTP/SAVP with an a=crypto line when `srtp_key` is given."""
    rtpmap = ((0, "PCMU", 8000), (8, "PCMA", 8000), (dtmf_payload_type, "telephone-event", 8000))
    m = MediaDescription(
        "audio",
        local_port,
        "RTP/SAVP" if srtp_key else "RTP/AVP",
        (0, 8, dtmf_payload_type),
        rtpmap,
        ((dtmf_payload_type, "0-16"),),
        "sendrecv",
        None,
        20,
        (crypto_line(1, srtp_key),) if srtp_key else (),
    )
    return SessionDescription(
        f"agentgraph {session_id} {version} IN IP4 {local_host}", "agentgraph", local_host, (m,)
    )


def read_answer(answer: SessionDescription, srtp_key: bytes | None = None) -> NegotiatedMedia:
    """The media agreed by an answer to our offer (SRTP when we offered `srtp_key`);
    raises MediaRefused."""
    _, audio = _pick_audio(answer)
    keys: tuple[bytes, bytes] | None = None
    if srtp_key is not None:
        if audio.proto != "RTP/SAVP":
            raise MediaRefused("we offered SRTP and the answer is plain RTP")
        keys = (srtp_key, _their_key(audio)[1])
    for pt in audio.formats:
        enc = audio.encoding(pt)
        if enc and enc[0].upper() in ("PCMU", "PCMA") and enc[1] == 8000:
            dtmf = next(
                (
                    p
                    for p in audio.formats
                    if (audio.encoding(p) or ("",))[0].lower() == "telephone-event"
                ),
                None,
            )
            host = audio.connection or answer.connection
            if not host:
                raise ProtocolError("SDP answer has no connection address")
            _literal_host(host, "answer")
            return NegotiatedMedia(
                host,
                audio.port,
                Codec(pt, enc[0].upper()),
                dtmf,
                _REVERSE.get(audio.direction, "sendrecv"),
                keys,
            )
    raise NoCommonCodec("answer has no codec we offered")
