"""The YAML graph language: load with positions, `${ENV}` substitution, validate.

`load_graph(path) -> Spec` raises `SpecError` carrying every finding; `validate_file` and
`validate_text` return the findings instead. This package imports no runtime code.
"""

from agentgraph.errors import SpecError
from agentgraph.spec.api import (
    Spec,
    ValidationResult,
    check_approvals,
    load_graph,
    validate_file,
    validate_text,
)
from agentgraph.spec.condition import Condition, ConditionError, parse_condition
from agentgraph.spec.findings import CODES, Finding, Pos
from agentgraph.spec.models import Graph
from agentgraph.spec.schema import graph_schema, schema_text
from agentgraph.spec.semantic import BUILTIN_PARAMS, handoff_tool_name

__all__ = [
    "BUILTIN_PARAMS",
    "CODES",
    "Condition",
    "ConditionError",
    "Finding",
    "Graph",
    "Pos",
    "Spec",
    "SpecError",
    "ValidationResult",
    "check_approvals",
    "graph_schema",
    "handoff_tool_name",
    "load_graph",
    "parse_condition",
    "schema_text",
    "validate_file",
    "validate_text",
]
