"""docs/language.md is generated from the schema and the examples and must not go stale;
it documents every key (type, default, meaning, example) of graphs and tests files."""

from __future__ import annotations

import re
from pathlib import Path

from agentgraph.spec import graph_schema
from agentgraph.spec.docgen import language_reference
from agentgraph.spec.testfile import tests_schema as schema_of_tests

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "language.md"


def test_committed_language_reference_is_fresh() -> None:
    assert DOC.read_text(encoding="utf-8") == language_reference(ROOT / "examples" / "graphs"), (
        "docs/language.md is stale: run "
        "`python -m agentgraph.spec.docgen examples/graphs > docs/language.md`"
    )


def test_every_key_has_a_row_with_type_default_and_example() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = re.findall(r"^\| \*\*(\w+)\*\* \| (.+?) \| (.+?) \| (.*?) \| (.+?) \|$", text, re.M)
    documented = {key for key, *_ in rows}
    for schema in (graph_schema(), schema_of_tests()):
        objects = [schema, *schema.get("$defs", {}).values()]
        for obj in objects:
            assert set(obj.get("properties", {})) <= documented, obj.get("title")
    for key, kind, default, _meaning, example in rows:
        assert kind.strip() and default.strip(), key
        assert example.startswith(f"`{key}:"), (key, example)


def test_the_readme_links_the_reference() -> None:
    assert "docs/language.md" in (ROOT / "README.md").read_text(encoding="utf-8")
