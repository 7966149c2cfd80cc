"""Draw a graph as Mermaid or Graphviz DOT: agents, handoff edges, tools, approval markers.

Pure text rendering of a validated `Spec`; the CLI only prints the result.
"""

from __future__ import annotations

import re

from agentgraph.spec.api import Spec
from agentgraph.spec.models import ApprovalRule, BuiltinToolUse, HandoffSpec

__all__ = ["to_dot", "to_mermaid"]


def _id(kind: str, name: str) -> str:
    return f"{kind}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}"


def _approval(spec: Spec, tool: str | BuiltinToolUse) -> str | None:
    if isinstance(tool, BuiltinToolUse):
        rule = tool.approval
        if rule is None and tool.builtin == "transfer_call":
            return "operator"
    else:
        entry = spec.tools.get(tool)
        rule = entry.approval if entry else None
        if rule is None and entry is not None and entry.builtin == "transfer_call":
            return "operator"
    if rule is None or rule == "never":
        return None
    if rule == "always":
        return "always"
    assert isinstance(rule, ApprovalRule)
    return f"{rule.by}: {rule.when}" if rule.when else rule.by


def _tool_name(tool: str | BuiltinToolUse) -> str:
    return tool.builtin if isinstance(tool, BuiltinToolUse) else tool


def _edges(spec: Spec) -> list[tuple[str, str]]:
    return [
        (name, edge.to if isinstance(edge, HandoffSpec) else edge)
        for name, agent in spec.agents.items()
        for edge in agent.handoffs
    ]


def _esc(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(spec: Spec) -> str:
    """A Mermaid flowchart: agents as boxes (start rounded), tools as parallelograms."""
    lines = ["flowchart LR"]
    for name in spec.agents:
        label = f"{name} (start)" if name == spec.start else name
        shape = f'(["{_esc(label)}"])' if name == spec.start else f'["{_esc(label)}"]'
        lines.append(f"  {_id('agent', name)}{shape}")
    for src, dst in _edges(spec):
        lines.append(f"  {_id('agent', src)} -->|handoff| {_id('agent', dst)}")
    for name, agent in spec.agents.items():
        for tool in agent.tools:
            tname = _tool_name(tool)
            tid = _id("tool", f"{name}_{tname}")
            marker = _approval(spec, tool)
            label = f"{tname} 🔒 approval ({marker})" if marker else tname
            lines.append(f'  {tid}[/"{_esc(label)}"/]')
            lines.append(f"  {_id('agent', name)} -.-> {tid}")
        for guard in agent.guardrails:
            gid = _id("guard", f"{name}_{guard}")
            lines.append(f'  {gid}{{{{"{_esc("guardrail: " + guard)}"}}}}')
            lines.append(f"  {_id('agent', name)} -.- {gid}")
    return spec.redact("\n".join(lines)) + "\n"


def _dq(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def to_dot(spec: Spec) -> str:
    """A Graphviz digraph with the same content as `to_mermaid`."""
    lines = [f"digraph {_dq(spec.name)} {{", "  rankdir=LR;", "  node [fontname=Helvetica];"]
    for name in spec.agents:
        shape = "doubleoctagon" if name == spec.start else "box"
        lines.append(f"  {_dq('agent:' + name)} [label={_dq(name)}, shape={shape}];")
    for src, dst in _edges(spec):
        lines.append(f"  {_dq('agent:' + src)} -> {_dq('agent:' + dst)} [label=handoff];")
    for name, agent in spec.agents.items():
        for tool in agent.tools:
            tname = _tool_name(tool)
            tid = f"tool:{name}:{tname}"
            marker = _approval(spec, tool)
            label = f"{tname}\napproval ({marker})" if marker else tname
            style = ", color=red" if marker else ""
            lines.append(f"  {_dq(tid)} [label={_dq(label)}, shape=parallelogram{style}];")
            lines.append(f"  {_dq('agent:' + name)} -> {_dq(tid)} [style=dashed, arrowhead=none];")
        for guard in agent.guardrails:
            gid = f"guard:{name}:{guard}"
            lines.append(f"  {_dq(gid)} [label={_dq('guardrail: ' + guard)}, shape=hexagon];")
            lines.append(f"  {_dq('agent:' + name)} -> {_dq(gid)} [style=dotted, arrowhead=none];")
    lines.append("}")
    return spec.redact("\n".join(lines)) + "\n"
