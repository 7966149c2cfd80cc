"""Recognizer workers: real decodes in subprocesses that never outlive the engine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from agentgraph.audio import resample_pcm16
from agentgraph.engine.asr.pool import DecoderPool, RecognizerWorkerError
from tests.engine.speech import REPO, caller_speech, plain

SESSION = {
    "instructions": "You are a weather assistant.",
    "tools": [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Get the weather in a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ],
}


def _question() -> bytes:
    pcm, _, _ = caller_speech("What's the weather in Lisbon?", voice="ash")
    return resample_pcm16(pcm, 24000, 16000)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its parent) counts as gone
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ", 1)[1][0] != "Z"


def test_worker_decodes_an_utterance_with_the_session_vocabulary() -> None:
    pool = DecoderPool(workers=1)
    try:
        text = pool.submit(SESSION, _question()).result(timeout=60)
    finally:
        pool.shutdown(wait=True)
    assert plain(text) == "what's the weather in lisbon"


def test_a_crashed_worker_fails_its_decode_and_is_replaced() -> None:
    pool = DecoderPool(workers=1)
    try:
        pool.submit(SESSION, _question()).result(timeout=60)
        (worker,) = pool._workers
        worker.proc.kill()
        failed = pool.submit(SESSION, _question())
        with pytest.raises(RecognizerWorkerError):
            failed.result(timeout=30)
        deadline = time.monotonic() + 10
        while worker.alive and time.monotonic() < deadline:
            time.sleep(0.05)
        assert plain(pool.submit(SESSION, _question()).result(timeout=60)) == (
            "what's the weather in lisbon"
        )
    finally:
        pool.shutdown(wait=True)


def test_workers_exit_when_their_parent_is_killed() -> None:
    """SIGKILL gives the parent no chance to clean up; the workers must still go."""
    script = textwrap.dedent(
        """
        import sys, time
        from agentgraph.engine.asr.pool import DecoderPool
        pool = DecoderPool(workers=2)
        for _ in range(2):
            pool.submit({"instructions": "hello"}, bytes(16000))
        print(" ".join(str(w.proc.pid) for w in pool._workers), flush=True)
        time.sleep(60)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env
    )
    assert parent.stdout is not None
    pids = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids), "recognizer workers outlived their parent"
