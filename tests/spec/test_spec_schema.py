"""The committed JSON Schema is generated from the pydantic models and must not go stale."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from agentgraph.spec import graph_schema, schema_text

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "schemas" / "agentgraph.schema.json"


def test_committed_schema_is_fresh() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == schema_text(), (
        "schemas/agentgraph.schema.json is stale: run "
        "`agentgraph schema > schemas/agentgraph.schema.json`"
    )


def test_schema_is_valid_draft_2020_12_and_accepts_the_examples() -> None:
    schema = graph_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted((ROOT / "examples" / "graphs").glob("*.yaml")):
        if path.name.endswith(".tests.yaml"):
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        errors = [e.message for e in validator.iter_errors(data)]
        assert errors == [], (path.name, errors)


def test_schema_describes_fields_for_editors() -> None:
    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert schema["$schema"].endswith("2020-12/schema")
    assert "voice" in schema["properties"] and "agents" in schema["required"]
    assert schema["additionalProperties"] is False
    model = schema["$defs"]["ModelSpec"]["properties"]["provider"]
    assert model["enum"] == ["auto", "openai", "local"] and model["description"]
