"""Operator approvals on the console: `Approve book_appointment(date=…, time=…)? [y/N]`.

A tool whose policy says `by: operator` makes the session emit `tool_approval_required` and
wait. The prompt reads one line from standard input (shared with the text transport through
`StdinLines`); `y`/`yes` approves, anything else, end of input or no answer within the
timeout rejects (default deny).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import Any, TextIO

from agentgraph.app.console import format_call
from agentgraph.transports.console import StdinLines

__all__ = ["OperatorApprovals", "approval_prompt"]

_YES = frozenset({"y", "yes"})


def approval_prompt(tool_name: str, arguments: str) -> str:
    """The question shown to the operator."""
    return f"Approve {format_call(tool_name, arguments)}? [y/N] "


class OperatorApprovals:
    """Answers `tool_approval_required` events by asking the operator.

    Args:
        session: the real session (`approve_tool_call` / `reject_tool_call`).
        lines: where the operator's answers come from.
        out: where the prompt is printed.
        timeout_s: how long to wait for an answer before rejecting.
    """

    def __init__(
        self,
        session: Any,
        lines: StdinLines,
        *,
        out: TextIO | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self.session = session
        self.lines = lines
        self.out = out if out is not None else sys.stdout
        self.timeout_s = timeout_s
        self.decisions: list[tuple[str, bool]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    def on_event(self, event: Any) -> None:
        """Hub listener: start a prompt for each approval request."""
        if getattr(event, "type", "") != "tool_approval_required":
            return
        task = asyncio.get_running_loop().create_task(
            self._ask(event.call_id, event.tool_name, event.arguments)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _ask(self, call_id: str, tool_name: str, arguments: str) -> None:
        async with self._lock:  # one question at a time
            self.out.write(approval_prompt(tool_name, arguments))
            self.out.flush()
            answer = await self.lines.readline(self.timeout_s)
            approved = answer is not None and answer.strip().lower() in _YES
            if answer is None:
                self.out.write(
                    "(no answer: denied)\n"
                    if not self.lines.eof
                    else "(no operator input: denied)\n"
                )
            elif not approved:
                self.out.write("denied\n")
            self.out.flush()
            self.decisions.append((call_id, approved))
            if approved:
                await self.session.approve_tool_call(call_id)
            else:
                await self.session.reject_tool_call(call_id, "The operator did not approve.")

    async def close(self) -> None:
        """Cancel prompts still waiting."""
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
