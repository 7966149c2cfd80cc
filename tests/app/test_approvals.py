"""Operator approvals on the console: `approval 1: transfer(target=…)`, `y 1`, default deny."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GRAPH = str(REPO / "examples/graphs/sip_front_desk.yaml")


def start(tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-m", "agentgraph", "run", GRAPH, "--text", "--no-log", *extra],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_operator_says_yes(tmp_path: Path) -> None:
    proc = start(tmp_path)
    out, err = proc.communicate(
        "Can I talk to a person?\nsip:frontdesk@127.0.0.1\ny\n/quit\n", timeout=60
    )
    assert proc.returncode == 0, err
    assert "approval 1: transfer(target=" in out and "answer: y 1 / n 1 [n]" in out
    # approved: the transfer tool really ran (and explains there is no phone call here)
    assert "  -> transfer(target=" in out
    assert "not on a phone call" in out


def test_no_answer_means_no(tmp_path: Path) -> None:
    proc = start(tmp_path, "--approval-timeout", "1")
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("Can I talk to a person?\nsip:frontdesk@127.0.0.1\n")
    proc.stdin.flush()
    seen: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        while chunk := proc.stdout.read(1):
            seen.append(chunk)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 30
    while "(no answer: approval 1 denied)" not in "".join(seen) and time.monotonic() < deadline:
        time.sleep(0.05)  # nobody answers the prompt
    proc.stdin.write("/quit\n")
    proc.stdin.flush()
    proc.stdin.close()
    proc.wait(timeout=30)
    time.sleep(0.2)
    out, err = "".join(seen), proc.stderr.read() if proc.stderr else ""
    assert proc.returncode == 0, err
    assert "[n] (no answer: approval 1 denied)" in out
    assert "  -> transfer(" not in out
    assert "<- failed transfer" in out


def test_end_of_input_means_no(tmp_path: Path) -> None:
    proc = start(tmp_path)
    out, err = proc.communicate("Can I talk to a person?\nsip:frontdesk@127.0.0.1\n", timeout=60)
    assert proc.returncode == 0, err
    assert "[n] (no operator input: approval 1 denied)" in out
    assert "  -> transfer(" not in out
