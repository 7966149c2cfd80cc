"""SRTP (SDES, AES_CM_128_HMAC_SHA1_80) with a real softphone: baresip calls with
mandatory SRTP, our echo comes back encrypted and baresip records it decrypted (silence
if either direction's keys were wrong). With `srtp: required` a plain RTP caller gets 488."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from agentgraph.audio import read_wav_pcm16, rms_dbfs
from agentgraph.transports.sip.events import SipConfig
from agentgraph.transports.sip.server import SipCall, SipServer, loopback_handler
from tests.sip.caller_audio import write_wav
from tests.sip.test_baresip import CONFIG
from tests.sip.udp_phone import Phone

BARESIP = shutil.which("baresip")
pytestmark = [pytest.mark.peer]


@pytest.mark.skipif(BARESIP is None, reason="baresip (Debian baresip-core) not installed")
async def test_baresip_srtp_call_is_heard_both_ways(tmp_path: Path) -> None:
    assert BARESIP is not None
    home = tmp_path / "baresip"
    home.mkdir()
    wav = write_wav(home / "request.wav", "What's the weather in Tokyo? " * 3)
    config = CONFIG.format(wav=wav, dir=home) + "module\t\t\tsrtp.so\n"
    (home / "config").write_text(config)
    (home / "accounts").write_text("<sip:caller@127.0.0.1>;mediaenc=srtp-mand;regint=0\n")
    calls: list[SipCall] = []

    async def echo(call: SipCall) -> None:
        calls.append(call)
        await loopback_handler(call)

    async with SipServer(SipConfig(host="127.0.0.1", port=0, srtp="required"), on_call=echo) as srv:
        host, port = srv.address
        proc = await asyncio.create_subprocess_exec(
            BARESIP,
            "-f",
            str(home),
            "-e",
            f"/dial sip:1000@{host}:{port}",
            "-t",
            "8",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    log = out.decode(errors="replace")
    assert "Call established" in log, log[-2000:]
    (call,) = calls
    media = call.rtp.media
    assert media is not None and media.srtp_keys is not None  # the leg was SRTP
    assert call.rtp.packets_received > 50 and call.rtp.packets_dropped < 5
    (heard,) = home.glob("dump-*-dec.wav")
    pcm = read_wav_pcm16(heard, rate_hz=8000)
    loud = [i for i in range(0, len(pcm) - 3200, 3200) if rms_dbfs(pcm[i : i + 3200]) > -35]
    assert len(loud) >= 5, f"only {len(loud)} loud 200 ms blocks came back"


async def test_plain_rtp_is_refused_when_srtp_is_required() -> None:
    phone = Phone("127.0.0.1")
    try:
        async with SipServer(SipConfig(host="127.0.0.1", port=0, srtp="required")) as srv:
            phone.invite(srv.address, "plain")  # RTP/AVP, PCMU, no crypto
            (resp,) = await phone.responses(until=488)
            assert not srv.calls
    finally:
        phone.close()
    assert resp.status == 488
    assert "SRTP is required" in (resp.headers.get("Warning") or "")
