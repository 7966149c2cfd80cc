"""Speech recognition in worker processes, so many sessions use both cores.

pocketsphinx holds the GIL while it decodes (~80 ms per utterance), so in the server's
process every decode stalls every other session's audio. `DecoderPool` runs decodes in
a small process pool instead: each worker keeps one recognizer per session vocabulary
(built on first use from the session's text, then cached), and the caller gets a
`concurrent.futures.Future` it can poll or wait on. The listener submits the decode when
the caller pauses and collects it when the silence window closes, so the wait is usually
zero.
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import multiprocessing
import os
import threading
from collections import OrderedDict
from typing import Any

from agentgraph.engine.asr.sphinx import SphinxRecognizer
from agentgraph.engine.asr.vocabulary import session_text

__all__ = ["DecoderPool", "shared_pool"]

_MAX_CACHED = 16
_worker_cache: OrderedDict[str, SphinxRecognizer] = OrderedDict()


def _decode_in_worker(key: str, session: dict[str, Any], pcm16k: bytes) -> str:
    recognizer = _worker_cache.get(key)
    if recognizer is None:
        recognizer = SphinxRecognizer()
        recognizer.configure(session)
        _worker_cache[key] = recognizer
        while len(_worker_cache) > _MAX_CACHED:
            _worker_cache.popitem(last=False)
    else:
        _worker_cache.move_to_end(key)
    return recognizer.decode(pcm16k)


def _warm_up() -> None:
    """Import pocketsphinx in the worker before the first real request."""
    import pocketsphinx  # noqa: F401


class DecoderPool:
    """A process pool of recognizers keyed by session vocabulary."""

    def __init__(self, workers: int | None = None) -> None:
        count = workers or max(1, min(4, os.cpu_count() or 1))
        # fork, not spawn: spawn (and forkserver) re-import the program's __main__ in each
        # worker, which re-runs a user's script that starts an engine without a
        # `if __name__ == "__main__":` guard. Workers touch only pocketsphinx.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self._executor = cf.ProcessPoolExecutor(
            max_workers=count, mp_context=context, initializer=_warm_up
        )

    def submit(self, session: dict[str, Any], pcm16k: bytes) -> cf.Future[str]:
        """Start decoding one utterance with the session's vocabulary."""
        slim = {"instructions": session.get("instructions"), "tools": session.get("tools")}
        return self._executor.submit(_decode_in_worker, session_text(session), slim, pcm16k)

    def shutdown(self, *, wait: bool = False) -> None:
        """Stop the workers (pending decodes are cancelled)."""
        self._executor.shutdown(wait=wait, cancel_futures=True)


_shared: list[DecoderPool] = []
_shared_lock = threading.Lock()


def shared_pool(workers: int | None = None) -> DecoderPool:
    """The process-wide pool (created on first use with `workers` processes)."""
    with _shared_lock:
        if not _shared:
            pool = DecoderPool(workers)
            # Stop the workers while the interpreter is still whole: a pool collected
            # during shutdown prints a spurious traceback.
            atexit.register(pool.shutdown, wait=True)
            _shared.append(pool)
        return _shared[0]
