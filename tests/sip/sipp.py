"""Run SIPp (Debian `sip-tester`) against our server on loopback, from a scenario template."""

from __future__ import annotations

import asyncio
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).parent / "scenarios"
PCAPS = Path("/usr/share/sip-tester")
SIPP = shutil.which("sipp")
needs_sipp = pytest.mark.skipif(SIPP is None, reason="sipp (Debian sip-tester) not installed")


def free_udp_port() -> int:
    """A port the OS says is free (SIPp cannot bind port 0 and report it back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call_scenario(tmp: Path, *, media: str = "", codecs: str = "8 0") -> Path:
    text = (SCENARIOS / "call.xml.in").read_text()
    path = tmp / "call.xml"
    path.write_text(text.replace("@CODECS@", codecs).replace("@MEDIA@", media))
    return path


@dataclass
class SippResult:
    returncode: int
    stdout: str
    stderr: str
    stats: str


async def run_sipp(
    scenario: Path | str,
    target: tuple[str, int],
    *,
    calls: int = 1,
    duration_ms: int = 1000,
    service: str = "1000",
    extra: list[str] | None = None,
    timeout_s: float = 30.0,
    workdir: Path,
) -> SippResult:
    """Run SIPp as a UAC placing `calls` calls; returns its exit code and output."""
    assert SIPP is not None
    scen = ["-sf", str(scenario)] if isinstance(scenario, Path) else ["-sn", scenario]
    stats = workdir / "stats.csv"
    args = [
        SIPP,
        f"{target[0]}:{target[1]}",
        *scen,
        "-i",
        "127.0.0.1",
        "-p",
        str(free_udp_port()),
        "-mp",
        str(free_udp_port()),
        "-s",
        service,
        "-m",
        str(calls),
        "-l",
        str(calls),
        "-r",
        str(calls),
        "-d",
        str(duration_ms),
        "-timeout",
        f"{int(timeout_s)}s",
        "-timeout_error",
        "-nostdin",
        "-bg" if False else "",
        "-trace_stat",
        "-stf",
        str(stats),
        "-trace_err",
        "-error_file",
        str(workdir / "errors.log"),
        *(extra or []),
    ]
    args = [a for a in args if a]
    proc = await asyncio.create_subprocess_exec(
        *args, cwd=workdir, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout_s + 10)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return SippResult(
        proc.returncode or 0,
        out.decode(errors="replace"),
        err.decode(errors="replace"),
        stats.read_text() if stats.exists() else "",
    )
