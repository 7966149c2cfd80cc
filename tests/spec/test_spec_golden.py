"""Golden tests: the full formatted output people read, compared character for character.

Regenerate after an intended change with:
    python -c "import tests.spec.test_spec_golden as t; t.regenerate()"
and review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentgraph.errors import SpecError
from agentgraph.spec import validate_text

DATA = Path(__file__).parent / "data"
CASES = ["acceptance", "many"]


def render(name: str) -> str:
    text = (DATA / f"{name}.yaml").read_text(encoding="utf-8")
    result = validate_text(text, file=f"{name}.yaml", env={}, base_dir=DATA)
    return SpecError(result.findings).format() + "\n"


@pytest.mark.parametrize("name", CASES)
def test_golden_output(name: str) -> None:
    assert render(name) == (DATA / f"{name}.golden.txt").read_text(encoding="utf-8")


def test_acceptance_three_findings_on_the_right_lines() -> None:
    text = (DATA / "acceptance.yaml").read_text(encoding="utf-8")
    result = validate_text(text, file="graph.yaml", env={}, base_dir=DATA)
    got = [(f.code, f.pos.line if f.pos else None) for f in result.findings]
    # unset ${CLINIC_NAME} (line 8), misspelt handoff target (line 9), unknown key (line 12)
    assert got == [("AG106", 8), ("AG202", 9), ("AG101", 12)]
    assert result.spec is None


def test_json_findings_carry_the_same_facts() -> None:
    text = (DATA / "acceptance.yaml").read_text(encoding="utf-8")
    result = validate_text(text, file="graph.yaml", env={}, base_dir=DATA)
    payload = json.loads(json.dumps([f.to_json() for f in result.findings]))
    assert payload[1] == {
        "code": "AG202",
        "severity": "error",
        "message": "handoff target 'bookng' is not an agent",
        "file": "graph.yaml",
        "line": 9,
        "column": 16,
        "end_line": 9,
        "end_column": 22,
        "path": "$.agents.triage.handoffs[0]",
        "hints": ["did you mean 'booking'?", "agents: booking, triage"],
    }


def regenerate() -> None:  # pragma: no cover - a maintenance helper
    for name in CASES:
        (DATA / f"{name}.golden.txt").write_text(render(name), encoding="utf-8")
