"""Pass 1: type the raw tree by the schema, then check it against the JSON Schema.

Theory of operation: the loader left every scalar a string. `coerce` walks the tree
alongside the schema and turns a *plain* (unquoted) scalar into a number, boolean or null
only where the schema at that spot accepts that type and the text reads as one under
YAML 1.2's core rules; everywhere a string is acceptable the text stays as written. Then
`jsonschema` reports problems, and `schema_findings` turns each into a finding on the
exact node: unknown keys at the key (with "did you mean"), unions resolved to the branch
the user evidently meant (by the `type` discriminator or by the value's kind).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextvars import ContextVar
from functools import cache
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from agentgraph.spec.findings import did_you_mean, json_path
from agentgraph.spec.loader import Document, PathKey
from agentgraph.spec.schema import graph_schema

__all__ = ["coerce", "schema_findings"]

# The schema being checked against: the graph language's, or another document kind's
# (conversation tests files) for the length of one `coerce` / `schema_findings` call.
_ROOT: ContextVar[dict[str, Any] | None] = ContextVar("agentgraph_schema_root", default=None)


def _root() -> dict[str, Any]:
    return _ROOT.get() or graph_schema()


_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_KIND = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    type(None): "null",
    int: "integer",
    float: "number",
}
_DESCRIBE = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "boolean": "true or false",
    "null": "nothing",
    "integer": "a whole number",
    "number": "a number",
}
# Keys that are session-wide in the Realtime API and so cannot be set per agent.
_SESSION_WIDE = {"voice", "model", "audio", "transcription", "noise_reduction"}


def _core(text: str) -> Any:
    """YAML 1.2 core-schema reading of a plain scalar (no yes/no/on/off booleans)."""
    if text in _NULLS:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    lowered = text.lower()
    if lowered in (".inf", "+.inf", "-.inf", ".nan"):
        return float(lowered.replace(".", ""))
    return text


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    while ref is not None:
        schema = _root()["$defs"][ref.rsplit("/", 1)[1]]
        ref = schema.get("$ref")
    return schema


def _flatten(schema: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _resolve(schema)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        out: list[dict[str, Any]] = []
        for branch in branches:
            out.extend(_flatten(branch))
        return out
    return [schema]


def _types(schema: dict[str, Any]) -> set[str]:
    if "const" in schema:
        return {_KIND.get(type(schema["const"]), "any")}
    if "enum" in schema:
        return {_KIND.get(type(v), "any") for v in schema["enum"]}
    t = schema.get("type")
    if t is None:
        return {"any"}
    return set(t) if isinstance(t, list) else {t}


def coerce(doc: Document, schema: dict[str, Any] | None = None) -> Any:
    """Return `doc.data` with plain scalars typed where the schema wants non-strings.

    Args:
        doc: the composed document.
        schema: the JSON Schema (default: the graph language's).
    """
    token = _ROOT.set(schema)
    try:
        return _coerce(doc, doc.data, (), [_root()])
    finally:
        _ROOT.reset(token)


def _coerce(doc: Document, value: Any, path: PathKey, schemas: list[dict[str, Any]]) -> Any:
    flat: list[dict[str, Any]] = []
    for schema in schemas:
        flat.extend(_flatten(schema))
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, child in value.items():
            subs: list[dict[str, Any]] = []
            for schema in flat:
                props = schema.get("properties")
                if props is not None and key in props:
                    subs.append(props[key])
                elif isinstance(schema.get("additionalProperties"), dict):
                    subs.append(schema["additionalProperties"])
            out[key] = _coerce(doc, child, (*path, key), subs)
        return out
    if isinstance(value, list):
        subs = [s["items"] for s in flat if isinstance(s.get("items"), dict)]
        return [_coerce(doc, child, (*path, i), subs) for i, child in enumerate(value)]
    if isinstance(value, str) and path in doc.plain:
        core = _core(value)
        if isinstance(core, str):
            return core
        accepted: set[str] = set()
        for schema in flat:
            accepted |= _types(schema)
        kind = _KIND[type(core)]
        if "any" in accepted or kind in accepted or (kind == "integer" and "number" in accepted):
            return core
        if "string" in accepted and core is not None:
            return value
        return core
    return value


def _validator() -> Any:
    root = _ROOT.get()
    return _graph_validator() if root is None else _validator_for(root)


@cache
def _graph_validator() -> Any:
    return _validator_for(graph_schema())


def _validator_for(schema: dict[str, Any]) -> Any:
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def _kind(value: Any) -> str:
    return _KIND.get(type(value), "any")


def _source_text(doc: Document, path: PathKey) -> str | None:
    pos = doc.positions.get(path)
    if pos is None or pos.line != pos.end_line or pos.line > len(doc.lines):
        return None
    return doc.lines[pos.line - 1][pos.col - 1 : pos.end_col - 1] or None


def _got(doc: Document, path: PathKey, value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    text = _source_text(doc, path) or repr(value)
    return f"{_DESCRIBE.get(_kind(value), 'a value')} ({text})"


def schema_findings(doc: Document, data: Any, schema: dict[str, Any] | None = None) -> None:
    """Validate `data` (the coerced tree) and add a finding per problem to `doc`.

    Args:
        doc: the composed document (positions; where findings go).
        data: the coerced tree.
        schema: the JSON Schema (default: the graph language's).
    """
    token = _ROOT.set(schema)
    try:
        for error in _validator().iter_errors(data):
            _report(doc, error, ())
    finally:
        _ROOT.reset(token)


def _report(doc: Document, error: ValidationError, prefix: PathKey) -> None:
    path: PathKey = (*prefix, *error.absolute_path)
    if doc.suppressed and any(path[: len(p)] == p for p in doc.suppressed):
        doc.bad_paths.append(path)  # the loader already reported this node
        return
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    inst = error.instance
    if kind == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        for key in inst:
            if key in allowed:
                continue
            child = (*path, key)
            if len(path) == 2 and path[0] == "agents" and key in _SESSION_WIDE:
                doc.add(
                    "AG110",
                    f"'{key}' is session-wide and cannot be set per agent",
                    child,
                    key=True,
                    hints=(
                        f"the Realtime API fixes {key} for the whole call; set it once "
                        "at the top level of the graph",
                    ),
                )
                continue
            doc.add(
                "AG101",
                f"unknown key '{key}'",
                child,
                key=True,
                hints=did_you_mean(key, allowed, what="allowed keys"),
            )
        doc.bad_paths.extend((*path, k) for k in inst if k not in allowed)
    elif kind == "required":
        missing = [k for k in error.validator_value if k not in inst]
        for key in missing:
            doc.bad_paths.append((*path, key))
            doc.add(
                "AG104",
                f"missing required key '{key}'",
                path,
                key=bool(path),
                hints=_required_hint(path, key),
            )
    elif kind not in ("anyOf", "oneOf"):
        doc.bad_paths.append(path)
    if kind in ("additionalProperties", "required"):
        return
    if kind == "type":
        want = error.validator_value
        wants = [want] if isinstance(want, str) else list(want)
        expected = " or ".join(_DESCRIBE.get(w, w) for w in wants)
        doc.add("AG102", f"expected {expected}, got {_got(doc, path, inst)}", path)
    elif kind in ("enum", "const"):
        options = [error.validator_value] if kind == "const" else list(error.validator_value)
        words = [str(o) for o in options]
        doc.add(
            "AG103",
            f"'{inst}' is not allowed here; write {_one_of(words)}",
            path,
            hints=did_you_mean(str(inst), words) if isinstance(inst, str) else (),
        )
    elif kind in ("anyOf", "oneOf"):
        _report_union(doc, error, path)
    elif kind == "pattern":
        doc.add("AG107", _pattern_message(path, inst), path, hints=_pattern_hint(path))
    elif kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        word = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "more than",
            "exclusiveMaximum": "less than",
        }[kind]
        doc.add("AG107", f"{inst!r} is out of range: must be {word} {error.validator_value}", path)
    elif kind in ("minItems", "minProperties", "minLength"):
        doc.add("AG107", f"must not be empty (at least {error.validator_value})", path)
    else:  # pragma: no cover - any other keyword the models may grow
        doc.add("AG107", error.message, path)


def _one_of(words: list[str]) -> str:
    quoted = [f"'{w}'" for w in words]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _branches(error: ValidationError) -> list[dict[str, Any]]:
    schema = error.schema if isinstance(error.schema, dict) else {}
    raw = schema.get("anyOf") or schema.get("oneOf") or []
    return [_resolve(b) for b in raw]


def _report_union(doc: Document, error: ValidationError, path: PathKey) -> None:
    inst = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    disc = schema.get("discriminator")
    branches = _branches(error)
    if disc is None and isinstance(inst, dict):
        for branch in branches:
            if "discriminator" in branch:
                disc = branch["discriminator"]
                break
    if disc and isinstance(inst, dict):
        prop = disc["propertyName"]
        mapping: dict[str, str] = disc["mapping"]
        if prop not in inst:
            doc.bad_paths.append(path)
            doc.add(
                "AG104",
                f"missing required key '{prop}'",
                path,
                key=bool(path),
                hints=(f"{prop}: one of {', '.join(mapping)}",),
            )
            return
        tag = inst[prop]
        if not isinstance(tag, str) or tag not in mapping:
            doc.bad_paths.append(path)
            doc.add(
                "AG103",
                f"{prop} '{tag}' is not allowed here; write {_one_of(list(mapping))}",
                (*path, prop),
                hints=did_you_mean(str(tag), mapping),
            )
            return
        branch = _resolve({"$ref": mapping[tag]})
        _report_branch(doc, branch, inst, path)
        return
    kind = _kind(inst)
    matching = [
        b
        for b in _flatten_all(branches)
        if kind in _types(b) or "any" in _types(b) or (kind == "integer" and "number" in _types(b))
    ]
    if not matching:
        expected = []
        for b in _flatten_all(branches):
            if "enum" in b or "const" in b:
                values = b.get("enum", [b.get("const")])
                expected.append(_one_of([str(v) for v in values]))
            else:
                expected.extend(_DESCRIBE.get(t, t) for t in sorted(_types(b)))
        unique = list(dict.fromkeys(e for e in expected if e != "nothing"))
        doc.bad_paths.append(path)
        doc.add("AG102", f"expected {' or '.join(unique)}, got {_got(doc, path, inst)}", path)
        return
    best = min(matching, key=lambda b: sum(1 for _ in _errors(b, inst)))
    before = len(doc.findings)
    _report_branch(doc, best, inst, path)
    others = [b for b in _flatten_all(branches) if b not in matching and _types(b) - {"null"}]
    if others and len(doc.findings) == before + 1 and doc.findings[-1].path == json_path(path):
        last = doc.findings[-1]
        doc.findings[-1] = dataclasses.replace(
            last, hints=(*last.hints, _alternatives(branches, others))
        )


def _alternatives(branches: list[dict[str, Any]], others: list[dict[str, Any]]) -> str:
    """A hint naming the other shapes a union accepts, e.g. `{type: semantic_vad | ...}`."""
    for branch in branches:
        disc = branch.get("discriminator")
        if disc:
            return f"or a mapping such as {{{disc['propertyName']}: {' | '.join(disc['mapping'])}}}"
    objects = [b for b in others if "object" in _types(b)]
    if objects:
        keys = list(objects[0].get("properties", {}))
        return f"or a mapping with keys {', '.join(keys)}" if keys else "or a mapping"
    kinds = sorted({_DESCRIBE.get(t, t) for b in others for t in _types(b) - {"null"}})
    return f"or {' or '.join(kinds)}"


def _flatten_all(branches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for b in branches:
        out.extend(_flatten(b))
    return out


def _errors(schema: dict[str, Any], inst: Any) -> Iterator[ValidationError]:
    errors: Iterator[ValidationError] = (
        _validator().evolve(schema={**schema, "$defs": _root().get("$defs", {})}).iter_errors(inst)
    )
    return errors


def _report_branch(doc: Document, schema: dict[str, Any], inst: Any, path: PathKey) -> None:
    for sub in _errors(schema, inst):
        _report(doc, sub, path)


def _required_hint(path: PathKey, key: str) -> tuple[str, ...]:
    if path == () and key == "version":
        return ("add 'version: 1' at the top of the file",)
    if path == () and key == "agents":
        return ("a graph needs at least one agent under 'agents:'",)
    if len(path) == 2 and path[0] == "agents" and key == "instructions":
        return ("write 'instructions: ...' or 'instructions: {file: prompts/name.md}'",)
    return ()


def _pattern_message(path: PathKey, value: Any) -> str:
    last = path[-1] if path else ""
    if last == "ref":
        return f"'{value}' is not an import string"
    if last == "listen":
        return f"'{value}' is not a host:port address"
    return f"'{value}' is badly formed"


def _pattern_hint(path: PathKey) -> tuple[str, ...]:
    last = path[-1] if path else ""
    if last == "ref":
        return ("write 'package.module:function', e.g. 'agentgraph_demo.weather:get_weather'",)
    if last == "listen":
        return ("write host:port, e.g. '127.0.0.1:5060'",)
    return ()
