"""Where synchronous tools run: one daemon thread per call, never the shared pool.

A sync tool that hangs cannot be stopped from Python. Run in the event loop's default
executor, a few hung calls used up its workers, so later (fast) tools queued behind them
and "timed out" without ever starting, and interpreter exit waited for the stuck threads
(the pool joins its workers at exit). Here each call gets its own daemon thread: a hung
one only occupies itself, the session's timeout answers the model on time, and exit does
not wait for it. `MAX_STUCK_THREADS` bounds how many abandoned calls may pile up before
new sync calls are refused with an error the model can read.

`DEFAULT_TOOL_TIMEOUT_S` is the timeout of a tool that does not set one.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

__all__ = [
    "DEFAULT_TOOL_TIMEOUT_S",
    "MAX_STUCK_THREADS",
    "ToolBusyError",
    "run_sync_tool",
    "running_sync_tools",
]

log = logging.getLogger(__name__)

DEFAULT_TOOL_TIMEOUT_S = 30.0
MAX_STUCK_THREADS = 64

_running = 0  # sync tool threads not yet returned (running or abandoned)
_lock = threading.Lock()


class ToolBusyError(RuntimeError):
    """Too many sync tool calls are still running; the call was not started."""


async def run_sync_tool(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run `func(*args, **kwargs)` in its own daemon thread; await its result.

    Cancelling the await (a timeout) abandons the thread: it finishes on its own and its
    result is dropped.

    Raises:
        ToolBusyError: `MAX_STUCK_THREADS` sync calls have not returned yet.
    """
    global _running
    with _lock:
        if _running >= MAX_STUCK_THREADS:
            raise ToolBusyError(f"{_running} earlier tool calls are still running; try again later")
        _running += 1
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    call = functools.partial(contextvars.copy_context().run, func, *args, **kwargs)
    name = getattr(func, "__name__", "tool")

    def deliver(ok: bool, value: Any) -> None:
        if future.done():
            return  # timed out and abandoned
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def work() -> None:
        global _running
        try:
            result: Any = call()
            outcome = (True, result)
        except BaseException as exc:  # delivered to the awaiting session
            outcome = (False, exc)
        finally:
            with _lock:
                _running -= 1
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
            loop.call_soon_threadsafe(deliver, *outcome)

    thread = threading.Thread(target=work, name=f"tool-{name}", daemon=True)
    thread.start()
    try:
        return await future
    except asyncio.CancelledError:
        log.warning("tool %s is still running after its call was abandoned", name)
        raise


def running_sync_tools() -> int:
    """How many sync tool threads have not returned (for tests and the soak report)."""
    return _running
