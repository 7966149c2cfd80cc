"""SIGTERM and SIGHUP end a run the way Ctrl-C does.

Ctrl-C cancels the main task, so every `finally` runs: records are closed and
summary.json written. SIGTERM (systemd, `docker stop`, `kill`) and SIGHUP (a closed
terminal) used to kill the process outright and leave the records half written. Inside
`asyncio.run`, SIGINT's handler is asyncio's own (it cancels the main task); pointing the
other two at it gives them the same orderly end.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

__all__ = ["interrupt_on_termination"]

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def interrupt_on_termination() -> Callable[[], None]:
    """Route SIGTERM/SIGHUP to the current SIGINT handler; returns a function that undoes it.

    Does nothing outside the main thread or when SIGINT has no Python handler.
    """
    handler = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(handler):
        return lambda: None
    previous = {sig: signal.signal(sig, handler) for sig in _SIGNALS}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore
