"""Pass 2: cross-references and meaning, on a graph that already fits the schema.

Checks: every tool, guardrail and handoff has exactly one source; start, handoff, tool,
guardrail and SIP-route names exist; no agent ends up with two tools of one name once the
handoff tools (`transfer_to_<agent>`) are added; approval conditions parse and use real
parameters (when the tool's parameters are known); prompt files exist; `{{name}}`
placeholders have variables. Warnings: unreachable agents, agents that can never hand back
or end, self-handoffs, unused tools and guardrails, secrets written literally.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from pathlib import Path

from agentgraph.spec.approvals import ToolParams, check_approval, param_names
from agentgraph.spec.files import FileProblem, inside, read_text_file
from agentgraph.spec.findings import did_you_mean
from agentgraph.spec.loader import Document, PathKey
from agentgraph.spec.models import (
    GA_VOICES,
    SEMANTIC_VAD_DROPPED,
    AgentSpec,
    ApprovalRule,
    BuiltinToolUse,
    Graph,
    GreetingSpec,
    HandoffSpec,
    NoTurnDetection,
    PromptFile,
    SemanticVad,
    ToolChoiceFunction,
    ToolSpec,
)

__all__ = [
    "BUILTIN_PARAMS",
    "SENTINEL",
    "ToolParams",
    "check_approval",
    "check_graph",
    "handoff_tool_name",
    "param_names",
]


#: Stands in for a list item or name that pass 1 already reported; pass 2 skips it.
SENTINEL = "\x00"

#: Parameters of the built-in call tools (agentgraph.realtime.call_tools).
BUILTIN_PARAMS: dict[str, frozenset[str]] = {
    "end_call": frozenset(),
    "transfer_call": frozenset({"target"}),
}
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_MAX_PROMPT_BYTES = 1_000_000


def handoff_tool_name(agent_name: str) -> str:
    """The handoff tool's name, as `agentgraph.realtime.handoffs.transfer_tool_name`."""
    slug = re.sub(r"[^0-9a-zA-Z_]", "_", agent_name.strip().replace(" ", "_")).lower()
    return f"transfer_to_{slug}"


def check_graph(
    doc: Document,
    graph: Graph,
    *,
    base_dir: Path,
    tool_params: Mapping[str, ToolParams] | None = None,
) -> tuple[str, dict[str, str]]:
    """Run every pass-2 check, adding findings to `doc`.

    Args:
        doc: the document (positions, and where findings go).
        graph: the validated models.
        base_dir: the folder prompt files are relative to.
        tool_params: tool name -> its parameter names or parameter JSON Schema, for tools
            whose parameters are known (read from source or imported).

    Returns:
        The start agent's name and each agent's instructions text (prompt files read,
        `{{name}}` placeholders filled).
    """
    known: dict[str, ToolParams] = dict(tool_params or {})
    for name, tool in graph.tools.items():
        if tool.builtin is not None:
            known.setdefault(name, BUILTIN_PARAMS[tool.builtin])
    _check_tools(doc, graph, known)
    _check_guardrails(doc, graph)
    start = _check_start(doc, graph)
    for name, agent in graph.agents.items():
        _check_agent(doc, graph, name, agent)
    instructions = {
        name: _instructions(doc, graph, name, agent, base_dir)
        for name, agent in graph.agents.items()
    }
    _check_sip(doc, graph)
    _check_model(doc, graph)
    _check_session(doc, graph)
    _warn_graph_shape(doc, graph, start)
    return start, instructions


def _check_tools(doc: Document, graph: Graph, known: Mapping[str, ToolParams]) -> None:
    for name, tool in graph.tools.items():
        path: PathKey = ("tools", name)
        if not _TOOL_NAME.match(name):
            doc.add(
                "AG107",
                f"tool name '{name}' is not a valid function name",
                path,
                key=True,
                hints=("use letters, digits, '_' and '-' (at most 64)",),
            )
        sources = [k for k in ("ref", "entry_point", "builtin") if getattr(tool, k) is not None]
        if not sources:
            doc.add(
                "AG104",
                f"tool '{name}' needs one of ref, entry_point or builtin",
                path,
                key=True,
                hints=(f'e.g. ref: "my_package.tools:{name}"',),
            )
        elif len(sources) > 1:
            doc.add(
                "AG103",
                f"tool '{name}' has both {sources[0]} and {sources[1]}; keep one",
                (*path, sources[1]),
                key=True,
            )
        if isinstance(tool.approval, ApprovalRule):
            check_approval(doc, tool.approval, (*path, "approval"), known.get(name))


def _check_guardrails(doc: Document, graph: Graph) -> None:
    for name, guard in graph.guardrails.items():
        path: PathKey = ("guardrails", name)
        sources = [
            k for k in ("match", "check", "ref", "entry_point") if getattr(guard, k) is not None
        ]
        if not sources:
            doc.add(
                "AG104",
                f"guardrail '{name}' needs one of match, check, ref or entry_point",
                path,
                key=True,
                hints=("e.g. match: {keywords: [price, cost]}",),
            )
        elif len(sources) > 1:
            doc.add(
                "AG103",
                f"guardrail '{name}' has both {sources[0]} and {sources[1]}; keep one",
                (*path, sources[1]),
                key=True,
            )
        for key in ("model", "base_url", "api_key"):
            if getattr(guard, key) is not None and guard.check is None:
                doc.add(
                    "AG103",
                    f"'{key}' only applies to 'check' guardrails",
                    (*path, key),
                    key=True,
                    hints=("remove it, or make this a check: guardrail",),
                )
        if guard.api_key:
            _warn_literal(doc, guard.api_key, (*path, "api_key"))
        if guard.match is not None:
            if guard.match.keywords is None and guard.match.regex is None:
                doc.add("AG104", "match needs keywords or regex", (*path, "match"), key=True)
            if guard.match.regex is not None:
                try:
                    re.compile(guard.match.regex)
                except re.error as exc:
                    doc.add(
                        "AG107",
                        f"regular expression does not compile: {exc}",
                        (*path, "match", "regex"),
                    )


def _check_start(doc: Document, graph: Graph) -> str:
    agents = list(graph.agents)
    if graph.start is None:
        return agents[0]
    if graph.start not in graph.agents:
        doc.add(
            "AG201",
            f"start agent '{graph.start}' is not defined",
            ("start",),
            hints=did_you_mean(graph.start, agents, what="agents"),
        )
        return agents[0]
    return graph.start


def _check_agent(doc: Document, graph: Graph, name: str, agent: AgentSpec) -> None:
    base: PathKey = ("agents", name)
    if isinstance(agent.turn_detection, NoTurnDetection):
        doc.add(
            "AG103",
            "turn_detection type 'none' can only be set for the whole graph",
            (*base, "turn_detection", "type"),
            hints=("per agent, use server_vad or semantic_vad; or set 'none' at the top",),
        )
    seen: dict[str, PathKey] = {}

    def claim(tool_name: str, path: PathKey, what: str) -> None:
        if tool_name in seen:
            doc.add(
                "AG205",
                f"agent '{name}' would have two tools named '{tool_name}' ({what})",
                path,
                hints=("rename the tool or remove the duplicate entry",),
            )
        else:
            seen[tool_name] = path

    for i, entry in enumerate(agent.tools):
        path = (*base, "tools", i)
        if isinstance(entry, BuiltinToolUse):
            claim(entry.builtin, path, "built-in tool")
            if isinstance(entry.approval, ApprovalRule):
                check_approval(
                    doc, entry.approval, (*path, "approval"), BUILTIN_PARAMS[entry.builtin]
                )
            continue
        if entry == SENTINEL:
            continue
        if entry not in graph.tools:
            doc.add(
                "AG203",
                f"tool '{entry}' is not defined under 'tools'",
                path,
                hints=did_you_mean(entry, graph.tools, what="tools"),
            )
            continue
        claim(entry, path, "listed twice")
    for i, guard in enumerate(agent.guardrails):
        if guard not in graph.guardrails and guard != SENTINEL:
            doc.add(
                "AG204",
                f"guardrail '{guard}' is not defined under 'guardrails'",
                (*base, "guardrails", i),
                hints=did_you_mean(guard, graph.guardrails, what="guardrails"),
            )
    for i, edge in enumerate(agent.handoffs):
        target = edge.to if isinstance(edge, HandoffSpec) else edge
        path = (
            (*base, "handoffs", i, "to")
            if isinstance(edge, HandoffSpec)
            else (*base, "handoffs", i)
        )
        if target == SENTINEL:
            continue
        if target not in graph.agents:
            doc.add(
                "AG202",
                f"handoff target '{target}' is not an agent",
                path,
                hints=did_you_mean(target, graph.agents, what="agents"),
            )
            continue
        if target == name:
            doc.add(
                "AG303",
                f"agent '{name}' hands off to itself",
                path,
                severity="warning",
                hints=("remove this handoff; the agent already has the conversation",),
            )
        claim(handoff_tool_name(target), path, "handoff tool")


def _instructions(doc: Document, graph: Graph, name: str, agent: AgentSpec, base_dir: Path) -> str:
    path: PathKey = ("agents", name, "instructions")
    text = agent.instructions
    if isinstance(text, PromptFile):
        prompt = text
        file = base_dir / prompt.file
        roots = [base_dir, *(base_dir / folder for folder in graph.prompt_folders)]
        if not inside(file, roots):
            doc.add(
                "AG108",
                f"prompt file '{prompt.file}' is outside the graph's folder",
                (*path, "file"),
                hints=(
                    "keep prompts beside the graph, or list their folder under "
                    "prompt_folders: [...] (relative to the graph file)",
                ),
            )
            return ""
        try:
            text = read_text_file(file, limit=_MAX_PROMPT_BYTES)
        except FileProblem as exc:
            doc.add(
                "AG108",
                f"cannot read prompt file '{prompt.file}': {exc}",
                (*path, "file"),
                hints=("the path is relative to the folder of the graph file",),
            )
            return ""

    def fill(m: re.Match[str]) -> str:
        var = m.group(1)
        if var not in graph.variables:
            doc.add(
                "AG209",
                f"instructions use {{{{{var}}}}} but there is no variable '{var}'",
                path,
                hints=did_you_mean(var, graph.variables, what="variables"),
            )
            return m.group(0)
        value = graph.variables[var]
        return str(value).lower() if isinstance(value, bool) else str(value)

    return _PLACEHOLDER.sub(fill, text) if "{{" in text else text


def _check_sip(doc: Document, graph: Graph) -> None:
    sip = graph.sip
    if sip is None:
        return
    for number, target in sip.routes.items():
        if target not in graph.agents:
            doc.add(
                "AG208",
                f"route {number} goes to '{target}', which is not an agent",
                ("sip", "routes", number),
                hints=did_you_mean(target, graph.agents, what="agents"),
            )
    for i, network in enumerate(sip.allow):
        if network == SENTINEL:
            continue
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            doc.add(
                "AG107",
                f"'{network}' is not a network",
                ("sip", "allow", i),
                hints=("write an address or CIDR network, e.g. 10.0.0.0/8 or 127.0.0.1",),
            )
    listens: list[tuple[PathKey, str]] = [(("sip", "listen"), sip.listen)]
    if sip.openai is not None:
        listens.append((("sip", "openai", "listen"), sip.openai.listen))
        _warn_literal(doc, sip.openai.webhook_secret, ("sip", "openai", "webhook_secret"))
    streams = sip.media_streams
    if streams is not None:
        for key in ("token", "twilio_auth_token"):
            if getattr(streams, key):
                _warn_literal(doc, getattr(streams, key), ("sip", "media_streams", key))
        if streams.twilio_auth_token and not streams.public_url:
            doc.add(
                "AG107",
                "twilio_auth_token needs public_url: the URL Twilio signs",
                ("sip", "media_streams", "twilio_auth_token"),
                hints=("add public_url: wss://your.host/path (as configured at Twilio)",),
            )
    for path, value in listens:
        port = int(value.rsplit(":", 1)[1])
        if port > 65535:
            doc.add("AG107", f"port {port} is out of range (0-65535)", path)


def _check_model(doc: Document, graph: Graph) -> None:
    url = graph.model.base_url
    if url is not None and not url.startswith(("ws://", "wss://", "http://", "https://")):
        doc.add(
            "AG107",
            f"base_url '{url}' must start with ws://, wss://, http:// or https://",
            ("model", "base_url"),
        )
    if graph.model.api_key:
        _warn_literal(doc, graph.model.api_key, ("model", "api_key"))


def _check_session(doc: Document, graph: Graph) -> None:
    """Voices gpt-realtime lacks, dropped semantic_vad keys, tool_choice, greetings."""
    if graph.voice not in GA_VOICES and graph.model.provider != "local":
        doc.add(
            "AG113",
            f"gpt-realtime has no voice '{graph.voice}'; only the embedded engine speaks it",
            ("voice",),
            severity="warning",
            hints=(
                f"on OpenAI use one of {', '.join(GA_VOICES)}; or set model: {{provider: local}}",
            ),
        )
    places: list[tuple[PathKey, object]] = [(("turn_detection",), graph.turn_detection)]
    places += [(("agents", n, "turn_detection"), a.turn_detection) for n, a in graph.agents.items()]
    places += [(("agents", n, "greeting"), a.greeting) for n, a in graph.agents.items()]
    places.append((("greeting",), graph.greeting))
    for path, value in places:
        if isinstance(value, SemanticVad):
            dropped = [k for k in SEMANTIC_VAD_DROPPED if getattr(value, k) is not None]
            if dropped:
                doc.add(
                    "AG114",
                    f"semantic_vad does not take {', '.join(dropped)}; "
                    f"{'it is' if len(dropped) == 1 else 'they are'} dropped",
                    path,
                    severity="warning",
                    hints=(
                        "semantic_vad takes eagerness, create_response and "
                        "interrupt_response; use type: server_vad to tune silence and threshold",
                    ),
                )
        elif isinstance(value, GreetingSpec) and (value.text is None) == (
            value.instructions is None
        ):
            doc.add(
                "AG104" if value.text is None else "AG103",
                "a greeting has exactly one of text (said word for word) or instructions",
                path,
                hints=("e.g. greeting: Hello, how can I help? (text is the short form)",),
            )
    choice = graph.tool_choice
    if isinstance(choice, ToolChoiceFunction):
        names = (
            set(graph.tools) | set(BUILTIN_PARAMS) | {handoff_tool_name(a) for a in graph.agents}
        )
        if choice.function not in names:
            doc.add(
                "AG203",
                f"tool_choice names '{choice.function}', which is not a tool of this graph",
                ("tool_choice", "function"),
                hints=did_you_mean(choice.function, names, what="tools"),
            )


def _warn_literal(doc: Document, value: str, path: PathKey) -> None:
    if value and value not in doc.secrets and path not in doc.substituted:
        doc.add(
            "AG112",
            "secret written literally in the graph file",
            path,
            severity="warning",
            hints=(
                "write ${NAME} and set NAME in the environment, so the file can be "
                "shared and the value is redacted from output",
            ),
        )


def _warn_graph_shape(doc: Document, graph: Graph, start: str) -> None:
    if any(f.severity == "error" for f in doc.findings):
        return  # shape and usage warnings on a broken graph are noise
    edges: dict[str, list[str]] = {}
    for name, agent in graph.agents.items():
        edges[name] = [e.to if isinstance(e, HandoffSpec) else e for e in agent.handoffs]
        edges[name] = [t for t in edges[name] if t != SENTINEL]
    roots = [start, *(t for t in (graph.sip.routes.values() if graph.sip else ()))]
    seen: set[str] = set()
    stack = [r for r in roots if r in graph.agents]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(t for t in edges[current] if t in graph.agents)
    for name, agent in graph.agents.items():
        if name not in seen:
            doc.add(
                "AG301",
                f"agent '{name}' is unreachable from the start agent '{start}'",
                ("agents", name),
                key=True,
                severity="warning",
                hints=(f"add '{name}' to some agent's handoffs, or remove it",),
            )
        elif len(graph.agents) > 1 and not edges[name] and not _can_end(graph, agent):
            doc.add(
                "AG302",
                f"agent '{name}' can never hand back or end the call",
                ("agents", name),
                key=True,
                severity="warning",
                hints=(
                    "add a handoff back (e.g. handoffs: [" + start + "]) or the "
                    "built-in end_call tool",
                ),
            )
    used_tools = {t for a in graph.agents.values() for t in a.tools if isinstance(t, str)}
    for name in graph.tools:
        if name not in used_tools:
            doc.add(
                "AG304",
                f"tool '{name}' is not used by any agent",
                ("tools", name),
                key=True,
                severity="warning",
            )
    used_guards = {g for a in graph.agents.values() for g in a.guardrails}
    for name in graph.guardrails:
        if name not in used_guards:
            doc.add(
                "AG305",
                f"guardrail '{name}' is not used by any agent",
                ("guardrails", name),
                key=True,
                severity="warning",
            )


def _can_end(graph: Graph, agent: AgentSpec) -> bool:
    for entry in agent.tools:
        if isinstance(entry, BuiltinToolUse) and entry.builtin == "end_call":
            return True
        if isinstance(entry, str):
            tool: ToolSpec | None = graph.tools.get(entry)
            if tool is not None and tool.builtin == "end_call":
                return True
    return False
