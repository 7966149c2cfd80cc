"""What a tool's parameters are, read from a function signature or a `FunctionTool`.

Used by `validate --import` (to check approval conditions against real parameter names)
and by `agentgraph tools --describe`. A `FunctionTool` is recognised by shape
(`params_json_schema`), so this module never imports the runtime.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from agentgraph.errors import PluginError

__all__ = ["ToolSignature", "describe_tool", "parse_docstring"]

_SIMPLE: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
}
_ARGS_HEADER = re.compile(r"^\s*(Args|Arguments|Parameters)\s*:\s*$")
_SECTION = re.compile(r"^[A-Z][A-Za-z ]*:\s*$")
_ARG_LINE = re.compile(r"^\s*\*{0,2}(\w+)\s*(\([^)]*\))?\s*:\s*(.*)$")


@dataclass(frozen=True, slots=True)
class ToolSignature:
    """A tool's name, description and parameter schema.

    Attributes:
        name: the function's name.
        description: the docstring summary.
        parameters: a JSON Schema object for the arguments.
        is_function_tool: True when the target is already a `FunctionTool`.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    is_function_tool: bool = False

    @property
    def param_names(self) -> frozenset[str]:
        return frozenset(self.parameters.get("properties", {}))


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Google-style docstring -> (summary, {parameter: description})."""
    if not doc:
        return "", {}
    summary: list[str] = []
    params: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    for line in inspect.cleandoc(doc).splitlines():
        if _ARGS_HEADER.match(line):
            section, current = "args", None
            continue
        if _SECTION.match(line):
            section, current = "other", None
            continue
        if section is None:
            summary.append(line)
        elif section == "args" and line.strip():
            m = _ARG_LINE.match(line)
            if m and (current is None or len(line) - len(line.lstrip()) <= 4):
                current = m.group(1)
                params[current] = m.group(3).strip()
            elif current is not None:
                params[current] = f"{params[current]} {line.strip()}".strip()
    return "\n".join(summary).strip(), params


def _schema_for(hint: Any) -> dict[str, Any]:
    if hint in _SIMPLE:
        return dict(_SIMPLE[hint])
    origin = get_origin(hint)
    if origin is Literal:
        return {"enum": list(get_args(hint))}
    if origin in (Union, types.UnionType):
        return {"anyOf": [_schema_for(a) for a in get_args(hint)]}
    if origin in (list, tuple, set, frozenset) or hint in (list, tuple, set):
        args = get_args(hint)
        return {"type": "array", "items": _schema_for(args[0])} if args else {"type": "array"}
    if origin is dict or hint is dict:
        return {"type": "object"}
    if origin is typing.Annotated:
        return _schema_for(get_args(hint)[0])
    return {}


def _is_context(hint: Any, name: str) -> bool:
    text = hint if isinstance(hint, str) else getattr(hint, "__name__", "")
    return str(text).endswith("ToolContext") or name in ("ctx", "context")


def describe_tool(obj: Any, *, name: str | None = None) -> ToolSignature:
    """Describe a tool target: a `FunctionTool` as is, a function from its signature.

    Raises:
        PluginError: when `obj` is neither callable nor a `FunctionTool`.
    """
    schema = getattr(obj, "params_json_schema", None)
    if isinstance(schema, dict):
        return ToolSignature(
            name=str(getattr(obj, "name", name or "tool")),
            description=str(getattr(obj, "description", "")),
            parameters=schema,
            is_function_tool=True,
        )
    if not callable(obj):
        raise PluginError(
            f"'{name or obj!r}' is a {type(obj).__name__}, not a function or FunctionTool"
        )
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError) as exc:
        raise PluginError(f"cannot read the signature of '{name or obj!r}': {exc}") from exc
    try:
        hints = get_type_hints(obj)
    except Exception:  # unresolvable annotations: fall back to what is written
        hints = {}
    summary, docs = parse_docstring(getattr(obj, "__doc__", None))
    props: dict[str, Any] = {}
    required: list[str] = []
    for index, param in enumerate(sig.parameters.values()):
        hint = hints.get(param.name, param.annotation)
        if index == 0 and _is_context(hint, param.name):
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        prop = {} if hint is inspect.Parameter.empty else _schema_for(hint)
        if param.name in docs:
            prop["description"] = docs[param.name]
        props[param.name] = prop
        if param.default is inspect.Parameter.empty:
            required.append(param.name)
    return ToolSignature(
        name=name or str(getattr(obj, "__name__", "tool")),
        description=summary,
        parameters={
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": False,
        },
    )
