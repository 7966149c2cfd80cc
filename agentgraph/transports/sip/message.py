"""SIP messages (RFC 3261 §7): parse and serialize, plus the header value grammars we need.

Theory of operation: a datagram is split at the first blank line; the start line says
request or response; header lines (folded continuation lines joined, compact names
expanded) become an ordered list of `(canonical name, value)` pairs. Headers that RFC 3261
§7.3.1 allows to be comma-combined and that we route on (Via, Route, Record-Route, Contact)
are split into one entry per value, so `msg.headers.get_all("Via")` is the Via stack.
Everything the peer controls has a limit. Bad input raises `ProtocolError` with a precise
message; callers (the UAS core) turn that into a 400 or a dropped datagram.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from agentgraph.errors import ProtocolError

__all__ = [
    "MAX_HEADERS",
    "MAX_MESSAGE_BYTES",
    "REASONS",
    "Headers",
    "NameAddr",
    "SipRequest",
    "SipResponse",
    "SipUri",
    "Via",
    "parse_message",
    "parse_name_addr",
    "parse_uri",
    "parse_via",
    "split_commas",
]

MAX_MESSAGE_BYTES = 65_535  # largest UDP payload
MAX_HEADERS = 128
MAX_HEADER_LINE = 8_192

# RFC 3261 §7.3.3 compact forms (and the common extension ones).
COMPACT = {
    "i": "Call-ID",
    "m": "Contact",
    "e": "Content-Encoding",
    "l": "Content-Length",
    "c": "Content-Type",
    "f": "From",
    "s": "Subject",
    "k": "Supported",
    "t": "To",
    "v": "Via",
    "r": "Refer-To",
    "b": "Referred-By",
    "o": "Event",
    "u": "Allow-Events",
    "x": "Session-Expires",
    "a": "Accept-Contact",
    "j": "Reject-Contact",
    "d": "Request-Disposition",
}
_SPECIAL_CASE = {
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "www-authenticate": "WWW-Authenticate",
    "mime-version": "MIME-Version",
    "rack": "RAck",
    "rseq": "RSeq",
}
_SPLIT = frozenset({"Via", "Route", "Record-Route", "Contact"})

REASONS = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    407: "Proxy Authentication Required",
    405: "Method Not Allowed",
    408: "Request Timeout",
    415: "Unsupported Media Type",
    420: "Bad Extension",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "Version Not Supported",
    603: "Decline",
}

_TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")
_STATUS = re.compile(r"^SIP/2\.0 ([1-6][0-9]{2}) ?(.*)$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")


def canonical_name(name: str) -> str:
    """`v` -> `Via`, `call-id` -> `Call-ID`, `content-type` -> `Content-Type`."""
    if len(name) == 1:
        full = COMPACT.get(name.lower())
        if full:
            return full
    low = name.lower()
    special = _SPECIAL_CASE.get(low)
    if special:
        return special
    return "-".join(part.capitalize() for part in low.split("-"))


def split_commas(value: str) -> list[str]:
    """Split a header value at commas outside quotes and angle brackets."""
    parts: list[str] = []
    depth = 0
    quoted = False
    start = 0
    i = 0
    n = len(value)
    while i < n:
        ch = value[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(value[start:i].strip())
            start = i + 1
        i += 1
    parts.append(value[start:].strip())
    return [p for p in parts if p]


class Headers:
    """An ordered multi-map of canonical header names to values."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = [(canonical_name(k), v) for k, v in items]

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of `name`, or `default`."""
        name = canonical_name(name)
        for key, value in self._items:
            if key == name:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        """Every value of `name`, in order."""
        name = canonical_name(name)
        return [value for key, value in self._items if key == name]

    def add(self, name: str, value: str) -> None:
        self._items.append((canonical_name(name), value))

    def set(self, name: str, value: str) -> None:
        """Replace every value of `name` with one value (appended if absent)."""
        name = canonical_name(name)
        idx = next((i for i, (k, _) in enumerate(self._items) if k == name), None)
        self.remove(name)
        if idx is None:
            self._items.append((name, value))
        else:
            self._items.insert(idx, (name, value))

    def remove(self, name: str) -> None:
        name = canonical_name(name)
        self._items = [(k, v) for k, v in self._items if k != name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def copy(self) -> Headers:
        new = Headers()
        new._items = list(self._items)
        return new


def _serialize(start: str, headers: Headers, body: bytes) -> bytes:
    lines = [start]
    for name, value in headers:
        if name != "Content-Length":
            lines.append(f"{name}: {value}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


@dataclass(slots=True)
class SipRequest:
    """A SIP request; `headers` keeps order, `body` is raw bytes."""

    method: str
    uri: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    def serialize(self) -> bytes:
        """Wire bytes with a correct Content-Length."""
        return _serialize(f"{self.method} {self.uri} SIP/2.0", self.headers, self.body)

    @property
    def call_id(self) -> str:
        return self.headers.get("Call-ID") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        return parse_cseq(self.headers.get("CSeq") or "")


@dataclass(slots=True)
class SipResponse:
    """A SIP response."""

    status: int
    reason: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    def serialize(self) -> bytes:
        """Wire bytes with a correct Content-Length."""
        return _serialize(f"SIP/2.0 {self.status} {self.reason}", self.headers, self.body)

    @property
    def call_id(self) -> str:
        return self.headers.get("Call-ID") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        return parse_cseq(self.headers.get("CSeq") or "")


def parse_cseq(value: str) -> tuple[int, str]:
    """`"314159 INVITE"` -> `(314159, "INVITE")`; raises ProtocolError."""
    parts = value.split()
    if len(parts) != 2 or not parts[0].isdigit() or len(parts[0]) > 10:
        raise ProtocolError(f"malformed CSeq header {value[:40]!r}")
    number = int(parts[0])
    if number >= 2**31:
        raise ProtocolError("CSeq number out of range")
    return number, parts[1]


def parse_message(data: bytes) -> SipRequest | SipResponse:
    """Parse one SIP message from a datagram.

    Raises:
        ProtocolError: the message is too large, has a bad start line or header, too many
            headers, or a Content-Length that does not match the body.
    """
    if len(data) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"SIP message of {len(data)} bytes exceeds {MAX_MESSAGE_BYTES}")
    sep = data.find(b"\r\n\r\n")
    if sep >= 0:
        head, body = data[:sep], data[sep + 4 :]
    else:
        sep = data.find(b"\n\n")
        if sep < 0:
            # A message with no body may end right after its last header line.
            head, body = data.rstrip(b"\r\n"), b""
        else:
            head, body = data[:sep], data[sep + 2 :]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"SIP header section is not UTF-8 (byte {exc.start})") from None
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)  # RFC 3261 §7.5: ignore leading blank lines (keep-alives)
    if not lines:
        raise ProtocolError("empty SIP message")
    start = lines[0]
    headers = _parse_header_lines(lines[1:])
    body = _check_body(headers, body)
    status = _STATUS.match(start)
    if status:
        return SipResponse(int(status.group(1)), status.group(2).strip(), headers, body)
    if start.startswith("SIP/"):
        raise ProtocolError(f"malformed status line {start[:60]!r}")
    parts = start.split(" ")
    if len(parts) != 3:
        raise ProtocolError(f"malformed request line {start[:60]!r}")
    method, uri, version = parts
    if not _TOKEN.match(method):
        raise ProtocolError(f"malformed method {method[:20]!r}")
    if version != "SIP/2.0":
        raise ProtocolError(f"unsupported SIP version {version[:20]!r}")
    if ":" not in uri or any(c in uri for c in "<> \t"):
        raise ProtocolError(f"malformed Request-URI {uri[:60]!r}")
    return SipRequest(method, uri, headers, body)


def _parse_header_lines(lines: list[str]) -> Headers:
    items: list[tuple[str, str]] = []
    raw: list[str] = []
    for line in lines:
        if len(line) > MAX_HEADER_LINE:
            raise ProtocolError(f"SIP header line longer than {MAX_HEADER_LINE} characters")
        if line[:1] in (" ", "\t"):
            if not raw:
                raise ProtocolError("SIP continuation line before any header")
            raw[-1] += " " + line.strip()  # RFC 3261 §7.3.1 folding
        else:
            raw.append(line)
    if len(raw) > MAX_HEADERS:
        raise ProtocolError(f"SIP message has {len(raw)} headers (limit {MAX_HEADERS})")
    for line in raw:
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not name or not _HEADER_NAME.match(name):
            raise ProtocolError(f"malformed SIP header line {line[:40]!r}")
        canon = canonical_name(name)
        value = value.strip()
        if canon in _SPLIT and "," in value:
            items.extend((canon, part) for part in split_commas(value))
        else:
            items.append((canon, value))
    headers = Headers()
    headers._items = items  # already canonical
    return headers


def _check_body(headers: Headers, body: bytes) -> bytes:
    lengths = headers.get_all("Content-Length")
    if not lengths:
        return body  # RFC 3261 §18.3: optional over UDP, body runs to the end
    if len(set(lengths)) > 1:
        raise ProtocolError("conflicting Content-Length headers")
    value = lengths[0]
    if not value.isdigit() or len(value) > 6:
        raise ProtocolError(f"malformed Content-Length {value[:20]!r}")
    length = int(value)
    if length > len(body):
        raise ProtocolError(f"Content-Length {length} but only {len(body)} body bytes")
    return body[:length]  # §18.3: extra bytes past Content-Length are discarded


# --- header value grammars --------------------------------------------------------------


def _parse_params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        key, _, value = part.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return params


def _format_params(params: dict[str, str]) -> str:
    return "".join(f";{k}={v}" if v else f";{k}" for k, v in params.items())


@dataclass(frozen=True, slots=True)
class SipUri:
    """`sip:user@host:port;params` (scheme, user, host, port, params)."""

    scheme: str
    user: str
    host: str
    port: int | None
    params: tuple[tuple[str, str], ...] = ()

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.params if k == name), None)

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}:{user}{host}{port}{_format_params(dict(self.params))}"


def parse_uri(text: str) -> SipUri:
    """Parse a sip:/sips:/tel: URI; raises ProtocolError."""
    text = text.strip()
    scheme, colon, rest = text.partition(":")
    scheme = scheme.lower()
    if not colon or scheme not in ("sip", "sips", "tel"):
        raise ProtocolError(f"unsupported URI {text[:60]!r}")
    rest = rest.split("?", 1)[0]
    main, _, params_text = rest.partition(";")
    params = tuple(_parse_params(params_text).items())
    if scheme == "tel":
        return SipUri(scheme, main, "", None, params)
    user, at, hostport = main.rpartition("@")
    if not at:
        user, hostport = "", main
    port: int | None = None
    if hostport.startswith("["):
        host, bracket, tail = hostport[1:].partition("]")
        if not bracket:
            raise ProtocolError(f"malformed IPv6 host in URI {text[:60]!r}")
        if tail.startswith(":"):
            port = _port(tail[1:], text)
    else:
        host, has_port, port_text = hostport.partition(":")
        if has_port:
            port = _port(port_text, text)
    if not host:
        raise ProtocolError(f"URI has no host {text[:60]!r}")
    return SipUri(scheme, user, host, port, params)


def _port(text: str, context: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ProtocolError(f"bad port in {context[:60]!r}")
    return int(text)


@dataclass(frozen=True, slots=True)
class NameAddr:
    """A From/To/Contact/Route value: display name, URI text and header parameters."""

    display: str
    uri: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def tag(self) -> str | None:
        return next((v for k, v in self.params if k == "tag"), None)

    def with_param(self, name: str, value: str) -> NameAddr:
        params = dict(self.params)
        params[name] = value
        return NameAddr(self.display, self.uri, tuple(params.items()))

    def __str__(self) -> str:
        display = f'"{self.display}" ' if self.display else ""
        return f"{display}<{self.uri}>{_format_params(dict(self.params))}"


def parse_name_addr(text: str) -> NameAddr:
    """Parse `"Name" <sip:a@b>;tag=x` or `sip:a@b;tag=x`; raises ProtocolError."""
    text = text.strip()
    display = ""
    if "<" in text:
        before, _, after = text.partition("<")
        uri, close, params_text = after.partition(">")
        if not close:
            raise ProtocolError(f"unclosed '<' in {text[:60]!r}")
        display = before.strip().strip('"')
    else:
        # RFC 3261 §20.10: without <>, parameters after ';' belong to the header.
        uri, _, params_text = text.partition(";")
    uri = uri.strip()
    if ":" not in uri:
        raise ProtocolError(f"malformed address {text[:60]!r}")
    return NameAddr(display, uri, tuple(_parse_params(params_text).items()))


@dataclass(frozen=True, slots=True)
class Via:
    """One Via value: `SIP/2.0/UDP host:port;branch=z9hG4bK...;rport`."""

    transport: str
    host: str
    port: int | None
    params: tuple[tuple[str, str], ...] = ()

    @property
    def branch(self) -> str | None:
        return next((v for k, v in self.params if k == "branch"), None)

    def has_param(self, name: str) -> bool:
        return any(k == name for k, _ in self.params)

    def with_params(self, **updates: str) -> Via:
        params = dict(self.params)
        params.update(updates)
        return Via(self.transport, self.host, self.port, tuple(params.items()))

    def __str__(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"SIP/2.0/{self.transport} {host}{port}{_format_params(dict(self.params))}"


def parse_via(text: str) -> Via:
    """Parse one Via value; raises ProtocolError."""
    proto, _, rest = text.strip().partition(" ")
    pieces = [p.strip() for p in proto.split("/")]
    if len(pieces) != 3 or pieces[0].upper() != "SIP" or pieces[1] != "2.0":
        raise ProtocolError(f"malformed Via {text[:60]!r}")
    sent_by, _, params_text = rest.strip().partition(";")
    sent_by = sent_by.strip()
    if not sent_by:
        raise ProtocolError(f"Via has no sent-by {text[:60]!r}")
    uri = parse_uri(f"sip:{sent_by}")
    return Via(pieces[2].upper(), uri.host, uri.port, tuple(_parse_params(params_text).items()))
