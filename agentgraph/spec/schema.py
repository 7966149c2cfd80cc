"""The JSON Schema of the graph language, generated from the pydantic models.

`schemas/agentgraph.schema.json` is this function's output, committed; a test fails when
it is stale. Regenerate with `agentgraph schema > schemas/agentgraph.schema.json`.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from agentgraph.spec.models import Graph

__all__ = ["SCHEMA_ID", "graph_schema", "schema_text"]

SCHEMA_ID = "https://agentgraph.dev/schemas/agentgraph.schema.json"


@cache
def graph_schema() -> dict[str, Any]:
    """The schema as a dict (cached; treat it as read-only)."""
    schema = Graph.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def schema_text() -> str:
    """The schema as the committed file's text (sorted keys, 2-space indent, final newline)."""
    return json.dumps(graph_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
