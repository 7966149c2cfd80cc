"""Operator approvals on the console, bound to approval ids.

A tool whose policy says `by: operator` makes the session emit `tool_approval_required`
and wait. The `OperatorDesk` shows one request at a time (every argument in full, and the
rule's message):

    approval 3: pay(to="mallory", amount=100000)
      rule: "Pay 100000 to mallory?"
      answer: y 3 / n 3 [n]

An answer names the id (`y 3`, `n 3`); a bare `y`/`n` is taken only when the desk was
told so (one conversation, so one request can be shown) and exactly that request is
waiting. Anything else is asked again; end of input or no answer within the timeout
rejects (default deny). `serve --operator ask` shares one desk between all calls, with ids
numbered by the desk, so an answer can never reach another call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from agentgraph.app.console import format_call
from agentgraph.realtime import events as se
from agentgraph.transports.console import StdinLines

__all__ = ["OperatorApprovals", "OperatorDesk", "approval_prompt"]

_ANSWER = re.compile(r"^\s*(y|yes|n|no)\s*#?\s*(\d+)?\s*$", re.IGNORECASE)


def approval_prompt(ticket: int, tool_name: str, arguments: str, message: str) -> str:
    """The question shown to the operator (every argument in full, the rule's message)."""
    lines = [f"approval {ticket}: {format_call(tool_name, arguments, full=True)}"]
    if message:
        lines.append(f"  rule: {json.dumps(message, ensure_ascii=False)}")
    lines.append(f"  answer: y {ticket} / n {ticket} [n] ")
    return "\n".join(lines)


@dataclass(slots=True)
class _Request:
    ticket: int
    session: Any
    call_id: str
    tool_name: str
    arguments: str
    message: str


class OperatorDesk:
    """Where operator approvals of one process are asked, one at a time.

    Args:
        lines: where the operator's answers come from.
        out: where prompts are printed.
        timeout_s: how long to wait for an answer before rejecting.
        bare_answers: accept `y`/`n` without the id (one conversation only).
    """

    def __init__(
        self,
        lines: StdinLines,
        *,
        out: TextIO | None = None,
        timeout_s: float = 60.0,
        bare_answers: bool = False,
    ) -> None:
        self.lines = lines
        self.out = out if out is not None else sys.stdout
        self.timeout_s = timeout_s
        self.bare_answers = bare_answers
        self.decisions: list[tuple[int, str, bool]] = []
        self._seq = 0
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    def request(self, session: Any, event: Any) -> None:
        """Queue a prompt for a `tool_approval_required` event of `session`."""
        self._seq += 1
        req = _Request(
            self._seq,
            session,
            event.call_id,
            event.tool_name,
            event.arguments,
            getattr(event, "message", ""),
        )
        task = asyncio.get_running_loop().create_task(self._ask(req))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _ask(self, req: _Request) -> None:
        async with self._lock:  # one question at a time
            self.out.write(approval_prompt(req.ticket, req.tool_name, req.arguments, req.message))
            self.out.flush()
            approved = await self._answer(req)
            self.decisions.append((req.ticket, req.call_id, approved))
            if approved:
                await req.session.approve_tool_call(req.call_id)
            else:
                await req.session.reject_tool_call(req.call_id, "The operator did not approve.")

    async def _answer(self, req: _Request) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        while True:
            left = deadline - loop.time()
            answer = await self.lines.readline(left) if left > 0 else None
            if answer is None:
                self.out.write(
                    f"(no answer: approval {req.ticket} denied)\n"
                    if not self.lines.eof
                    else f"(no operator input: approval {req.ticket} denied)\n"
                )
                self.out.flush()
                return False
            m = _ANSWER.match(answer)
            ticket = int(m.group(2)) if m and m.group(2) else None
            bare_ok = self.bare_answers and len(self._tasks) == 1  # only this one waits
            if m and (ticket == req.ticket or (ticket is None and bare_ok)):
                approved = m.group(1).lower().startswith("y")
                self.out.write(f"approval {req.ticket} {'approved' if approved else 'denied'}\n")
                self.out.flush()
                return approved
            self.out.write(f"  answer with y {req.ticket} or n {req.ticket}: ")
            self.out.flush()

    async def close(self) -> None:
        """Cancel prompts still waiting."""
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class OperatorApprovals:
    """Answers one session's `tool_approval_required` events through an `OperatorDesk`.

    Args:
        session: the real session (`approve_tool_call` / `reject_tool_call`).
        lines: where the operator's answers come from (used when no desk is given).
        out: where the prompt is printed.
        timeout_s: how long to wait for an answer before rejecting.
        desk: a desk shared with other sessions (`serve`); ids then number across calls.
    """

    def __init__(
        self,
        session: Any,
        lines: StdinLines,
        *,
        out: TextIO | None = None,
        timeout_s: float = 60.0,
        desk: OperatorDesk | None = None,
    ) -> None:
        self.session = session
        self.desk = desk or OperatorDesk(lines, out=out, timeout_s=timeout_s, bare_answers=True)

    @property
    def decisions(self) -> list[tuple[str, bool]]:
        """(call_id, approved) for every answered request of this desk."""
        return [(call_id, ok) for _, call_id, ok in self.desk.decisions]

    def on_event(self, event: Any) -> None:
        """Hub listener: start a prompt for each approval request."""
        if isinstance(event, se.RealtimeToolApprovalRequiredEvent):
            self.desk.request(self.session, event)

    async def close(self) -> None:
        """Cancel prompts still waiting."""
        await self.desk.close()
