"""SIP message parsing and serialization (RFC 3261 §7), table-driven."""

from __future__ import annotations

import pytest

from agentgraph.errors import ProtocolError
from agentgraph.transports.sip.message import (
    MAX_HEADERS,
    SipRequest,
    SipResponse,
    parse_message,
    parse_name_addr,
    parse_uri,
    parse_via,
    split_commas,
)

INVITE = (
    b"INVITE sip:1000@127.0.0.1:5060 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1;rport, "
    b"SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-0\r\n"
    b"v: SIP/2.0/UDP 10.0.0.2:5070;branch=z9hG4bK-x\r\n"
    b'f: "Alice, A." <sip:alice@127.0.0.1:5061>;tag=abc\r\n'
    b"t: <sip:1000@127.0.0.1>\r\n"
    b"i: call-1@127.0.0.1\r\n"
    b"CSeq: 1 INVITE\r\n"
    b"m: <sip:alice@127.0.0.1:5061>\r\n"
    b"Subject: folded\r\n line\r\n"
    b"c: application/sdp\r\n"
    b"l: 4\r\n"
    b"\r\n"
    b"v=0\r\nEXTRA"
)


def test_parse_request_with_compact_forms_multi_via_and_folding() -> None:
    msg = parse_message(INVITE)
    assert isinstance(msg, SipRequest)
    assert (msg.method, msg.uri) == ("INVITE", "sip:1000@127.0.0.1:5060")
    vias = msg.headers.get_all("Via")
    assert [parse_via(v).branch for v in vias] == ["z9hG4bK-1", "z9hG4bK-0", "z9hG4bK-x"]
    assert msg.call_id == "call-1@127.0.0.1"
    assert msg.cseq == (1, "INVITE")
    assert msg.headers.get("Subject") == "folded line"
    assert msg.headers.get("content-type") == "application/sdp"
    # Content-Length 4: the rest of the datagram is discarded (§18.3).
    assert msg.body == b"v=0\r"
    frm = parse_name_addr(msg.headers.get("From") or "")
    assert (frm.display, frm.uri, frm.tag) == ("Alice, A.", "sip:alice@127.0.0.1:5061", "abc")


def test_serialize_round_trip_recomputes_content_length() -> None:
    msg = parse_message(INVITE)
    assert isinstance(msg, SipRequest)
    msg.body = b"hello"
    again = parse_message(msg.serialize())
    assert isinstance(again, SipRequest)
    assert again.body == b"hello"
    assert again.headers.get("Content-Length") == "5"
    assert again.headers.get_all("Via") == msg.headers.get_all("Via")


def test_parse_response() -> None:
    msg = parse_message(b"SIP/2.0 486 Busy Here\r\nCall-ID: x\r\nCSeq: 2 BYE\r\n\r\n")
    assert isinstance(msg, SipResponse)
    assert (msg.status, msg.reason, msg.cseq) == (486, "Busy Here", (2, "BYE"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty SIP message"),
        (b"\r\n\r\n", "empty SIP message"),
        (b"INVITE sip:a@b SIP/3.0\r\n\r\n", "unsupported SIP version"),
        (b"INVITE sip:a@b\r\n\r\n", "malformed request line"),
        (b"INV(TE sip:a@b SIP/2.0\r\n\r\n", "malformed method"),
        (b"INVITE nouri SIP/2.0\r\n\r\n", "malformed Request-URI"),
        (b"SIP/2.0 99 Odd\r\n\r\n", "malformed status line"),
        (b"OPTIONS sip:a@b SIP/2.0\r\nNoColon\r\n\r\n", "malformed SIP header line"),
        (b"OPTIONS sip:a@b SIP/2.0\r\n continued\r\n\r\n", "continuation line before any header"),
        (
            b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\nabc",
            "Content-Length 10 but only 3",
        ),
        (b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: x\r\n\r\n", "malformed Content-Length"),
        (b"OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nl: 2\r\n\r\nab", "conflicting Content-Length"),
        (b"OPTIONS sip:a@b SIP/2.0\r\nX: \xff\r\n\r\n", "not UTF-8"),
        (
            b"OPTIONS sip:a@b SIP/2.0\r\n" + b"X: y\r\n" * (MAX_HEADERS + 1) + b"\r\n",
            "headers (limit",
        ),
        (b"OPTIONS sip:a@b SIP/2.0\r\nX: " + b"y" * 9000 + b"\r\n\r\n", "header line longer"),
        (b"OPTIONS sip:a@b SIP/2.0\r\n\r\n" + b"x" * 70000, "exceeds"),
    ],
)
def test_malformed_messages_raise_precise_errors(data: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message.replace("(", r"\(")):
        parse_message(data)


def test_split_commas_respects_quotes_and_brackets() -> None:
    assert split_commas('"a, b" <sip:x@y;p=1,2>, <sip:z@w>') == [
        '"a, b" <sip:x@y;p=1,2>',
        "<sip:z@w>",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sip:alice@example.com:5070;transport=udp", ("sip", "alice", "example.com", 5070)),
        ("sip:127.0.0.1", ("sip", "", "127.0.0.1", None)),
        ("sips:bob@[::1]:5061", ("sips", "bob", "::1", 5061)),
        ("tel:+14155550123", ("tel", "+14155550123", "", None)),
    ],
)
def test_parse_uri(text: str, expected: tuple[object, ...]) -> None:
    uri = parse_uri(text)
    assert (uri.scheme, uri.user, uri.host, uri.port) == expected


@pytest.mark.parametrize("text", ["http://x", "sip:a@b:99999", "sip:a@", "sip:[::1"])
def test_bad_uris(text: str) -> None:
    with pytest.raises(ProtocolError):
        parse_uri(text)


def test_via_params_and_format() -> None:
    via = parse_via("SIP/2.0/udp 127.0.0.1:5061;branch=z9hG4bK77;rport")
    assert (via.transport, via.host, via.port, via.branch) == (
        "UDP",
        "127.0.0.1",
        5061,
        "z9hG4bK77",
    )
    assert via.has_param("rport")
    filled = via.with_params(rport="5061", received="10.0.0.9")
    assert str(filled) == "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK77;rport=5061;received=10.0.0.9"
    with pytest.raises(ProtocolError, match="malformed Via"):
        parse_via("SIP/1.0/UDP host")


def test_name_addr_without_brackets_keeps_tag_as_header_param() -> None:
    na = parse_name_addr("sip:bob@example.com;tag=99")
    assert (na.uri, na.tag) == ("sip:bob@example.com", "99")
    assert str(na.with_param("tag", "1")) == "<sip:bob@example.com>;tag=1"


def test_package_re_exports_resolve_lazily() -> None:
    import agentgraph.transports.sip as sip

    assert {name: getattr(sip, name).__name__ for name in sip.__all__}
    with pytest.raises(AttributeError):
        _ = sip.NotAThing  # type: ignore[attr-defined]
