"""Outgoing calls and registration against SIPp playing the far end: a callee that
answers, one that is busy, a trunk that demands digest credentials (401), and a
registrar that challenges every REGISTER (401) and grants 2 s, so the refresh must come;
and baresip, a real softphone in auto-answer, that records what it hears from us."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from agentgraph.audio import pcm16_to_ulaw, read_wav_pcm16, rms_dbfs, write_wav_pcm16
from agentgraph.transports.sip.events import Registered, SipConfig
from agentgraph.transports.sip.server import SipCall, SipServer
from tests.sip.sipp import SCENARIOS, SIPP, free_udp_port, needs_sipp
from tests.sip.test_baresip import CONFIG

pytestmark = [pytest.mark.peer]


async def sipp_uas(scenario: str | Path, workdir: Path) -> tuple[asyncio.subprocess.Process, int]:
    """SIPp waiting for one call (or REGISTER) on a free loopback port."""
    assert SIPP is not None
    port = free_udp_port()
    scen = ["-sf", str(scenario)] if isinstance(scenario, Path) else ["-sn", scenario]
    proc = await asyncio.create_subprocess_exec(
        SIPP,
        *scen,
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-mp",
        str(free_udp_port()),
        "-m",
        "1",
        "-nostdin",
        "-timeout",
        "30s",
        "-timeout_error",
        "-trace_err",
        "-error_file",
        str(workdir / "errors.log"),
        cwd=workdir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    await asyncio.sleep(0.5)  # listening
    return proc, port


async def talk_briefly(call: SipCall) -> None:
    call.rtp.playout.push("hello", 0, b"\x10" * 1600)  # 200 ms the callee hears
    await asyncio.sleep(1.0)


@pytest.fixture
async def server() -> AsyncIterator[SipServer]:
    async with SipServer(SipConfig(host="127.0.0.1", port=0), on_call=talk_briefly) as srv:
        yield srv


@needs_sipp
async def test_outbound_call_is_answered_and_hung_up(server: SipServer, tmp_path: Path) -> None:
    proc, port = await sipp_uas("uas", tmp_path)
    call = await server.dial("sip:+15551234567@127.0.0.1", ("127.0.0.1", port))
    assert call.started and call.ringing  # 180, then 200 + ACK
    await asyncio.wait_for(call.ended.wait(), 10)
    assert call.end_reason == "local hangup"
    assert await asyncio.wait_for(proc.wait(), 10) == 0  # SIPp saw the whole call
    assert server.answered_calls == 1  # the callee heard us


@needs_sipp
async def test_busy_callee_is_reported(server: SipServer, tmp_path: Path) -> None:
    proc, port = await sipp_uas(SCENARIOS / "uas_busy.xml", tmp_path)
    call = await server.dial("sip:1000@127.0.0.1", ("127.0.0.1", port))
    assert not call.started and call.end_reason == "busy"
    assert await asyncio.wait_for(proc.wait(), 10) == 0  # our ACK for the 486 came
    assert server.failed_calls == 0


@needs_sipp
async def test_trunk_challenge_is_answered_with_credentials(
    server: SipServer, tmp_path: Path
) -> None:
    proc, port = await sipp_uas(SCENARIOS / "uas_auth.xml", tmp_path)
    call = await server.dial(
        "sip:+15551234567@trunk.example",
        ("127.0.0.1", port),
        credentials=("alice", "trunk-pw"),
    )
    assert call.started, call.end_reason  # SIPp's verifyauth accepted our digest
    await asyncio.wait_for(call.ended.wait(), 10)
    assert await asyncio.wait_for(proc.wait(), 10) == 0


@needs_sipp
async def test_wrong_trunk_secret_fails_clearly(server: SipServer, tmp_path: Path) -> None:
    proc, port = await sipp_uas(SCENARIOS / "uas_auth.xml", tmp_path)
    call = await server.dial(
        "sip:+15551234567@trunk.example", ("127.0.0.1", port), credentials=("alice", "nope")
    )
    assert not call.started and call.end_reason == "failed: 403 Forbidden"
    await asyncio.wait_for(proc.wait(), 10)


@needs_sipp
async def test_register_with_digest_and_refresh(server: SipServer, tmp_path: Path) -> None:
    proc, port = await sipp_uas(SCENARIOS / "registrar.xml", tmp_path)
    server.register(
        "sip:alice@registrar.example",
        ("127.0.0.1", port),
        credentials=("alice", "reg-pw"),
        expires_s=60,
    )
    while server.registrations < 2:  # the first REGISTER, then the refresh before 2 s
        server.registration_changed.clear()
        await asyncio.wait_for(server.registration_changed.wait(), 10)
        assert isinstance(server.registration, Registered), server.registration
    assert server.registration.expires_s == 2
    assert await asyncio.wait_for(proc.wait(), 10) == 0


BARESIP = shutil.which("baresip")


@pytest.mark.skipif(BARESIP is None, reason="baresip (Debian baresip-core) not installed")
async def test_outbound_call_to_baresip_in_auto_answer(tmp_path: Path) -> None:
    assert BARESIP is not None
    home = tmp_path / "baresip"
    home.mkdir()
    wav = home / "quiet.wav"
    write_wav_pcm16(wav, b"\x00\x00" * 8000 * 10, rate_hz=8000)
    port = free_udp_port()
    config = CONFIG.format(wav=wav, dir=home).replace("127.0.0.1:0", f"127.0.0.1:{port}")
    (home / "config").write_text(config)
    (home / "accounts").write_text("<sip:callee@127.0.0.1>;answermode=auto;regint=0\n")
    phone = await asyncio.create_subprocess_exec(
        BARESIP,
        "-f",
        str(home),
        "-t",
        "8",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    tone = (8000 * np.sin(np.arange(8000) * 2 * np.pi * 440 / 8000)).astype("<i2").tobytes()

    async def say_hello(call: SipCall) -> None:
        call.rtp.playout.push("hello", 0, pcm16_to_ulaw(tone))  # one second the callee hears
        await asyncio.sleep(2.0)

    try:
        await asyncio.sleep(1.0)  # baresip is listening
        async with SipServer(SipConfig(host="127.0.0.1", port=0), on_call=say_hello) as srv:
            call = await srv.dial(f"sip:callee@127.0.0.1:{port}", ("127.0.0.1", port))
            assert call.started, call.end_reason  # auto-answered
            await asyncio.wait_for(call.ended.wait(), 10)
        out, _ = await asyncio.wait_for(phone.communicate(), 20)
    finally:
        if phone.returncode is None:
            phone.kill()
            await phone.wait()
    assert call.end_reason == "local hangup", out.decode(errors="replace")[-1500:]
    (heard,) = home.glob("dump-*-dec.wav")
    pcm = read_wav_pcm16(heard, rate_hz=8000)
    loud = [i for i in range(0, len(pcm) - 1600, 1600) if rms_dbfs(pcm[i : i + 1600]) > -30]
    assert len(loud) >= 8, f"the callee heard only {len(loud)} loud 100 ms blocks"
