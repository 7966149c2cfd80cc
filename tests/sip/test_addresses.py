"""Addresses for real deployments: the advertised address (behind NAT, in a container)
is what Contact and SDP carry, RTP ports come from the configured range, and a caller
behind NAT still hears us (symmetric RTP)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from agentgraph.app.serve import ServeOptions, serve_graph
from agentgraph.cli import main
from agentgraph.transports.sip.message import parse_name_addr, parse_uri
from agentgraph.transports.sip.rtp import RtpPacket
from agentgraph.transports.sip.sdp import parse_sdp
from tests.sip.udp_phone import Phone, to_tag


def test_listening_on_every_address_needs_an_advertised_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve", "--loopback", "--listen", "0.0.0.0:0"]) == 2
    err = capsys.readouterr().err
    assert "needs the address callers reach" in err and "advertise" in err
    assert main(["serve", "--loopback", "--advertise", "pbx.example", "--duration", "0.1"]) == 2
    assert "advertise must be an IP address" in capsys.readouterr().err
    assert main(["serve", "--loopback", "--rtp-ports", "20000-10000"]) == 2
    assert "RTP port range" in capsys.readouterr().err


async def test_advertised_address_and_rtp_range_with_a_caller_behind_nat() -> None:
    ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    opts = ServeOptions(
        graph=None,
        loopback=True,
        listen="0.0.0.0:0",
        advertise="127.0.0.9",  # the address callers reach us at (a NAT's, say)
        rtp_ports="31000-31010",
        quiet=True,
    )
    task = asyncio.ensure_future(serve_graph(opts, ready=ready, stop=stop))
    phone = Phone("127.0.0.1")
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", 0))
    rtp.settimeout(3)
    try:
        server = await asyncio.wait_for(ready, 10)
        target = ("127.0.0.1", server.address[1])
        # the phone's SDP names its private address; its packets really come from NAT
        phone.invite(target, "nat-call", sdp_host="192.0.2.10", rtp_port=4000)
        ok = (await phone.responses(until=200))[-1]
        assert ok.status == 200
        contact = parse_uri(parse_name_addr(ok.headers.get("Contact") or "").uri)
        assert (contact.host, contact.port) == ("127.0.0.9", server.address[1])
        answer = parse_sdp(ok.body)
        assert answer.connection == "127.0.0.9"
        media_port = answer.media[0].port
        assert 31000 <= media_port <= 31010 and media_port % 2 == 0
        phone.send(phone.request("ACK", target, call_id="nat-call", to_tag=to_tag(ok)), target)
        # symmetric RTP: we answer to where the caller's packets come from
        for seq in range(1, 6):
            packet = RtpPacket(0, seq, seq * 160, 5, bytes([0x42]) * 160).serialize()
            rtp.sendto(packet, ("127.0.0.1", media_port))
        echoed = await asyncio.to_thread(rtp.recv, 2048)
        assert RtpPacket.parse(echoed).payload_type == 0
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        phone.close()
        rtp.close()
