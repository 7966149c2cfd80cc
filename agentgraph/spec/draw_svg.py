"""Draw a graph as a standalone SVG picture: no Graphviz or browser the user must install.

Agents are laid out in columns by handoff distance from the start agent (the start agent
leftmost, thick border), handoffs are arrows (curved when two agents hand off both ways),
and each agent's tools and guardrails hang below it; a tool that needs approval has a red
border and says who approves. Every agent's group has `class="agent"` and
`data-agent="NAME"`, so the playground page highlights the active one.

Pure text rendering of a validated `Spec`, like `draw.py`.
"""

from __future__ import annotations

from collections import deque
from xml.sax.saxutils import escape, quoteattr

from agentgraph.spec.api import Spec
from agentgraph.spec.draw import _approval, _edges, _tool_name

__all__ = ["to_svg"]

_MIN_W, _MAX_W = 180, 420  # box width: fits the longest label within these bounds
_AGENT_H, _ITEM_H = 40, 24
_COL_GAP, _ROW_GAP, _ITEM_GAP = 90, 40, 6
_MARGIN = 20
_CHAR_W = 6.6  # average glyph width of 12 px sans-serif, for clipping labels

_STYLE = """
.agent rect { fill: #eef4ff; stroke: #3a6fb0; stroke-width: 1.5; }
.agent.start rect { stroke-width: 3; }
.agent.active rect { fill: #f5a623; stroke: #a86500; }
.agent text { font-weight: 600; }
.tool rect { fill: #fff; stroke: #888; }
.tool.approval rect { stroke: #c0162c; stroke-width: 2; }
.guardrail rect { fill: #f6f0ff; stroke: #7a4fb5; }
text { font: 12px system-ui, sans-serif; fill: #1d1d1f; }
.edge { stroke: #3a6fb0; fill: none; stroke-width: 1.5; }
.link { stroke: #aaa; stroke-dasharray: 3 3; fill: none; }
"""


def _columns(spec: Spec) -> list[list[str]]:
    """Agents by handoff distance from the start; unreachable agents in a last column."""
    edges = _edges(spec)
    depth: dict[str, int] = {spec.start: 0} if spec.start in spec.agents else {}
    queue = deque(depth)
    while queue:
        name = queue.popleft()
        for src, dst in edges:
            if src == name and dst in spec.agents and dst not in depth:
                depth[dst] = depth[name] + 1
                queue.append(dst)
    last = max(depth.values(), default=-1) + 1
    cols: list[list[str]] = [[] for _ in range(last + 1)]
    for name in spec.agents:
        cols[depth.get(name, last)].append(name)
    return [col for col in cols if col]


def _label(text: str, width: float) -> str:
    limit = max(4, int((width - 12) / _CHAR_W))
    return escape(text if len(text) <= limit else text[: limit - 1] + "…")


def _items(spec: Spec, agent: str) -> list[tuple[str, str, str]]:
    """(css class, label, tooltip) of an agent's tools and guardrails."""
    out = []
    spec_agent = spec.agents[agent]
    for tool in spec_agent.tools:
        name = _tool_name(tool)
        rule = _approval(spec, tool)
        if rule:
            out.append(
                ("tool approval", f"{name} [approval: {rule.split(':')[0]}]", f"approval: {rule}")
            )
        else:
            out.append(("tool", name, "tool"))
    for guard in spec_agent.guardrails:
        out.append(("guardrail", f"guardrail: {guard}", "output guardrail"))
    return out


def to_svg(spec: Spec) -> str:
    """The graph as an SVG document (agents, handoff arrows, tools, approval rules)."""
    cols = _columns(spec)
    labels = [name for name in spec.agents] + [
        label for name in spec.agents for _, label, _ in _items(spec, name)
    ]
    w = min(_MAX_W, max([_MIN_W, *(len(text) * _CHAR_W + 40 for text in labels)]))
    boxes: dict[str, tuple[float, float]] = {}
    heights: list[float] = []
    parts: list[str] = []
    for c, col in enumerate(cols):
        x = float(_MARGIN + c * (w + _COL_GAP))
        y = float(_MARGIN)
        for name in col:
            boxes[name] = (x, y)
            items = _items(spec, name)
            y += _AGENT_H + len(items) * (_ITEM_H + _ITEM_GAP) + _ROW_GAP
        heights.append(y)
    width = _MARGIN * 2 + len(cols) * w + max(0, len(cols) - 1) * _COL_GAP
    height = max(heights, default=_MARGIN * 2.0) - _ROW_GAP + _MARGIN

    pairs = {(src, dst) for src, dst in _edges(spec)}
    for src, dst in sorted(pairs):
        if src not in boxes or dst not in boxes:
            continue
        parts.append(_arrow(boxes[src], boxes[dst], w, both=(dst, src) in pairs, names=(src, dst)))

    for name, (x, y) in boxes.items():
        cls = "agent start" if name == spec.start else "agent"
        title = f"{name} (start)" if name == spec.start else name
        parts.append(
            f'<g class="{cls}" data-agent={quoteattr(name)}><title>{escape(title)}</title>'
            f'<rect x="{x}" y="{y}" width="{w}" height="{_AGENT_H}" rx="8"/>'
            f'<text x="{x + w / 2}" y="{y + _AGENT_H / 2 + 4}" text-anchor="middle">'
            f"{_label(name, w)}</text></g>"
        )
        iy = y + _AGENT_H + _ITEM_GAP
        for cls_item, label, tip in _items(spec, name):
            parts.append(
                f'<path class="link" d="M{x + 10} {iy - _ITEM_GAP} V{iy + _ITEM_H / 2} H{x + 16}"/>'
                f'<g class="{cls_item}"><title>{escape(tip)}</title>'
                f'<rect x="{x + 16}" y="{iy}" width="{w - 16}" height="{_ITEM_H}" rx="3"/>'
                f'<text x="{x + 24}" y="{iy + 16}">{_label(label, w - 16)}</text></g>'
            )
            iy += _ITEM_H + _ITEM_GAP

    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f"aria-label={quoteattr(spec.name)}>"
        f"<title>{escape(spec.name)}</title><style>{_STYLE}</style>"
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" '
        'fill="#3a6fb0"/></marker></defs>' + "".join(parts) + "</svg>\n"
    )
    return spec.redact(svg)


def _arrow(
    src: tuple[float, float],
    dst: tuple[float, float],
    w: float,
    *,
    both: bool,
    names: tuple[str, str],
) -> str:
    """A handoff arrow between two agent boxes, bent to one side when the reverse exists."""
    sx, sy = src[0] + w / 2, src[1] + _AGENT_H / 2
    dx, dy = dst[0] + w / 2, dst[1] + _AGENT_H / 2
    # leave and enter at the box edges facing each other
    if abs(dx - sx) >= 1:
        sign = 1 if dx > sx else -1
        sx += sign * w / 2
        dx -= sign * w / 2
        if both:
            sy += -6 * sign
            dy += -6 * sign
    else:
        sign = 1 if dy > sy else -1
        sx += w / 2 - 10
        dx += w / 2 - 10
        sy += sign * _AGENT_H / 2
        dy -= sign * _AGENT_H / 2
    mx, my = (sx + dx) / 2, (sy + dy) / 2
    if abs(dx - sx) < 1:  # same column: bow out to the right
        mx += 40 + (20 if both and sign < 0 else 0)
    elif both:
        my += -14 if dx > sx else 14
    title = f"handoff: {names[0]} -> {names[1]}"
    return (
        f'<path class="edge" d="M{sx:.1f} {sy:.1f} Q{mx:.1f} {my:.1f} {dx:.1f} {dy:.1f}" '
        f'marker-end="url(#arrow)"><title>{escape(title)}</title></path>'
    )
