"""Entry-point discovery (without importing plugins), import strings, signatures, demo plugin."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Literal

import pytest

from agentgraph.errors import PluginError
from agentgraph.plugins import (
    GUARDRAIL_GROUP,
    TOOL_GROUP,
    describe_tool,
    find_entry,
    list_entries,
    load_entry,
    load_ref,
)


def test_demo_plugin_entries_are_listed_with_distribution_and_version() -> None:
    entries = {(e.group, e.name): e for e in list_entries()}
    for name in ("get_weather", "check_availability", "book_appointment", "search_knowledge_base"):
        entry = entries[(TOOL_GROUP, name)]
        assert entry.dist == "agentgraph-demo" and entry.version == "0.1.0"
        assert entry.value.startswith("agentgraph_demo.")
    assert entries[(GUARDRAIL_GROUP, "no_medical_advice")].kind == "guardrail"


def test_listing_imports_no_plugin_code() -> None:
    code = textwrap.dedent("""
        import sys
        from agentgraph.plugins import list_entries
        assert list_entries()
        leaked = [m for m in sys.modules if m.startswith("agentgraph_demo")]
        assert not leaked, leaked
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


def test_load_entry_and_ref() -> None:
    weather = load_entry(TOOL_GROUP, "get_weather")
    assert weather("Tokyo").startswith("In Tokyo")
    assert load_ref("agentgraph_demo.weather:WEATHER")["lisbon"][1] == "sunny"
    assert find_entry(TOOL_GROUP, "nope") is None


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("no_such_pkg_xyz.mod:f", "no module named 'no_such_pkg_xyz'"),
        ("agentgraph_demo.weather:nothing", "has no attribute 'nothing'"),
        ("agentgraph_demo.weather", "not an import string"),
    ],
)
def test_load_ref_failures_are_plugin_errors(ref: str, message: str) -> None:
    with pytest.raises(PluginError, match=message):
        load_ref(ref)


def test_module_that_raises_on_import_is_a_plugin_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_plugin_mod.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginError, match="RuntimeError: boom"):
        load_ref("broken_plugin_mod:f")
    with pytest.raises(PluginError, match="no installed plugin"):
        load_entry(TOOL_GROUP, "definitely_not_installed")


def test_describe_function_signature() -> None:
    async def lookup(
        city: str,
        units: Literal["c", "f"] = "c",
        days: int | None = None,
        tags: list[str] | None = None,
    ) -> str:
        """Look up a forecast.

        Args:
            city: where.
            units: celsius or fahrenheit,
                as one letter.
        """
        return city

    sig = describe_tool(lookup)
    assert sig.name == "lookup" and sig.description == "Look up a forecast."
    props = sig.parameters["properties"]
    assert props["city"] == {"type": "string", "description": "where."}
    assert props["units"]["enum"] == ["c", "f"]
    assert props["units"]["description"] == "celsius or fahrenheit, as one letter."
    assert props["days"]["anyOf"] == [{"type": "integer"}, {"type": "null"}]
    assert sig.parameters["required"] == ["city"]
    assert sig.param_names == {"city", "units", "days", "tags"}
    # one docstring-to-schema path: validation sees exactly what the model is sent
    from agentgraph.realtime import function_tool

    assert sig.parameters == function_tool(lookup).params_json_schema


def test_describe_function_tool_uses_its_schema() -> None:
    from agentgraph.realtime import ToolContext, function_tool

    def f(ctx: ToolContext, date: str) -> str:
        """Do it."""
        return date

    tool = function_tool(f, name_override="g")
    sig = describe_tool(tool)
    assert sig.is_function_tool and sig.name == "g" and sig.param_names == {"date"}
    with pytest.raises(PluginError, match="not a function"):
        describe_tool(42, name="x")
