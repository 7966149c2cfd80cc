"""Approval rules checked against their tool's parameters (part of pass 2).

A rule's `when` must parse, its literals must fit the parameter's kind (a time compared
with '17:00', a number with 1000), and `when` and `message` may name only real
parameters, with "did you mean" when they do not. Parameters come as names or as the
tool's JSON Schema (which also types the condition); unknown parameters are not checked.
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Mapping
from typing import Any

from agentgraph.spec.condition import ConditionError, parse_condition
from agentgraph.spec.findings import Finding, Pos, did_you_mean
from agentgraph.spec.loader import Document, PathKey
from agentgraph.spec.models import ApprovalRule

__all__ = ["ToolParams", "check_approval", "param_names"]

#: A tool's parameters: their names, or the JSON Schema of the arguments object.
ToolParams = Collection[str] | Mapping[str, Any]


def param_names(
    params: ToolParams | None,
) -> tuple[frozenset[str] | None, Mapping[str, Any] | None]:
    """Parameter names, and the JSON Schema when `params` is one (else None)."""
    if params is None:
        return None, None
    if isinstance(params, Mapping):
        props = params.get("properties")
        return frozenset(props if isinstance(props, Mapping) else ()), params
    return frozenset(params), None


def check_approval(
    doc: Document, rule: ApprovalRule, path: PathKey, tool_params: ToolParams | None
) -> None:
    """Check one approval rule: the condition parses (typed by the tool's parameter schema
    when known) and `when`/`message` name only real parameters (when they are known)."""
    params, schema = param_names(tool_params)
    names: dict[str, int] = {}
    if rule.when is not None:
        try:
            names = dict(parse_condition(rule.when, schema).names)
        except ConditionError as exc:
            _add_at(
                doc,
                "AG206",
                f"approval condition: {exc}",
                (*path, "when"),
                exc.offset,
                hints=("e.g. when: \"time < '09:00' or time > '17:00'\"",),
            )
    if params is not None:
        for name, offset in names.items():
            if name not in params:
                _add_at(
                    doc,
                    "AG207",
                    f"approval condition uses '{name}', which is not a parameter of this tool",
                    (*path, "when"),
                    offset,
                    hints=did_you_mean(name, params, what="parameters"),
                )
    if rule.message is not None:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(rule.message) if f]
        except ValueError as exc:
            doc.add(
                "AG107",
                f"approval message: {exc}",
                (*path, "message"),
                hints=("write {name} for an argument and {{ or }} for a literal brace",),
            )
            return
        if params is not None:
            for field in fields:
                base = re.split(r"[.\[]", field, maxsplit=1)[0]
                if base not in params:
                    doc.add(
                        "AG207",
                        f"approval message uses '{{{base}}}', which is not a "
                        "parameter of this tool",
                        (*path, "message"),
                        hints=did_you_mean(base, params, what="parameters"),
                    )


def _add_at(
    doc: Document, code: str, message: str, path: PathKey, offset: int, hints: tuple[str, ...] = ()
) -> None:
    """A finding pointing inside a one-line scalar at character `offset` of its value."""
    finding = doc.finding(code, message, path, hints=hints)
    pos = finding.pos
    if pos is not None and pos.line == pos.end_line and pos.line <= len(doc.lines):
        first = doc.lines[pos.line - 1][pos.col - 1 : pos.col]
        col = pos.col + offset + (1 if first in ("'", '"') else 0)
        finding = Finding(
            code=finding.code,
            message=finding.message,
            file=finding.file,
            pos=Pos(pos.line, col, pos.line, col + 1),
            path=finding.path,
            hints=finding.hints,
            source_line=finding.source_line,
            secrets=finding.secrets,
        )
    doc.findings.append(finding)
