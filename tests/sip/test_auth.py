"""Digest authentication of inbound calls (`sip.auth`): SIPp answers our 401 challenge
with the right secret and gets through; a wrong secret or a made-up credential header
never reaches an answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from agentgraph.transports.sip.events import SipConfig
from agentgraph.transports.sip.server import SipServer
from tests.sip.sipp import SCENARIOS, needs_sipp, run_sipp
from tests.sip.udp_phone import Phone

pytestmark = [needs_sipp, pytest.mark.peer]


@pytest.fixture
async def server() -> AsyncIterator[SipServer]:
    config = SipConfig(host="127.0.0.1", port=0, auth=(("alice", "s3cret-Pass"),))
    async with SipServer(config) as srv:
        yield srv


async def test_caller_with_the_right_secret_gets_through(server: SipServer, tmp_path: Path) -> None:
    result = await run_sipp(
        SCENARIOS / "auth_call.xml",
        server.address,
        extra=["-au", "alice", "-ap", "s3cret-Pass"],
        workdir=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert server.completed_calls == 1


async def test_wrong_secret_is_refused(server: SipServer, tmp_path: Path) -> None:
    result = await run_sipp(
        SCENARIOS / "auth_call.xml",
        server.address,
        extra=["-au", "alice", "-ap", "guess"],
        timeout_s=10,
        workdir=tmp_path,
    )
    assert result.returncode != 0
    assert server.completed_calls == 0 and not server.calls
    assert server.core.refused["bad credentials"] >= 1


async def test_bogus_proxy_authorization_gets_a_challenge(server: SipServer) -> None:
    phone = Phone("127.0.0.1")
    try:
        body = "v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        body += "m=audio 4000 RTP/AVP 0\r\n"
        invite = phone.request("INVITE", server.address, call_id="bogus", body=body)
        bogus = b'Proxy-Authorization: Digest username="alice", realm="agentgraph", '
        bogus += b'nonce="x", uri="sip:1000@127.0.0.1", response="00"\r\n'
        invite = invite.replace(b"Max-Forwards: 70\r\n", b"Max-Forwards: 70\r\n" + bogus)
        phone.send(invite, server.address)
        (resp,) = await phone.responses(until=401)
        assert resp.status == 401
        assert 'realm="agentgraph"' in (resp.headers.get("WWW-Authenticate") or "")
        assert not server.calls
    finally:
        phone.close()
