"""A recognizer worker process: `python -m agentgraph.engine.asr.worker`.

`DecoderPool` starts these as plain subprocesses (a fresh interpreter: nothing inherited
from a threaded parent, and the user's `__main__` is never re-run) and talks to them over
stdin/stdout with length-prefixed pickles: requests `(kind, key, session, pcm16k)`, replies
`(ok, text_or_error)`, one reply per request, in order. End of input means the parent is
gone, so the worker exits and can never outlive it.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import threading
import time
from collections import OrderedDict
from typing import IO, Any

from agentgraph.engine.asr import Recognizer, make_recognizer

__all__ = ["FRAME", "main", "read_frame", "write_frame"]

FRAME = struct.Struct("<I")  # payload length
_MAX_CACHED = 16  # recognizers kept, one per session vocabulary


def read_frame(stream: IO[bytes]) -> bytes | None:
    """The next payload, or None at end of input."""
    header = stream.read(FRAME.size)
    if len(header) < FRAME.size:
        return None
    (size,) = FRAME.unpack(header)
    payload = stream.read(size)
    return payload if len(payload) == size else None


def write_frame(stream: IO[bytes], payload: bytes) -> None:
    """Write one payload and flush it."""
    stream.write(FRAME.pack(len(payload)) + payload)
    stream.flush()


def _exit_with_parent(parent: int) -> None:
    """Exit as soon as the parent is gone, even in the middle of a long decode."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def _die_with_parent() -> None:
    """Linux: the kernel kills us when the parent goes (model loading holds the GIL for
    seconds, so a watcher thread alone can be late). The pool starts workers from the
    event loop's thread, which lives as long as the pool."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the watcher thread and end of input still stop us


def main() -> int:
    """Serve decode requests until the parent closes our stdin."""
    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent:
        return 0  # the parent died before we could ask to die with it
    threading.Thread(
        target=_exit_with_parent, args=(parent,), name="parent-watch", daemon=True
    ).start()
    # The protocol owns the real stdout; anything a library prints goes to stderr.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.buffer
    cache: OrderedDict[tuple[str, str], Recognizer] = OrderedDict()
    while (payload := read_frame(requests)) is not None:
        kind, key, session, pcm16k = pickle.loads(payload)
        try:
            reply: tuple[bool, str] = (True, _decode(cache, (kind, key), session, pcm16k))
        except Exception as exc:  # a bad utterance must not take the worker down
            reply = (False, f"{type(exc).__name__}: {exc}")
        try:
            write_frame(replies, pickle.dumps(reply))
        except BrokenPipeError:
            break  # the parent is gone
    return 0


def _decode(
    cache: OrderedDict[tuple[str, str], Recognizer],
    key: tuple[str, str],
    session: dict[str, Any],
    pcm16k: bytes,
) -> str:
    recognizer = cache.get(key)
    if recognizer is None:
        recognizer = make_recognizer(key[0])
        recognizer.configure(session)
        cache[key] = recognizer
        while len(cache) > _MAX_CACHED:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return recognizer.decode(pcm16k)


if __name__ == "__main__":
    sys.exit(main())
