"""`validate`: learn the parameters of tools with approval rules; `--import`: import all.

Plain `validate` (`validate_graph`) checks approval conditions and messages against the
real parameters of their tools: read from the tool's source with `ast` where it is a plain
function (no plugin code runs), else imported, as `run` would. A rule whose tool cannot be
found is an error, so a graph that validates never fails its rules at run time.

`validate --import` (`validate_with_imports`) imports every tool and guardrail the graph
names. Import failures and unusable targets become findings at the `ref:` /
`entry_point:` node (never tracebacks). This module imports plugin code but not the
runtime.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from typing import Any

from agentgraph.errors import PluginError
from agentgraph.plugins import (
    GUARDRAIL_GROUP,
    TOOL_GROUP,
    describe_tool,
    find_entry,
    load_entry,
    load_ref,
)
from agentgraph.plugins.static import static_signature
from agentgraph.spec import ValidationResult, validate_file
from agentgraph.spec.findings import Finding
from agentgraph.spec.loader import Document

__all__ = ["rule_tool_parameters", "validate_graph", "validate_with_imports"]


def _has_rule(entry: object) -> bool:
    """Whether a tool entry has an approval rule that names parameters (when/message)."""
    if not isinstance(entry, dict):
        return False
    approval = entry.get("approval")
    return isinstance(approval, dict) and ("when" in approval or "message" in approval)


def rule_tool_parameters(
    doc: Document, data: Mapping[str, Any]
) -> tuple[dict[str, dict[str, Any]], list[Finding]]:
    """The parameter schema of every tool whose approval rule names parameters.

    Read statically where the source says it for certain, else imported. A tool that
    cannot be found or loaded is an error finding: its rule could not be checked.

    Returns:
        tool name -> its parameters' JSON Schema, and the findings.
    """
    params: dict[str, dict[str, Any]] = {}
    out: list[Finding] = []
    tools = data.get("tools")
    for name, entry in (tools if isinstance(tools, dict) else {}).items():
        if not _has_rule(entry) or not isinstance(name, str):
            continue
        ref, ep = entry.get("ref"), entry.get("entry_point")
        value: str | None = ref if isinstance(ref, str) else None
        if value is None and isinstance(ep, str):
            found = find_entry(TOOL_GROUP, ep)  # metadata only
            if found is None:
                out.append(
                    doc.finding(
                        "AG403",
                        f"no installed plugin provides {TOOL_GROUP} entry point '{ep}', so "
                        "its approval rule cannot be checked",
                        ("tools", name, "entry_point"),
                        hints=(
                            "install the package that provides it (agentgraph tools lists "
                            "what is installed)",
                        ),
                    )
                )
                continue
            value = found.value
        if value is None:
            continue  # builtin, or a shape the schema pass reports
        sig = static_signature(value, name=name)
        if sig is None:
            key = "ref" if isinstance(ref, str) else "entry_point"
            try:
                sig = describe_tool(load_ref(value), name=name)
            except PluginError as exc:
                out.append(doc.finding("AG401", str(exc), ("tools", name, key)))
                continue
        params[name] = sig.parameters
    return params, out


def validate_graph(
    path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None
) -> ValidationResult:
    """Plain `validate`: the spec checks plus approval rules against real parameters."""
    first = validate_file(path, env=env)
    doc = first.document
    if not isinstance(doc.data, dict) or any(f.code in ("AG001", "AG100") for f in first.findings):
        return first
    params, extra = rule_tool_parameters(doc, doc.data)
    if not params and not extra:
        return first
    second = validate_file(path, env=env, tool_params=params) if params else first
    return _merge(second, extra)


def _merge(result: ValidationResult, extra: list[Finding]) -> ValidationResult:
    findings = tuple(
        sorted(
            (*result.findings, *extra),
            key=lambda f: (f.pos.line, f.pos.col, f.code) if f.pos else (0, 0, f.code),
        )
    )
    spec = result.spec if not any(f.severity == "error" for f in extra) else None
    return ValidationResult(spec, findings, result.document)


def validate_with_imports(
    path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None
) -> ValidationResult:
    """Validate a graph file, importing its tools and guardrails as well.

    Returns the validation result with import findings (AG401-AG403) added.
    """
    first = validate_file(path, env=env)
    doc = first.document
    if not doc.data or any(f.code in ("AG001", "AG100") for f in first.findings):
        return first
    data = doc.data if isinstance(doc.data, dict) else {}
    params: dict[str, dict[str, Any]] = {}
    extra: list[Finding] = []
    tools = data.get("tools") if isinstance(data.get("tools"), dict) else {}
    for name, entry in (tools or {}).items():
        target = _load(doc, ("tools", name), entry, TOOL_GROUP, extra)
        if target is None:
            continue
        try:
            sig = describe_tool(target, name=name)
        except PluginError as exc:
            extra.append(doc.finding("AG402", f"tool '{name}': {exc}", _where(entry, name)))
            continue
        params[name] = sig.parameters
        untyped = [
            p
            for p, schema in sig.parameters.get("properties", {}).items()
            if not {"type", "anyOf", "enum", "$ref"} & set(schema)
        ]
        if untyped and not sig.is_function_tool:
            extra.append(
                doc.finding(
                    "AG404",
                    f"tool '{name}': parameter(s) {', '.join(untyped)} have no type hint",
                    _where(entry, name),
                    severity="warning",
                    hints=(
                        "the model is told nothing about their type; add hints such as 'city: str'",
                    ),
                )
            )
    guards = data.get("guardrails") if isinstance(data.get("guardrails"), dict) else {}
    for name, entry in (guards or {}).items():
        target = _load(doc, ("guardrails", name), entry, GUARDRAIL_GROUP, extra)
        if target is None or hasattr(target, "guardrail_function"):
            continue  # not loaded (already a finding), or a RealtimeOutputGuardrail
        problem = _guardrail_problem(target)
        if problem:
            extra.append(
                doc.finding(
                    "AG402",
                    f"guardrail '{name}' {problem}",
                    _where(entry, name, "guardrails"),
                    hints=("write def check(context, agent, text) -> GuardrailFunctionOutput",),
                )
            )
    second = validate_file(path, env=env, tool_params=params) if params else first
    return _merge(second, extra)


def _guardrail_problem(target: Any) -> str | None:
    """Why `target` cannot be called as `(context, agent, text)`, or None if it can."""
    if not callable(target):
        return f"is not a function (its type is {type(target).__name__})"
    try:
        inspect.signature(target).bind(None, None, "")
    except TypeError:
        return "must take three arguments (context, agent, text)"
    except ValueError:  # builtins without a signature: trust them
        return None
    return None


def _where(entry: object, name: str, section: str = "tools") -> tuple[str, ...]:
    if isinstance(entry, dict):
        for key in ("ref", "entry_point"):
            if key in entry:
                return (section, name, key)
    return (section, name)


def _load(
    doc: Document, base: tuple[str, str], entry: object, group: str, out: list[Finding]
) -> Any:
    if not isinstance(entry, dict):
        return None
    ref, ep = entry.get("ref"), entry.get("entry_point")
    try:
        if isinstance(ref, str):
            return load_ref(ref)
        if isinstance(ep, str):
            return load_entry(group, ep)
    except PluginError as exc:
        code = "AG403" if isinstance(ep, str) and "no installed plugin" in str(exc) else "AG401"
        key = "ref" if isinstance(ref, str) else "entry_point"
        hints = (
            ("install the package that provides it (agentgraph tools lists what is installed)",)
            if code == "AG403"
            else ()
        )
        out.append(doc.finding(code, str(exc), (*base, key), hints=hints))
    return None
