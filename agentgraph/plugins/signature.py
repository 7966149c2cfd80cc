"""What a tool's parameters are, read from a function signature or a `FunctionTool`.

Used by `validate` (to check approval conditions against real parameter names) and by
`agentgraph tools --describe`. A function goes through `agentgraph.signatures`, the same
docstring-to-schema path `function_tool` uses at run time; a `FunctionTool` is
recognised by shape (`params_json_schema`), so this module never imports the runtime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agentgraph.errors import PluginError
from agentgraph.signatures import function_schema, parse_docstring

__all__ = ["ToolSignature", "describe_tool", "parse_docstring"]


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
        shape = function_schema(obj, name)
    except Exception as exc:  # unreadable signature or an annotation pydantic cannot use
        raise PluginError(f"cannot read the signature of '{name or obj!r}': {exc}") from exc
    return ToolSignature(
        name=name or str(getattr(obj, "__name__", "tool")),
        description=shape.description,
        parameters=shape.parameters,
    )
