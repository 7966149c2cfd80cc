"""`RealtimeAgent`: the instructions, tools, handoffs and guardrails of one voice agent.

Agents are plain data; the session reads them when it starts and on every handoff. Voice,
model and audio formats are session-wide (the Realtime API fixes them per session) and
live in the run config, not here.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentgraph.realtime.greeting import Greeting, normalize_greeting
from agentgraph.realtime.guardrails import RealtimeOutputGuardrail
from agentgraph.realtime.handoffs import Handoff, handoff
from agentgraph.realtime.tool import FunctionTool

__all__ = ["RealtimeAgent", "ToolApprovalFunction"]

#: `tool_approval_function(tool_name, arguments)` -> True approves, False rejects,
#: None defers to the tool's own rules. May be async.
ToolApprovalFunction = Callable[[str, dict[str, Any]], bool | Awaitable[bool | None] | None]

Instructions = str | Callable[[Any, "RealtimeAgent"], str | Awaitable[str]]


@dataclass(eq=False)
class RealtimeAgent:
    """One agent of a voice graph.

    Attributes:
        name: unique within the graph; handoff tools are named after it.
        instructions: the system prompt, or a (sync or async) function `(context, agent)`.
        tools: the `FunctionTool`s this agent may call.
        handoffs: agents (or `Handoff`s) this agent may transfer to.
        output_guardrails: checks on what this agent says.
        handoff_description: tells other agents' models when to hand off here.
        tool_approval_function: `(tool_name, arguments) -> bool | None` deciding approvals
            for this agent's tool calls (None = use the tool's own rule).
        turn_detection: per-agent turn detection (a GA `turn_detection` object or None to
            keep the session's); sent in the handoff's `session.update`.
        greeting: what this agent says first when it starts a session (text said word for
            word, or `Greeting(instructions=...)`); None uses the run config's greeting.
    """

    name: str
    instructions: Instructions | None = None
    tools: list[FunctionTool] = field(default_factory=list)
    handoffs: list[RealtimeAgent | Handoff] = field(default_factory=list)
    output_guardrails: list[RealtimeOutputGuardrail] = field(default_factory=list)
    handoff_description: str | None = None
    tool_approval_function: ToolApprovalFunction | None = None
    turn_detection: dict[str, Any] | None = None
    greeting: Greeting | str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError("RealtimeAgent needs a non-empty name")
        # Accept any sequence (tuples from compiled graphs) but keep lists internally.
        self.tools = list(self.tools)
        self.handoffs = list(self.handoffs)
        self.output_guardrails = list(self.output_guardrails)
        self.greeting = normalize_greeting(self.greeting)

    def clone(self, **changes: Any) -> RealtimeAgent:
        """A copy with some fields replaced (lists are copied, agents shared)."""
        return dataclasses.replace(self, **changes)

    async def get_system_prompt(self, context: Any = None) -> str:
        """The instructions text, calling `instructions` if it is a function."""
        if self.instructions is None:
            return ""
        if isinstance(self.instructions, str):
            return self.instructions
        result = self.instructions(context, self)
        if inspect.isawaitable(result):
            result = await result
        return str(result)

    def get_handoffs(self) -> list[Handoff]:
        """The handoffs as `Handoff` objects (plain agents get the default tool name)."""
        return [h if isinstance(h, Handoff) else handoff(h) for h in self.handoffs]

    def get_all_tools(self) -> Sequence[FunctionTool | Handoff]:
        """Function tools then handoff tools: everything the model may call."""
        return [*self.tools, *self.get_handoffs()]

    def tools_wire(self) -> list[dict[str, Any]]:
        """The GA `tools` array for `session.update`; duplicate names are an error."""
        seen: set[str] = set()
        wire: list[dict[str, Any]] = []
        for tool in self.get_all_tools():
            name = tool.name if isinstance(tool, FunctionTool) else tool.tool_name
            if name in seen:
                raise ValueError(f"agent {self.name!r} has two tools named {name!r}")
            seen.add(name)
            wire.append(tool.to_wire())
        return wire

    def __repr__(self) -> str:
        return f"RealtimeAgent(name={self.name!r})"
