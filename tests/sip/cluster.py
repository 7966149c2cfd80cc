"""Kamailio (started here with deploy/kamailio/kamailio.cfg, never the system service)
in front of N `agentgraph serve` worker processes, all on loopback ports."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.sip.sipp import free_udp_port

KAMAILIO = shutil.which("kamailio") or (
    "/usr/sbin/kamailio" if Path("/usr/sbin/kamailio").exists() else None
)
CONFIG = Path(__file__).parents[2] / "deploy" / "kamailio" / "kamailio.cfg"
needs_kamailio = pytest.mark.skipif(KAMAILIO is None, reason="kamailio (Debian) not installed")


@dataclass
class Worker:
    proc: asyncio.subprocess.Process
    port: int
    stats_path: Path
    log: list[str] = field(default_factory=list)
    reader: asyncio.Future[None] | None = None

    def stats(self) -> dict[str, object]:
        return dict(json.loads(self.stats_path.read_text()))


async def _read_until(proc: asyncio.subprocess.Process, marker: str, log: list[str]) -> None:
    assert proc.stderr is not None
    while True:
        line = (await proc.stderr.readline()).decode(errors="replace")
        if not line:
            raise RuntimeError("worker exited: " + " / ".join(log[-5:]))
        log.append(line.rstrip())
        if marker in line:
            return


async def _drain_output(proc: asyncio.subprocess.Process, log: list[str]) -> None:
    assert proc.stderr is not None
    while line := await proc.stderr.readline():
        log.append(line.decode(errors="replace").rstrip())


async def start_worker(tmp: Path, name: str, *extra: str) -> Worker:
    port = free_udp_port()
    stats = tmp / f"{name}.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "agentgraph",
        "serve",
        "--loopback",
        "--listen",
        f"127.0.0.1:{port}",
        "--stats",
        str(stats),
        *extra,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    worker = Worker(proc, port, stats)
    await asyncio.wait_for(_read_until(proc, "SIP on udp", worker.log), 30)
    worker.reader = asyncio.ensure_future(_drain_output(proc, worker.log))
    return worker


@dataclass
class Proxy:
    proc: asyncio.subprocess.Process
    port: int
    log: Path


@contextlib.asynccontextmanager
async def kamailio(tmp: Path, workers: list[Worker]):  # type: ignore[no-untyped-def]
    """Run Kamailio with our config on a free loopback port; yield the `Proxy`."""
    assert KAMAILIO is not None
    port = free_udp_port()
    ds_list = tmp / "dispatcher.list"
    ds_list.write_text("".join(f"1 sip:127.0.0.1:{w.port}\n" for w in workers))
    run_dir = tmp / "kamailio-run"
    run_dir.mkdir(exist_ok=True)
    log = tmp / "kamailio.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            KAMAILIO,
            "-f",
            str(CONFIG),
            "-A",
            f"LISTEN=udp:127.0.0.1:{port}",
            "-A",
            f'DISPATCHER_LIST="{ds_list}"',
            "-A",
            "PING_INTERVAL=1",
            "-A",
            "FR_TIMER=1000",
            "-DD",
            "-E",
            "-Y",
            str(run_dir),
            "-m",
            "64",
            "-M",
            "8",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        await asyncio.sleep(1.5)  # children up, first OPTIONS probes answered
        if proc.returncode is not None:
            raise RuntimeError("kamailio exited: " + log.read_text()[-2000:])
        yield Proxy(proc, port, log)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()


async def stop_worker(worker: Worker) -> None:
    if worker.proc.returncode is None:
        worker.proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(worker.proc.wait(), 15)
        except TimeoutError:
            worker.proc.kill()
            await worker.proc.wait()
