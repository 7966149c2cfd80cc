"""SIP over TCP (SIPp with -t t1 places the call over one TCP connection) and over TLS
(a TLS client with a certificate made for the test, since the Debian SIPp has no TLS):
the call is answered over the stream and ends cleanly."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from pathlib import Path

import pytest

from agentgraph.transports.sip.events import SipConfig
from agentgraph.transports.sip.message import SipResponse, parse_message
from agentgraph.transports.sip.server import SipServer
from agentgraph.transports.sip.stream import server_tls_context
from tests.sip.sipp import call_scenario, needs_sipp, run_sipp

pytestmark = [pytest.mark.peer]


@needs_sipp
async def test_call_over_tcp(tmp_path: Path) -> None:
    async with SipServer(SipConfig(host="127.0.0.1", port=0), tcp=True) as server:
        result = await run_sipp(
            call_scenario(tmp_path), server.address, extra=["-t", "t1"], workdir=tmp_path
        )
        assert result.returncode == 0, result.stdout[-2000:]
        assert server.completed_calls == 1


def make_cert(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def read_response(reader: asyncio.StreamReader) -> SipResponse:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    msg = parse_message(head + await reader.readexactly(length))
    assert isinstance(msg, SipResponse)
    return msg


async def test_call_over_tls(tmp_path: Path) -> None:
    cert, key = make_cert(tmp_path)
    config = SipConfig(host="127.0.0.1", port=0)
    async with SipServer(config, tls=server_tls_context(str(cert), str(key))) as server:
        client = ssl.create_default_context(cafile=str(cert))
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", server.config.tls_port, ssl=client
        )
        sdp = (
            "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio 4000 RTP/AVP 0\r\n"
        )
        common = (
            "Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-tls-{n}\r\n"
            "From: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:1000@127.0.0.1>{to}\r\n"
            "Call-ID: tls-call\r\nCSeq: {cseq}\r\nMax-Forwards: 70\r\n"
            "Contact: <sip:alice@127.0.0.1:5999;transport=tls>\r\n"
        )
        invite = (
            "INVITE sip:1000@127.0.0.1 SIP/2.0\r\n"
            + common.format(n=1, to="", cseq="1 INVITE")
            + f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}"
        )
        writer.write(invite.encode())
        statuses = []
        while not statuses or statuses[-1] < 200:
            resp = await asyncio.wait_for(read_response(reader), 5)
            statuses.append(resp.status)
        assert statuses[-1] == 200  # 100/180/200, all down the TLS connection
        tag = (resp.headers.get("To") or "").split("tag=")[1]
        ack = "ACK sip:1000@127.0.0.1 SIP/2.0\r\n" + common.format(
            n=2, to=f";tag={tag}", cseq="1 ACK"
        )
        writer.write((ack + "Content-Length: 0\r\n\r\n").encode())
        bye = "BYE sip:1000@127.0.0.1 SIP/2.0\r\n" + common.format(
            n=3, to=f";tag={tag}", cseq="2 BYE"
        )
        writer.write((bye + "Content-Length: 0\r\n\r\n").encode())
        assert (await asyncio.wait_for(read_response(reader), 5)).status == 200
        writer.close()
        await asyncio.sleep(0.1)
        assert server.completed_calls == 1
