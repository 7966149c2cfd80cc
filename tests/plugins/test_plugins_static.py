"""Tool parameters read from source with `ast`: the same names and types as the live
function, nothing imported, and None (import instead) whenever the source is not certain."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agentgraph.plugins import describe_tool, load_ref
from agentgraph.plugins.static import static_signature

SOURCE = '''
from __future__ import annotations
import datetime as dt
from typing import Literal, Optional
from agentgraph.realtime import ToolContext, function_tool

raise RuntimeError("importing this module runs code")

def book(ctx: ToolContext, day: dt.date, at: dt.time, size: int = 2,
         kind: Literal["a", "b"] = "a", note: Optional[str] = None, *,
         vip: bool | None = None) -> str:
    """Book a table.

    Args:
        day: which day.
        at: what time.
    """

@function_tool
def decorated(x: int) -> str:
    return ""

def odd(x: SomeClass) -> str:
    return ""

assigned = book

def later(x: int) -> str:
    return ""
later = decorated
'''


@pytest.fixture()
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    pkg = tmp_path / "static_pkg_h3"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise RuntimeError('the package __init__ ran')\n")
    (pkg / "tools.py").write_text(SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "static_pkg_h3.tools"


def test_a_plain_function_is_read_without_running_the_module(module: str) -> None:
    sig = static_signature(f"{module}:book")
    assert sig is not None and sig.description == "Book a table."
    props = sig.parameters["properties"]
    assert list(props) == ["day", "at", "size", "kind", "note", "vip"]  # ctx left out
    assert props["day"] == {"type": "string", "format": "date", "description": "which day."}
    assert props["at"]["format"] == "time" and props["size"] == {"type": "integer"}
    assert props["kind"] == {"enum": ["a", "b"]}
    assert props["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert props["vip"] == {"anyOf": [{"type": "boolean"}, {"type": "null"}]}
    assert sig.parameters["required"] == ["day", "at"]
    assert not any(m.startswith("static_pkg_h3") for m in sys.modules)


@pytest.mark.parametrize("attr", ["decorated", "odd", "assigned", "later", "missing"])
def test_anything_uncertain_means_import_instead(module: str, attr: str) -> None:
    assert static_signature(f"{module}:{attr}") is None


def test_the_demo_plugin_reads_the_same_as_when_imported() -> None:
    for ref in (
        "agentgraph_demo.booking:book_appointment",
        "agentgraph_demo.weather:get_weather",
        "agentgraph_demo.knowledge:search_knowledge_base",
    ):
        static = static_signature(ref)
        assert static is not None, ref
        assert static.parameters == describe_tool(load_ref(ref)).parameters


def test_modules_that_do_not_exist_or_are_not_python_are_none() -> None:
    assert static_signature("no_such_module_h3:f") is None
    assert static_signature("_json:scanstring") is None  # a C extension
    assert static_signature("not an import string") is None
