"""Runtime overhead: agentgraph vs a bare websockets client vs openai-agents 0.24.

    python bench/runtime_overhead.py [--sessions 1,10,50,100,200] [--seconds 8]
        [--clients agentgraph,floor,openai-agents] [--long-call-minutes 30]

For each session count K and each client, a paced fake Realtime server runs in one process
(`runtime_overhead_server.py`) and K sessions of the client run in another
(`runtime_overhead_client.py`): 20 ms caller chunks up, ~40 audio deltas and ~47 events a
second down per session, a function call every 5 s per session. Reported per run: client
CPU % of one core per session, app-level event latency p50/p99 (server send -> app event,
the send time travels inside the audio bytes), tool round trip p50 (function call
`response.done` sent -> next `response.create` received, measured by the server), and the
largest K whose p99 stays under 50 ms. openai-agents is installed into
`bench/.venv/openai-agents` by this script. `--long-call-minutes` streams an N-minute call
as fast as possible to one session and reports CPU per event for each call minute.
The client `agentgraph-batched` is agentgraph with `audio_send_interval_ms=40` (caller audio
coalesced into 40 ms appends: half the socket writes).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv" / "openai-agents"  # .venv/ is git-ignored
OPENAI_AGENTS = "openai-agents==0.24.0"


def reference_python() -> str:
    """The bench virtualenv's python with openai-agents installed (created on first use)."""
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {VENV} with {OPENAI_AGENTS} ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
        subprocess.run([str(python), "-m", "pip", "install", "-q", OPENAI_AGENTS], check=True)
    return str(python)


def start_server(stats: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "runtime_overhead_server.py"), "--stats", str(stats), *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = proc.stdout.readline().strip()
    return proc, f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"


def stop_server(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_one(impl: str, sessions: int, args: argparse.Namespace) -> dict[str, Any]:
    python = reference_python() if impl == "openai-agents" else sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        stats_file, out = Path(tmp) / "stats.json", Path(tmp) / "out.json"
        extra = (
            ["--tool-every-s", "0", "--burst-minutes", str(args.long_call_minutes)]
            if (args.long)
            else []
        )
        if args.aligned:
            extra.append("--aligned")
        if not args.long:
            extra += ["--tool-every-s", str(args.tool_every_s)]
        server, url = start_server(stats_file, *extra)
        cmd = [
            python,
            str(HERE / "runtime_overhead_client.py"),
            "--impl",
            impl,
            "--url",
            url,
            "--sessions",
            str(sessions),
            "--seconds",
            str(args.seconds),
            "--warmup",
            str(args.warmup),
            "--out",
            str(out),
        ]
        if args.long:
            cmd += ["--long-call-minutes", str(args.long_call_minutes)]
        budget = args.warmup + args.seconds + 60 + sessions * 0.2 + (600 if args.long else 0)
        try:
            subprocess.run(cmd, check=True, timeout=budget, cwd=str(HERE.parent))
            result: dict[str, Any] = json.loads(out.read_text())
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            result = {"impl": impl, "sessions": sessions, "failed": type(exc).__name__}
        finally:
            stop_server(server)
        if stats_file.exists():
            rtt = json.loads(stats_file.read_text())["tool_rtt_ms"]
            result["tool_rtt_p50_ms"] = statistics.median(rtt) if rtt else None
            result["tool_calls"] = len(rtt)
    return result


def fmt(value: Any, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", default="1,10,50,100,200")
    parser.add_argument("--clients", default="agentgraph,floor,openai-agents")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--long-call-minutes", type=float, default=0.0)
    parser.add_argument("--json", help="also write all results to this file")
    parser.add_argument(
        "--tool-every-s",
        type=float,
        default=5.0,
        help="seconds between a session's function calls (more calls give a steadier "
        "tool round-trip figure at few sessions)",
    )
    parser.add_argument(
        "--aligned",
        action="store_true",
        help="the server ticks every session at the same instant (worst case)",
    )
    args = parser.parse_args()
    clients = args.clients.split(",")
    results: list[dict[str, Any]] = []
    args.long = bool(args.long_call_minutes)
    if args.long:
        for impl in clients:
            result = run_one(impl, 1, args)
            results.append(result)
            per = result.get("per_event_us_by_minute") or []
            if per:
                print(
                    f"{impl}: CPU per event, minute 1: {per[0]:.1f} us, minute "
                    f"{len(per)}: {per[-1]:.1f} us (all: {[round(x, 1) for x in per]})",
                    flush=True,
                )
            else:
                print(f"{impl}: failed {result.get('failed')}", flush=True)
    else:
        print(
            "| client | sessions | CPU % of a core / session | p50 ms | p99 ms | "
            "tool RTT p50 ms | deltas got/expected |"
        )
        print("|---|---|---|---|---|---|---|")
        for sessions in (int(s) for s in args.sessions.split(",")):
            for impl in clients:
                r = run_one(impl, sessions, args)
                results.append(r)
                if "failed" in r:
                    print(f"| {impl} | {sessions} | failed ({r['failed']}) | | | | |", flush=True)
                    continue
                print(
                    f"| {impl} | {sessions} | {fmt(r['cpu_pct_per_session'], 3)} | "
                    f"{fmt(r['p50_ms'])} | {fmt(r['p99_ms'])} | "
                    f"{fmt(r.get('tool_rtt_p50_ms'))} | "
                    f"{r['deltas']}/{int(r['deltas_expected'])} |",
                    flush=True,
                )
        for impl in clients:
            ok = [
                r["sessions"]
                for r in results
                if r["impl"] == impl
                and "failed" not in r
                and r["p99_ms"] is not None
                and r["p99_ms"] <= 50
                and r["deltas"] >= 0.9 * r["deltas_expected"]
            ]
            print(f"{impl}: most sessions with p99 <= 50 ms: {max(ok) if ok else 'none'}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
