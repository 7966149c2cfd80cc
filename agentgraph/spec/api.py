"""`load_graph` and `validate_text`: YAML text in, a `Spec` or findings out.

The pipeline: compose with positions (and `${ENV}`) -> type plain scalars by the schema ->
JSON Schema pass -> pydantic models -> cross-reference pass. Every stage collects
findings instead of raising; any error stops at the end of its stage so later stages
never see a tree they cannot make sense of.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic

from agentgraph.errors import SpecError
from agentgraph.spec.files import FileProblem, read_text_file
from agentgraph.spec.findings import Finding, json_path
from agentgraph.spec.loader import Document, PathKey, compose_document
from agentgraph.spec.models import (
    AgentSpec,
    ApprovalRule,
    Graph,
    GuardrailSpec,
    ModelSpec,
    SipSpec,
    ToolSpec,
)
from agentgraph.spec.schemacheck import coerce, schema_findings
from agentgraph.spec.secrets import redact_text
from agentgraph.spec.semantic import (
    BUILTIN_PARAMS,
    SENTINEL,
    ToolParams,
    check_approval,
    check_graph,
)

__all__ = [
    "MAX_FILE_BYTES",
    "Spec",
    "ValidationResult",
    "check_approvals",
    "load_graph",
    "validate_file",
    "validate_text",
]

MAX_FILE_BYTES = 5_000_000


@dataclass(frozen=True)
class Spec:
    """A validated graph: the models plus what was resolved while loading.

    Attributes:
        graph: the pydantic `Graph` (read-only).
        file: the graph file's name as given.
        base_dir: the folder relative paths are resolved against.
        start: the start agent (explicit `start`, else the first agent).
        instructions: agent name -> instructions text (prompt files read, variables filled).
        warnings: findings of severity "warning".
        secrets: the secret values that came from the environment (redact them in every
            output: `redact`, or `spec.secrets.redact_values` before serialising).
    """

    graph: Graph
    file: str
    base_dir: Path
    start: str
    instructions: Mapping[str, str]
    warnings: tuple[Finding, ...] = ()
    secrets: frozenset[str] = field(default=frozenset(), repr=False)
    document: Document | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.graph.name

    @property
    def agents(self) -> Mapping[str, AgentSpec]:
        return self.graph.agents

    @property
    def tools(self) -> Mapping[str, ToolSpec]:
        return self.graph.tools

    @property
    def guardrails(self) -> Mapping[str, GuardrailSpec]:
        return self.graph.guardrails

    @property
    def model(self) -> ModelSpec:
        return self.graph.model

    @property
    def sip(self) -> SipSpec | None:
        return self.graph.sip

    def redact(self, text: str) -> str:
        """`text` with every secret value replaced by `***` (see `spec.secrets`)."""
        return redact_text(text, self.secrets)


@dataclass(frozen=True)
class ValidationResult:
    """What `validate_text` found: the spec (None if there were errors) and all findings."""

    spec: Spec | None
    findings: tuple[Finding, ...]
    document: Document

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def ok(self) -> bool:
        return self.spec is not None


def _sorted(findings: list[Finding]) -> tuple[Finding, ...]:
    def key(f: Finding) -> tuple[int, int, str]:
        return (f.pos.line, f.pos.col, f.code) if f.pos else (0, 0, f.code)

    return tuple(sorted(findings, key=key))


def _errors(doc: Document) -> bool:
    return any(f.severity == "error" for f in doc.findings)


def validate_text(
    text: str,
    *,
    file: str = "<graph>",
    base_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
    tool_params: Mapping[str, ToolParams] | None = None,
) -> ValidationResult:
    """Validate graph YAML text; never raises for bad input.

    Args:
        text: the YAML source.
        file: the name findings use.
        base_dir: where prompt files are looked up (default: the current folder).
        env: variables for `${NAME}` (default: `os.environ`).
        tool_params: tool name -> parameter names, when the tools' code was imported.
    """
    doc = compose_document(text, file=file, env=os.environ if env is None else env)
    if any(f.code == "AG100" for f in doc.findings) or (doc.data is None and _errors(doc)):
        return ValidationResult(None, _sorted(doc.findings), doc)
    if not isinstance(doc.data, dict):
        doc.add(
            "AG102",
            "a graph file must be a mapping (version, name, agents, ...)",
            (),
            hints=("start from 'agentgraph init NAME'",),
        )
        return ValidationResult(None, _sorted(doc.findings), doc)
    data = coerce(doc)
    schema_findings(doc, data)
    if doc.bad_paths:
        # Keep going on a pruned copy so cross-reference findings are reported together
        # with schema findings; findings about pruned nodes themselves are dropped.
        data = _prune(data, doc.bad_paths)
        if data is None:
            return ValidationResult(None, _sorted(doc.findings), doc)
    try:
        graph = Graph.model_validate(data)
    except pydantic.ValidationError as exc:
        if not _errors(doc):  # the schema should have caught it; report rather than crash
            for err in exc.errors(include_url=False):
                doc.add("AG102", err["msg"], tuple(err["loc"]))
        return ValidationResult(None, _sorted(doc.findings), doc)
    before = len(doc.findings)
    start, instructions = check_graph(
        doc, graph, base_dir=base_dir or Path.cwd(), tool_params=tool_params
    )
    if doc.bad_paths:
        bad = [json_path(p) for p in doc.bad_paths]
        doc.findings[before:] = [
            f for f in doc.findings[before:] if not any(_related(f.path, b) for b in bad)
        ]
    findings = _sorted(doc.findings)
    if _errors(doc):
        return ValidationResult(None, findings, doc)
    spec = Spec(
        graph=graph,
        file=file,
        base_dir=base_dir or Path.cwd(),
        start=start,
        instructions=instructions,
        warnings=findings,
        secrets=frozenset(doc.secrets),
        document=doc,
    )
    return ValidationResult(spec, findings, doc)


def check_approvals(spec: Spec, tool_params: Mapping[str, ToolParams]) -> tuple[Finding, ...]:
    """Approval rules checked against the tools' real parameters (errors only).

    The compiler calls this with the parameter schemas of the tools it built, so `run`,
    `test` and `serve` stop before the first call when a rule names a parameter that does
    not exist, wherever validation could not see the tool.
    """
    doc = spec.document or Document(file=spec.file, lines=[])
    scratch = dataclasses.replace(doc, findings=[])
    for name, tool in spec.graph.tools.items():
        if isinstance(tool.approval, ApprovalRule) and name in tool_params:
            check_approval(scratch, tool.approval, ("tools", name, "approval"), tool_params[name])
    for agent_name, agent in spec.graph.agents.items():
        for i, entry in enumerate(agent.tools):
            if not isinstance(entry, str) and isinstance(entry.approval, ApprovalRule):
                path = ("agents", agent_name, "tools", i, "approval")
                check_approval(scratch, entry.approval, path, BUILTIN_PARAMS[entry.builtin])
    return _sorted([f for f in scratch.findings if f.severity == "error"])


# Required keys get a neutral stand-in when pruned, so the rest can still be checked.
_PLACEHOLDERS: dict[str, Any] = {
    "version": 1,
    "name": "",
    "instructions": "",
    "to": SENTINEL,
    "builtin": "end_call",
    "file": "",
    "webhook_secret": "",
}


def _related(path: str, bad: str) -> bool:
    """Whether `path` is `bad`, inside it, or one of its ancestors."""
    short, long = (path, bad) if len(path) <= len(bad) else (bad, path)
    return long.startswith(short) and (len(long) == len(short) or long[len(short)] in ".[")


def _prune(data: Any, bad_paths: list[PathKey]) -> Any:
    """A copy of `data` without the nodes at `bad_paths` (None if nothing sensible is left)."""
    data = copy.deepcopy(data)
    for path in sorted(set(bad_paths), key=len, reverse=True):
        if not path:
            return None
        parent = data
        for part in path[:-1]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                parent = None
                break
        last = path[-1]
        if isinstance(parent, dict):
            if last in _PLACEHOLDERS:
                parent[last] = _PLACEHOLDERS[last]
            elif len(path) == 1 and last == "agents":
                return None
            else:
                parent.pop(last, None)
        elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
            parent[last] = SENTINEL
    return data


def validate_file(
    path: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    tool_params: Mapping[str, ToolParams] | None = None,
) -> ValidationResult:
    """Read and validate a graph file; an unreadable file is an AG001 finding."""
    name = os.fspath(path)
    file = Path(name)
    try:
        text = read_text_file(file, limit=MAX_FILE_BYTES)
    except FileProblem as exc:
        finding = Finding("AG001", f"cannot read graph file: {exc}", name)
        return ValidationResult(None, (finding,), Document(file=name, lines=[]))
    return validate_text(text, file=name, base_dir=file.parent, env=env, tool_params=tool_params)


def load_graph(
    path: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    tool_params: Mapping[str, ToolParams] | None = None,
) -> Spec:
    """Load and validate a graph file.

    Raises:
        SpecError: with every finding, when there is at least one error (exit code 2 when
            the file cannot be read, else 1).
    """
    result = validate_file(path, env=env, tool_params=tool_params)
    if result.spec is None:
        err = SpecError(result.findings)
        if any(f.code == "AG001" for f in result.findings):
            err.exit_code = 2
        raise err
    return result.spec
