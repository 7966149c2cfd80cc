"""`agentgraph serve` as a worker behind a proxy: SIGTERM drains (OPTIONS and new INVITEs
get 503, calls in progress finish, then it exits), a second SIGTERM ends the calls, and
`--metrics` serves Prometheus counters a proxy operator can watch."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import httpx
import pytest

from tests.sip.sipp import call_scenario, free_udp_port, needs_sipp, run_sipp
from tests.sip.test_serve import _free_tcp_port
from tests.sip.udp_phone import Phone

pytestmark = [needs_sipp, pytest.mark.peer, pytest.mark.slow]
ECHO = f'<nop><action><exec play_pcap_audio="{"/usr/share/sip-tester"}/g711a.pcap"/></action></nop>'


async def start_worker(tmp: Path, *extra: str) -> tuple[asyncio.subprocess.Process, int]:
    port = free_udp_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "agentgraph",
        "serve",
        "--loopback",
        "--listen",
        f"127.0.0.1:{port}",
        "--stats",
        str(tmp / "stats.json"),
        *extra,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    line = await asyncio.wait_for(proc.stderr.readline(), 30)
    while b"SIP on udp" not in line:
        line = await asyncio.wait_for(proc.stderr.readline(), 30)
    return proc, port


async def metric(url: str, name: str) -> float:
    async with httpx.AsyncClient(timeout=5) as http:
        text = (await http.get(url)).text
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics:\n{text}")


async def test_sigterm_drains_calls_in_progress_and_refuses_new_ones(tmp_path: Path) -> None:
    mport = _free_tcp_port()
    proc, port = await start_worker(tmp_path, "--metrics", f"127.0.0.1:{mport}")
    url = f"http://127.0.0.1:{mport}/metrics"
    phone = Phone("127.0.0.1")
    try:
        calls = asyncio.ensure_future(
            run_sipp(
                call_scenario(tmp_path, media=ECHO),
                ("127.0.0.1", port),
                calls=3,
                duration_ms=4000,
                workdir=tmp_path,
            )
        )
        while await metric(url, "agentgraph_calls_active") < 3:
            await asyncio.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        while await metric(url, "agentgraph_draining") < 1:
            await asyncio.sleep(0.05)
        target = ("127.0.0.1", port)
        phone.send(phone.request("OPTIONS", target, call_id="probe"), target)
        assert [r.status for r in await phone.responses(until=503)] == [503]
        phone.invite(target, "late-call")
        assert [r.status for r in await phone.responses(until=503)][-1] == 503
        assert await metric(url, 'agentgraph_calls_refused_total{reason="draining"}') == 1
        result = await calls
        assert result.returncode == 0, result.stdout[-2000:]  # no call was dropped
        assert await asyncio.wait_for(proc.wait(), 30) == 0  # then the worker exits
    finally:
        phone.close()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["calls_completed"] == 3 and stats["calls_failed"] == 0
    assert stats["calls_answered"] == 3  # every caller heard audio (the echo)
    assert stats["calls_refused"]["draining"] == 1


async def test_second_sigterm_ends_the_calls(tmp_path: Path) -> None:
    proc, port = await start_worker(tmp_path)
    try:
        calls = asyncio.ensure_future(
            run_sipp(
                call_scenario(tmp_path),
                ("127.0.0.1", port),
                calls=1,
                duration_ms=60_000,
                timeout_s=90,
                workdir=tmp_path,
            )
        )
        await asyncio.sleep(1.5)  # the call is up
        proc.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)
        assert proc.returncode is None  # draining: the call goes on
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        calls.cancel()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["calls_completed"] == 1  # ended by our BYE, not dropped silently
