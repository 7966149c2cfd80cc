"""Handoffs: another agent exposed to the model as a `transfer_to_<agent>` tool.

On a handoff call the session sends `session.update` with the new agent's instructions and
tools (voice and formats unchanged), then the call's output, then a response.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentgraph.realtime.agent import RealtimeAgent

__all__ = ["Handoff", "handoff", "transfer_tool_name"]


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
