"""Speech recognition in worker processes, so many sessions use both cores.

pocketsphinx holds the GIL while it decodes (~80 ms per utterance), so in the server's
process every decode stalls every other session's audio. `DecoderPool` runs decodes in
a few worker processes instead: each keeps one recognizer per session vocabulary (built
on first use from the session's text, then cached), and the caller gets a
`concurrent.futures.Future` it can poll or wait on. The listener submits the decode when
the caller pauses and collects it when the silence window closes, so the wait is usually
zero.

The workers are plain subprocesses (`agentgraph.engine.asr.worker`), not
`multiprocessing` children: forking a process whose audio threads are running (PortAudio
in `agentgraph run`) can deadlock the child, and spawning re-runs the user's `__main__`.
Each worker has a writer and a reader thread, so submitting never blocks the event loop,
and a worker exits when its stdin closes, so none outlives the engine.
"""

from __future__ import annotations

import atexit
import collections
import concurrent.futures as cf
import contextlib
import os
import pickle
import queue
import subprocess
import sys
import threading
from typing import Any

from agentgraph.engine.asr.vocabulary import session_text
from agentgraph.engine.asr.worker import read_frame, write_frame

__all__ = ["DecoderPool", "RecognizerWorkerError", "shared_pool"]


class RecognizerWorkerError(RuntimeError):
    """A decode failed in the worker, or the worker process went away."""


class _Worker:
    """One recognizer subprocess and the two threads that feed and read it."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agentgraph.engine.asr.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.pending: collections.deque[cf.Future[str]] = collections.deque()
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self.alive = True
        threading.Thread(target=self._write, name="asr-writer", daemon=True).start()
        threading.Thread(target=self._read, name="asr-reader", daemon=True).start()

    def submit(self, payload: bytes) -> cf.Future[str]:
        future: cf.Future[str] = cf.Future()
        with self._lock:
            if not self.alive:
                future.set_exception(RecognizerWorkerError("recognizer worker has exited"))
                return future
            self.pending.append(future)
            self._outbox.put(payload)
        return future

    def close(self, *, wait: bool) -> None:
        self._outbox.put(None)  # the writer closes stdin: the worker finishes and exits
        if wait:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _write(self) -> None:
        assert self.proc.stdin is not None
        try:
            while (payload := self._outbox.get()) is not None:
                write_frame(self.proc.stdin, payload)
        except OSError:
            pass  # the worker died; the reader fails the pending decodes
        finally:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while (payload := read_frame(self.proc.stdout)) is not None:
            ok, text = pickle.loads(payload)
            with self._lock:
                future = self.pending.popleft()
            if ok:
                future.set_result(text)
            else:
                future.set_exception(RecognizerWorkerError(text))
        with self._lock:
            self.alive = False
            orphans = list(self.pending)
            self.pending.clear()
        for future in orphans:
            if not future.done():
                future.set_exception(RecognizerWorkerError("recognizer worker exited"))


class DecoderPool:
    """A few recognizer processes; each decode goes to the least busy one."""

    def __init__(self, workers: int | None = None) -> None:
        self.size = workers or max(1, min(4, os.cpu_count() or 1))
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(
        self, session: dict[str, Any], pcm16k: bytes, kind: str = "whisper"
    ) -> cf.Future[str]:
        """Start decoding one utterance with recognizer `kind` and the session's vocabulary."""
        transcription = (session.get("audio") or {}).get("input", {}).get("transcription")
        slim = {
            "instructions": session.get("instructions"),
            "tools": session.get("tools"),
            "audio": {"input": {"transcription": transcription}},
        }
        payload = pickle.dumps((kind, session_text(session), slim, pcm16k))
        return self._pick().submit(payload)

    def _pick(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise RecognizerWorkerError("the decoder pool is shut down")
            self._workers = [w for w in self._workers if w.alive]  # replace dead ones
            if len(self._workers) < self.size:
                self._workers.append(_Worker())
                return self._workers[-1]
            return min(self._workers, key=lambda w: len(w.pending))

    def shutdown(self, *, wait: bool = False) -> None:
        """Stop the workers; decodes already sent still finish unless `wait` is False."""
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.close(wait=wait)


_shared: list[DecoderPool] = []
_shared_lock = threading.Lock()


def shared_pool(workers: int | None = None) -> DecoderPool:
    """The process-wide pool (created on first use with `workers` processes)."""
    with _shared_lock:
        if not _shared:
            pool = DecoderPool(workers)
            atexit.register(pool.shutdown, wait=True)
            _shared.append(pool)
        return _shared[0]
