"""The SIP server against SIPp, a real SIP peer, on loopback: setup/teardown, RTP both
ways, DTMF, CANCEL, OPTIONS, re-INVITE hold, 488, and BYE from our side."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from agentgraph.transports.sip.events import SipConfig
from agentgraph.transports.sip.server import SipCall, SipServer, loopback_handler
from tests.sip.sipp import PCAPS, SCENARIOS, call_scenario, needs_sipp, run_sipp

pytestmark = [needs_sipp, pytest.mark.peer]


def server(**kw: object) -> SipServer:
    return SipServer(SipConfig(host="127.0.0.1", port=0), **kw)  # type: ignore[arg-type]


class Recorder:
    """A call handler that echoes audio and keeps the call for assertions."""

    def __init__(self) -> None:
        self.calls: list[SipCall] = []
        self.done = asyncio.Event()

    async def __call__(self, call: SipCall) -> None:
        self.calls.append(call)
        try:
            await loopback_handler(call)
        finally:
            self.done.set()


async def test_call_with_pcap_audio_setup_and_teardown(tmp_path: Path) -> None:
    rec = Recorder()
    async with server(on_call=rec) as srv:
        media = f'<nop><action><exec play_pcap_audio="{PCAPS}/g711a.pcap"/></action></nop>'
        result = await run_sipp(
            call_scenario(tmp_path, media=media), srv.address, duration_ms=2000, workdir=tmp_path
        )
        await asyncio.wait_for(rec.done.wait(), 2)
    assert result.returncode == 0, result.stderr
    (call,) = rec.calls
    assert call.end_reason == "remote hangup"
    assert call.callee == "1000"
    assert call.rtp.media is not None and call.rtp.media.codec.name == "PCMA"
    # ~2 s of the pcap (30 ms packets) reached us, and we sent 20 ms RTP the whole time
    assert call.rtp.packets_received >= 50
    assert call.rtp.packets_sent >= 80
    assert srv.completed_calls == 1 and srv.failed_calls == 0


async def test_rtp_both_ways_through_sipp_echo(tmp_path: Path) -> None:
    pattern = [bytes([0x20 + i]) * 160 for i in range(50)]
    echoed: list[bytes] = []
    done = asyncio.Event()

    async def handler(call: SipCall) -> None:
        for i, frame in enumerate(pattern):
            call.rtp.playout.push("reply", 0, frame)
            assert i < 50
        while not call.ended.is_set():
            try:
                frame = await asyncio.wait_for(call.rtp.audio_in.get(), 0.1)
            except TimeoutError:
                continue
            if frame in pattern:
                echoed.append(frame)
        done.set()

    async with server(on_call=handler) as srv:
        result = await run_sipp(
            call_scenario(tmp_path, codecs="0"),
            srv.address,
            duration_ms=2000,
            workdir=tmp_path,
            extra=["-rtp_echo"],
        )
        await asyncio.wait_for(done.wait(), 2)
    assert result.returncode == 0, result.stderr
    # every frame we sent came back, in order (SIPp echoes each RTP packet it gets)
    assert echoed == pattern


async def test_rfc4733_dtmf_from_sipp_pcap(tmp_path: Path) -> None:
    rec = Recorder()
    async with server(on_call=rec) as srv:
        media = f'<nop><action><exec play_pcap_audio="{PCAPS}/dtmf_2833_1.pcap"/></action></nop>'
        result = await run_sipp(
            call_scenario(tmp_path, media=media), srv.address, duration_ms=1500, workdir=tmp_path
        )
        await asyncio.wait_for(rec.done.wait(), 2)
    assert result.returncode == 0, result.stderr
    (call,) = rec.calls
    digits = []
    while not call.rtp.dtmf_in.empty():
        digits.append(call.rtp.dtmf_in.get_nowait())
    assert digits == ["1"]


async def test_cancel_while_ringing(tmp_path: Path) -> None:
    rec = Recorder()
    async with server(on_call=rec, answer_delay_s=1.0) as srv:
        result = await run_sipp(SCENARIOS / "cancel.xml", srv.address, workdir=tmp_path)
        await asyncio.sleep(1.2)  # the delayed answer finds the call gone
        assert srv.calls == {}
    assert result.returncode == 0, result.stderr
    assert rec.calls == []


async def test_options(tmp_path: Path) -> None:
    async with server() as srv:
        result = await run_sipp(SCENARIOS / "options.xml", srv.address, workdir=tmp_path)
    assert result.returncode == 0, result.stderr


async def test_no_common_codec_is_488(tmp_path: Path) -> None:
    async with server() as srv:
        result = await run_sipp(SCENARIOS / "reject_codec.xml", srv.address, workdir=tmp_path)
        assert srv.calls == {}
    assert result.returncode == 0, result.stderr


async def test_reinvite_hold_and_unhold_stops_and_resumes_rtp(tmp_path: Path) -> None:
    rec = Recorder()
    async with server(on_call=rec) as srv:
        result = await run_sipp(
            SCENARIOS / "hold.xml", srv.address, workdir=tmp_path, duration_ms=300
        )
        await asyncio.wait_for(rec.done.wait(), 2)
    assert result.returncode == 0, result.stderr + result.stdout[-1500:]
    (call,) = rec.calls
    assert call.rtp.media is not None and not call.rtp.media.on_hold
    # 0.3 s on hold of ~1.2 s total: fewer packets than the wall time allows
    assert call.rtp.packets_sent < 55


async def test_agent_hangs_up_with_bye(tmp_path: Path) -> None:
    async def short(call: SipCall) -> None:
        await asyncio.sleep(0.5)

    async with server(on_call=short) as srv:
        result = await run_sipp(SCENARIOS / "server_hangup.xml", srv.address, workdir=tmp_path)
        assert srv.completed_calls == 1
    assert result.returncode == 0, result.stderr


async def test_hostile_datagrams_are_dropped_and_the_server_keeps_answering(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import random
    import socket

    caplog.set_level(logging.INFO, logger="agentgraph.transports.sip.server")
    rng = random.Random(6)
    rec = Recorder()
    junk = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 1500))) for _ in range(200)]
    junk += [
        b"INVITE sip:x SIP/2.0\r\nVia: \r\n\r\n",
        b"SIP/2.0 200 OK\r\n\r\n",
        b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 99999\r\n\r\n",
        b"\r\n\r\n",
    ]
    async with server(on_call=rec) as srv:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for data in junk:
                s.sendto(data, srv.address)
        await asyncio.sleep(0.2)
        media = f'<nop><action><exec play_pcap_audio="{PCAPS}/g711a.pcap"/></action></nop>'
        call = asyncio.ensure_future(
            run_sipp(
                call_scenario(tmp_path, media=media),
                srv.address,
                duration_ms=1500,
                workdir=tmp_path,
            )
        )
        while not srv.calls:
            await asyncio.sleep(0.05)
        (sip_call,) = srv.calls.values()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # junk at the RTP port
            for data in junk:
                s.sendto(data, ("127.0.0.1", sip_call.rtp.local_port))
        result = await call
        await asyncio.wait_for(rec.done.wait(), 2)
    assert result.returncode == 0, result.stderr
    # junk is dropped (the kernel may drop some of the burst first); the caller's audio
    # still got through and the stream did not latch onto the junk sender
    assert sip_call.rtp.packets_dropped >= len(junk) // 2
    assert sip_call.rtp.packets_received >= 40
    assert any("dropped SIP datagram" in r.getMessage() for r in caplog.records)
