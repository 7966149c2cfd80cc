"""Dialogue policies for the embedded engine: `rules` (deterministic) and `chat` (LLM)."""

from agentgraph.engine.policy.base import (
    Decision,
    Policy,
    PolicyContext,
    ToolCall,
    ToolSpec,
    Turn,
)
from agentgraph.engine.policy.rules import RulesPolicy, speak_output

__all__ = [
    "Decision",
    "Policy",
    "PolicyContext",
    "RulesPolicy",
    "ToolCall",
    "ToolSpec",
    "Turn",
    "speak_output",
]
