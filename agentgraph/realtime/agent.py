"""`RealtimeAgent`: the instructions, tools, handoffs and guardrails of one voice agent.

Agents are plain data; the session reads them when it starts and on every handoff. Voice,
model and audio formats are session-wide (the Realtime API fixes them per session) and
live in the run config, not here.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentgraph.realtime.greeting import Greeting, normalize_greeting
from agentgraph.realtime.guardrails import RealtimeOutputGuardrail
from agentgraph.realtime.tool import FunctionTool

__all__ = ["Handoff", "RealtimeAgent", "ToolApprovalFunction", "handoff", "transfer_tool_name"]

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


# -- handoffs: another agent exposed to the model as a `transfer_to_<agent>` tool.
# They live beside the agent they point to (a handoff holds an agent, an agent holds
# handoffs), so neither module imports the other back.


def transfer_tool_name(agent_name: str) -> str:
    """`"Billing Desk"` -> `"transfer_to_billing_desk"` (function-style, as the reference SDK)."""
    slug = re.sub(r"[^0-9a-zA-Z_]", "_", agent_name.strip().replace(" ", "_")).lower()
    return f"transfer_to_{slug}"


@dataclass(frozen=True, slots=True)
class Handoff:
    """A handoff edge to `agent`, as the model sees it.

    Attributes:
        tool_name: the function name (`transfer_to_<agent>`).
        tool_description: when the model should use it.
        agent: the agent that takes over.
        input_json_schema: the arguments schema (none by default).
    """

    tool_name: str
    tool_description: str
    agent: RealtimeAgent
    input_json_schema: dict[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {}, "additionalProperties": False}
    )

    @property
    def agent_name(self) -> str:
        return self.agent.name

    def to_wire(self) -> dict[str, Any]:
        """The GA `tools[]` entry for `session.update`."""
        return {
            "type": "function",
            "name": self.tool_name,
            "description": self.tool_description,
            "parameters": self.input_json_schema,
        }


def handoff(
    agent: RealtimeAgent,
    tool_name_override: str | None = None,
    tool_description_override: str | None = None,
) -> Handoff:
    """Build a `Handoff` to `agent`.

    Args:
        agent: the agent to hand the conversation to.
        tool_name_override: the tool name (default `transfer_to_<agent name>`).
        tool_description_override: the description (default from `handoff_description`).
    """
    description = tool_description_override
    if description is None:
        description = f"Handoff to the {agent.name} agent to handle the request."
        if agent.handoff_description:
            description += f" {agent.handoff_description}"
    return Handoff(
        tool_name=tool_name_override or transfer_tool_name(agent.name),
        tool_description=description,
        agent=agent,
    )
