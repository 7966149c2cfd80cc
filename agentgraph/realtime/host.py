"""The narrow interface between the session core and its parts, and the core's I/O requests.

The parts of a session (tool calls, approvals, guardrails, reconnects, agent audio) are
sans-I/O like the core itself: they never await, never read a clock and never touch the
connection. They talk to the core only through `SessionHost` (so nothing imports
`protocol.py` back: no import cycles), and whatever needs I/O — running a tool or a
guardrail, computing an agent's session config, opening a connection — they ask of the
asyncio shell with an `Action`. The shell performs it and feeds the outcome back into the
core with the time it happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from agentgraph.protocol import events as wire

if TYPE_CHECKING:
    from agentgraph.realtime import events as se
    from agentgraph.realtime.agent import RealtimeAgent
    from agentgraph.realtime.config import RunSettings
    from agentgraph.realtime.guardrails import RealtimeOutputGuardrail
    from agentgraph.realtime.history import History
    from agentgraph.realtime.tool import FunctionTool

__all__ = [
    "Action",
    "CheckApproval",
    "CloseSession",
    "Connect",
    "RunGuardrail",
    "RunTool",
    "SessionHost",
    "UpdateSession",
]


@dataclass(frozen=True, slots=True)
class RunTool:
    """Run `tool` with exactly `arguments_json` (validated), then `receive_tool_result`."""

    call_id: str
    tool: FunctionTool
    agent: RealtimeAgent
    arguments_json: str


@dataclass(frozen=True, slots=True)
class CheckApproval:
    """Ask the agent's `tool_approval_function` and the tool's `needs_approval` (either may
    be async) about a validated call, then `receive_approval_check`."""

    call_id: str
    tool: FunctionTool
    agent: RealtimeAgent
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RunGuardrail:
    """Run guardrail number `index` on `text` (item `item_id`), then `receive_guardrail_result`."""

    item_id: str
    index: int
    guardrail: RealtimeOutputGuardrail
    agent: RealtimeAgent
    text: str


@dataclass(frozen=True, slots=True)
class UpdateSession:
    """Compute the active agent's session config (instructions may be async), then
    `receive_session_config(token, config)`; the core sends the `session.update`."""

    token: int
    agent: RealtimeAgent


@dataclass(frozen=True, slots=True)
class Connect:
    """Open a new model connection (`close_old`: drop the current one first), then
    `connection_opened` or `connection_failed`."""

    attempt: int
    close_old: bool = False


@dataclass(frozen=True, slots=True)
class CloseSession:
    """Close the model connection: the session has ended (`reason` is already reported)."""

    reason: str = ""


Action = RunTool | CheckApproval | RunGuardrail | UpdateSession | Connect | CloseSession


@dataclass(slots=True)
class Deadlines:
    """Named deadlines of the core (loop time, seconds); the earliest is the next timer."""

    at: dict[object, float] = field(default_factory=dict)
    changed: bool = False

    def set(self, key: object, when: float) -> None:
        self.at[key] = when
        self.changed = True

    def clear(self, key: object) -> None:
        if self.at.pop(key, None) is not None:
            self.changed = True

    def due(self, now: float) -> list[object]:
        """Keys whose deadline has passed (removed), earliest first."""
        keys = sorted((k for k, t in self.at.items() if t <= now), key=self.at.__getitem__)
        for key in keys:
            del self.at[key]
        if keys:
            self.changed = True
        return keys

    def next(self) -> float | None:
        return min(self.at.values()) if self.at else None


class SessionHost(Protocol):
    """What the parts of a session may use of the core."""

    settings: RunSettings
    history: History
    deadlines: Deadlines

    @property
    def agent(self) -> RealtimeAgent: ...

    @property
    def generation(self) -> int: ...

    @property
    def now(self) -> float: ...

    @property
    def can_send(self) -> bool: ...

    @property
    def ended(self) -> bool: ...

    def emit(self, event: se.RealtimeSessionEvent) -> None: ...

    def send(self, event: wire.ClientEvent) -> bool: ...

    def act(self, action: Action) -> None: ...

    def request_response(self, response: dict[str, Any] | None = None) -> None: ...

    def start_next_response(self) -> None: ...

    def cancel_response(self) -> None: ...

    def set_agent(self, agent: RealtimeAgent) -> None: ...

    def add_guidance(self, text: str) -> None: ...

    def is_quiet(self) -> bool: ...

    def finish(self, reason: str) -> None: ...
