"""A Python function's tool schema: the one docstring-to-schema path.

`function_tool` (the runtime) and `agentgraph.plugins.describe_tool` (validation, `tools
--describe`) both call `function_schema`, so what validation says about a tool's
parameters is exactly what the model is sent and what the arguments are checked against.
The parameters become a pydantic model (`extra="forbid"`); its JSON Schema, without
titles and closed with `additionalProperties: false`, is the tool's `parameters`; the
Google-style docstring gives the description and each parameter's description. A first
parameter annotated `ToolContext` is the call's context, not an argument.

This module sits beside `errors`: every layer may import it, and it imports no
agentgraph package.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_type_hints

import pydantic

__all__ = ["FunctionSchema", "function_schema", "parse_docstring", "strict_schema"]

_ARGS_HEADER = re.compile(r"^\s*(Args|Arguments|Parameters)\s*:\s*$")
_SECTION_HEADER = re.compile(r"^\s*[A-Z][A-Za-z ]*:\s*$")
_ARG_LINE = re.compile(r"^\s*(\*{0,2}\w+)\s*(\([^)]*\))?\s*:\s*(.*)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into (description, {param: description}).

    Args:
        doc: the raw docstring, or None.
    """
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    description: list[str] = []
    params: dict[str, str] = {}
    in_args = False
    current: str | None = None
    base_indent = 0
    seen_section = False
    for line in lines:
        if _ARGS_HEADER.match(line):
            in_args, seen_section, current = True, True, None
            continue
        if _SECTION_HEADER.match(line) and not line.startswith((" ", "\t")):
            in_args, seen_section, current = False, True, None
            continue
        if in_args:
            if not line.strip():
                continue
            indent = len(line) - len(line.lstrip())
            match = _ARG_LINE.match(line)
            if match and (current is None or indent <= base_indent):
                current = match.group(1).lstrip("*")
                base_indent = indent
                params[current] = match.group(3).strip()
            elif current is not None:
                params[current] = (params[current] + " " + line.strip()).strip()
        elif not seen_section:
            description.append(line)
    return "\n".join(description).strip(), params


def is_context_hint(hint: Any) -> bool:
    """Whether an annotation is `ToolContext` (by name: this module imports no runtime)."""
    if isinstance(hint, str):
        return hint.strip("'\"").endswith("ToolContext")
    return getattr(hint, "__name__", "") == "ToolContext"


@dataclass(frozen=True)
class FunctionSchema:
    """What a function is as a tool.

    Attributes:
        name: the tool name.
        description: the docstring's summary.
        parameters: the JSON Schema of the arguments object.
        args_model: the pydantic model that validates and coerces the arguments.
        takes_context: the first parameter receives a `ToolContext`.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    args_model: type[pydantic.BaseModel]
    takes_context: bool


def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    try:
        return get_type_hints(func)
    except Exception:  # unresolvable forward refs: fall back to raw annotations
        return {}


def strict_schema(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema without titles, closed to extra properties."""
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)
    schema.setdefault("properties", {})
    schema["type"] = "object"
    schema["additionalProperties"] = False
    return schema


def function_schema(func: Callable[..., Any], name: str | None = None) -> FunctionSchema:
    """The tool schema of `func` (see the module docstring).

    Raises:
        TypeError, ValueError: the signature cannot be read or turned into a model.
    """
    tool_name = name or str(getattr(func, "__name__", "tool"))
    description, docs = parse_docstring(getattr(func, "__doc__", None))
    sig = inspect.signature(func)
    hints = _hints(func)
    params = list(sig.parameters.values())
    takes_context = bool(params) and is_context_hint(
        hints.get(params[0].name, params[0].annotation)
    )
    fields: dict[str, Any] = {}
    for index, param in enumerate(params):
        if index == 0 and takes_context:
            continue
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        annotation = hints.get(param.name, param.annotation)
        if annotation is inspect.Parameter.empty:
            annotation = Any
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[param.name] = (
            annotation,
            pydantic.Field(default, description=docs.get(param.name) or None),
        )
    model_name = "".join(part.title() for part in re.split(r"\W+", tool_name) if part) + "Args"
    model = pydantic.create_model(
        model_name or "ToolArgs", __config__=pydantic.ConfigDict(extra="forbid"), **fields
    )
    return FunctionSchema(
        name=tool_name,
        description=description,
        parameters=strict_schema(model),
        args_model=model,
        takes_context=takes_context,
    )
