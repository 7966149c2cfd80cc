"""`validate --import`: import every tool and guardrail a graph names and check them.

Import failures and unusable targets become findings at the `ref:` / `entry_point:` node
(never tracebacks). The parameters learned from the imported tools are fed back into
validation so approval conditions and messages are checked against real argument names.
This module imports plugin code but not the runtime.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from typing import Any

from agentgraph.errors import PluginError
from agentgraph.plugins import GUARDRAIL_GROUP, TOOL_GROUP, describe_tool, load_entry, load_ref
from agentgraph.spec import ValidationResult, validate_file
from agentgraph.spec.findings import Finding
from agentgraph.spec.loader import Document

__all__ = ["validate_with_imports"]


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
    params: dict[str, frozenset[str]] = {}
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
        params[name] = sig.param_names
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
    findings = tuple(
        sorted(
            (*second.findings, *extra),
            key=lambda f: (f.pos.line, f.pos.col, f.code) if f.pos else (0, 0, f.code),
        )
    )
    spec = second.spec if not any(f.severity == "error" for f in extra) else None
    return ValidationResult(spec, findings, second.document)


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
