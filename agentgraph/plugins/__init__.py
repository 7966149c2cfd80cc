"""Plugins: find tools and guardrails through entry points and import strings.

Listing never imports plugin code; loading turns every failure into `PluginError`.
"""

from agentgraph.plugins.discovery import (
    GROUPS,
    GUARDRAIL_GROUP,
    TOOL_GROUP,
    PluginEntry,
    find_entry,
    list_entries,
    load_entry,
    load_ref,
)
from agentgraph.plugins.signature import ToolSignature, describe_tool, parse_docstring

__all__ = [
    "GROUPS",
    "GUARDRAIL_GROUP",
    "TOOL_GROUP",
    "PluginEntry",
    "ToolSignature",
    "describe_tool",
    "find_entry",
    "list_entries",
    "load_entry",
    "load_ref",
    "parse_docstring",
]
