"""Scale-out behind Kamailio's dispatcher (deploy/kamailio/kamailio.cfg): three `serve`
workers, SIPp calling through the proxy. Calls spread over the workers; a worker
drained mid-run loses no call while the others take the new ones; a killed worker is
routed around."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.sip.cluster import kamailio, needs_kamailio, start_worker, stop_worker
from tests.sip.sipp import SCENARIOS, needs_sipp, run_sipp

pytestmark = [needs_sipp, needs_kamailio, pytest.mark.peer, pytest.mark.slow]
SCENARIO = SCENARIOS / "proxied_call.xml"


def completed(stats: dict[str, object]) -> int:
    value = stats["calls_completed"]
    assert isinstance(value, int)
    return value


async def test_calls_spread_and_a_drained_worker_loses_none(tmp_path: Path) -> None:
    workers = [await start_worker(tmp_path, f"w{i}") for i in range(3)]
    try:
        async with kamailio(tmp_path, workers) as proxy:
            calls = asyncio.ensure_future(
                run_sipp(
                    SCENARIO,
                    ("127.0.0.1", proxy.port),
                    calls=30,
                    duration_ms=3000,
                    extra=["-r", "5", "-l", "30"],
                    timeout_s=60,
                    workdir=tmp_path,
                )
            )
            await asyncio.sleep(3)  # about 15 calls placed, several up on each worker
            workers[0].proc.send_signal(signal.SIGTERM)  # drain mid-run
            result = await calls
            assert await asyncio.wait_for(workers[0].proc.wait(), 30) == 0
            assert result.returncode == 0, result.stdout[-3000:]  # all 30 calls succeeded
    finally:
        for worker in workers:
            await stop_worker(worker)
    per_worker = [completed(w.stats()) for w in workers]
    assert sum(per_worker) == 30  # none dropped, each ended by the caller's BYE
    assert all(n > 0 for n in per_worker), per_worker  # spread over all three
    assert per_worker[0] < min(per_worker[1:]), per_worker  # no new calls once draining
    assert any("draining" in line for line in workers[0].log)


async def test_a_killed_worker_is_routed_around(tmp_path: Path) -> None:
    workers = [await start_worker(tmp_path, f"w{i}") for i in range(3)]
    try:
        async with kamailio(tmp_path, workers) as proxy:
            workers[1].proc.kill()  # gone without a word
            await workers[1].proc.wait()
            result = await run_sipp(
                SCENARIO,
                ("127.0.0.1", proxy.port),
                calls=12,
                duration_ms=1000,
                extra=["-r", "4", "-l", "12"],
                timeout_s=60,
                workdir=tmp_path,
            )
            assert result.returncode == 0, result.stdout[-3000:]
    finally:
        for worker in workers:
            await stop_worker(worker)
    alive = [completed(workers[i].stats()) for i in (0, 2)]
    assert sum(alive) == 12 and all(n > 0 for n in alive), alive
