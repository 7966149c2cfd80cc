"""A tool's parameters read from its source with `ast`, without importing (running) it.

`validate` must know a tool's parameter names (approval conditions and messages name
them) but should not run plugin code to learn them. For a plain top-level function,
`def book(date: str, time: str, name: str) -> str`, the source says everything: this
module finds the module's file the way the import system would (without executing any
package `__init__`), parses it and builds the same JSON Schema `describe_tool` builds from
the live function. Anything it cannot read for certain (a decorated function, an
assignment, an annotation it does not know, a C extension) returns None, and the caller
imports instead, as `run` does.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
from pathlib import Path
from typing import Any

from agentgraph.plugins.signature import ToolSignature
from agentgraph.signatures import parse_docstring

__all__ = ["static_signature"]

_MAX_SOURCE_BYTES = 2_000_000
_SIMPLE = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "None": {"type": "null"},
}
_FORMATS = {"time": "time", "date": "date", "datetime": "date-time"}


class _Unknown(Exception):
    """The source does not say this for certain; import instead."""


def _module_file(module: str) -> Path | None:
    """The source file of `module`, found without executing any package `__init__`."""
    parts = module.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])  # top level: finders only, nothing runs
    except (ImportError, ValueError):
        return None
    for i in range(1, len(parts)):
        if spec is None or not spec.submodule_search_locations:
            return None
        spec = importlib.machinery.PathFinder.find_spec(
            ".".join(parts[: i + 1]), list(spec.submodule_search_locations)
        )
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _annotation(node: ast.expr | None) -> dict[str, Any]:
    if node is None:
        return {}
    if isinstance(node, ast.Constant) and node.value is None:
        return {"type": "null"}
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return _annotation(ast.parse(node.value, mode="eval").body)
        except SyntaxError as exc:
            raise _Unknown from exc
    if isinstance(node, ast.Name):
        if node.id in _SIMPLE:
            return dict(_SIMPLE[node.id])
        if node.id in _FORMATS:
            return {"type": "string", "format": _FORMATS[node.id]}
        if node.id in ("list", "tuple", "set"):
            return {"type": "array"}
        if node.id == "dict":
            return {"type": "object"}
        raise _Unknown
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        if node.value.id in ("datetime", "dt") and node.attr in _FORMATS:
            return {"type": "string", "format": _FORMATS[node.attr]}
        if node.value.id in ("typing", "t"):
            return _annotation(ast.Name(id=node.attr))
        raise _Unknown
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return {"anyOf": [*_branches(node.left), *_branches(node.right)]}
    if isinstance(node, ast.Subscript):
        base = node.value
        name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
        args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        if name == "Literal":
            values = []
            for arg in args:
                if not isinstance(arg, ast.Constant):
                    raise _Unknown
                values.append(arg.value)
            return {"enum": values}
        if name == "Optional":
            return {"anyOf": [_annotation(args[0]), {"type": "null"}]}
        if name == "Union":
            return {"anyOf": [_annotation(a) for a in args]}
        if name == "Annotated":
            return _annotation(args[0])
        if name in ("list", "List", "tuple", "Tuple", "set", "Set", "Sequence"):
            return {"type": "array", "items": _annotation(args[0])}
        if name in ("dict", "Dict", "Mapping"):
            return {"type": "object"}
    raise _Unknown


def _branches(node: ast.expr) -> list[dict[str, Any]]:
    schema = _annotation(node)
    return list(schema["anyOf"]) if set(schema) == {"anyOf"} else [schema]


def _is_context(arg: ast.arg) -> bool:
    """As `agentgraph.signatures`: the first parameter annotated `ToolContext`."""
    ann = arg.annotation
    text = ast.unparse(ann) if ann is not None else ""
    return text.strip("'\"").endswith("ToolContext")


def _describe(fn: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> ToolSignature:
    if fn.decorator_list or fn.args.posonlyargs:
        raise _Unknown  # a decorator may change anything; positional-only args: unusual
    summary, docs = parse_docstring(ast.get_docstring(fn))
    positional = list(fn.args.args)
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(fn.args.defaults))
    defaults += list(fn.args.defaults)
    params = list(zip(positional, defaults, strict=True))
    params += list(zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True))
    props: dict[str, Any] = {}
    required: list[str] = []
    for index, (arg, default) in enumerate(params):
        if index == 0 and arg in positional and _is_context(arg):
            continue
        prop = _annotation(arg.annotation)
        if arg.arg in docs:
            prop["description"] = docs[arg.arg]
        props[arg.arg] = prop
        if default is None:
            required.append(arg.arg)
    return ToolSignature(
        name=name,
        description=summary,
        parameters={
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": False,
        },
    )


def static_signature(ref: str, *, name: str | None = None) -> ToolSignature | None:
    """The signature of the tool at `module:function`, read from source; None if unsure.

    Args:
        ref: an import string such as `agentgraph_demo.booking:book_appointment`.
        name: the tool's name in the graph (default: the function's).
    """
    module, _, attr = ref.partition(":")
    if not module or not attr or "." in attr:
        return None
    file = _module_file(module)
    if file is None:
        return None
    try:
        if not file.is_file() or file.stat().st_size > _MAX_SOURCE_BYTES:
            return None
        tree = ast.parse(file.read_bytes(), filename=str(file))
    except (OSError, SyntaxError, ValueError):
        return None
    found: list[ast.stmt] = [
        node for node in tree.body if _binds(node, attr)
    ]  # the last binding wins, as at import time; a non-def binding means "unsure"
    last = found[-1] if found else None
    if not isinstance(last, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    try:
        return _describe(last, name or attr)
    except _Unknown:
        return None


def _binds(node: ast.stmt, attr: str) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name == attr
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(attr in {n.id for n in ast.walk(t) if isinstance(n, ast.Name)} for t in targets)
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return any((a.asname or a.name).split(".")[0] == attr for a in node.names)
    inner = [n for n in ast.walk(node) if isinstance(n, ast.stmt) and n is not node]
    return any(_binds(child, attr) for child in inner)
