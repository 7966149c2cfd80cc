"""Handoffs: another agent exposed to the model as a `transfer_to_<agent>` tool.

On a handoff call the session sends `session.update` with the new agent's instructions and
tools (voice and formats unchanged), then the call's output, then a response. The classes
live in `agent.py` (an agent holds handoffs and a handoff holds an agent: one module keeps
the imports acyclic); this module is their public home.
"""

from __future__ import annotations

from agentgraph.realtime.agent import Handoff, handoff, transfer_tool_name

__all__ = ["Handoff", "handoff", "transfer_tool_name"]
