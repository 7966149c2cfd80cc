"""Edge cases people hit: odd YAML, unions, ranges, and the drawing of every marker."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentgraph.errors import SpecError
from agentgraph.spec import load_graph, parse_condition, validate_text
from agentgraph.spec.draw import to_dot, to_mermaid

HEAD = "version: 1\nname: t\n"
ONE = "agents: {a: {instructions: x}}\n"


def messages(text: str) -> list[tuple[str, str]]:
    return [(f.code, f.message) for f in validate_text(text, env={}).findings]


def test_odd_yaml_is_reported_not_crashed() -> None:
    assert [c for c, _ in messages(HEAD + "tools: !custom {t: {entry_point: x}}\n" + ONE)] == [
        "AG111"
    ]
    assert [c for c, _ in messages(HEAD + "variables: !!set {a, b}\n" + ONE)] == ["AG111"]
    assert messages(HEAD + "variables:\n  ? [a, b]\n  : 1\n" + ONE) == [
        ("AG111", "mapping keys must be plain words")
    ]
    assert messages(HEAD + "variables: {<<: [1]}\n" + ONE) == [
        ("AG111", "'<<' can only merge mappings")
    ]
    (finding,) = validate_text("version: 1\n\tname: x\n", env={}).findings
    assert finding.code == "AG100"


def test_unset_variable_in_a_folded_scalar_points_at_the_scalar() -> None:
    text = HEAD + "agents:\n  a:\n    instructions: >-\n      Hello ${NOPE_NOT_SET}\n"
    (f,) = validate_text(text, env={}).findings
    assert f.code == "AG106" and f.pos is not None and (f.pos.line, f.pos.col) == (5, 19)


def test_ranges_and_union_mismatches() -> None:
    assert messages(HEAD + "turn_detection: {type: server_vad, threshold: 1.5}\n" + ONE) == [
        ("AG107", "1.5 is out of range: must be at most 1.0")
    ]
    assert messages(HEAD + "agents: {a: {instructions: x, handoffs: [[b]]}}\n") == [
        ("AG102", "expected a string or a mapping, got a list")
    ]
    assert messages(
        HEAD + "tools: {t: {entry_point: x, approval: 5}}\n"
        "agents: {a: {instructions: x, tools: [t]}}\n"
    ) == [("AG103", "'5' is not allowed here; write 'never' or 'always'")]
    assert messages(HEAD + "agents: {}\n") == [("AG107", "must not be empty (at least 1)")]


def test_broken_entries_do_not_cascade() -> None:
    text = HEAD + "agents: {a: {instructions: x, tools: [{builtin: hangup}, {builtin: hangup}]}}\n"
    assert [c for c, _ in messages(text)] == ["AG103", "AG103"]  # no duplicate-name noise


def test_more_semantic_mistakes() -> None:
    assert [
        c
        for c, _ in messages(
            HEAD + "tools: {'bad name': {entry_point: x}}\n"
            "agents: {a: {instructions: x, tools: ['bad name']}}\n"
        )
    ] == ["AG107"]
    assert [
        c
        for c, _ in messages(
            HEAD + "tools: {t: {entry_point: x, approval: "
            "{message: 'Book {date'}}}\n"
            "agents: {a: {instructions: x, tools: [t]}}\n"
        )
    ] == ["AG107"]
    assert [
        c
        for c, _ in messages(
            HEAD + "guardrails: {g: {match: {keywords: [a]}, check: b}}\n"
            "agents: {a: {instructions: x, guardrails: [g]}}\n"
        )
    ] == ["AG103"]
    assert [c for c, _ in messages(HEAD + "model: {base_url: 'ftp://x'}\n" + ONE)] == ["AG107"]
    assert [
        c
        for c, _ in messages(
            HEAD + "guardrails: {g: {check: b, api_key: sk-x}}\n"
            "agents: {a: {instructions: x, guardrails: [g]}}\n"
        )
    ] == ["AG112"]


def test_load_graph_raises_with_exit_codes(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_graph(tmp_path / "absent.yaml")
    assert info.value.exit_code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text(HEAD + "agents: {a: {instructions: x, handoffs: [b]}}\n")
    with pytest.raises(SpecError) as info:
        load_graph(bad)
    assert info.value.exit_code == 1
    assert info.value.format().endswith("1 error(s), 0 warning(s)")


def test_result_properties() -> None:
    result = validate_text(HEAD + "agents: {a: {instructions: x, handoffs: [b]}}\n", env={})
    assert not result.ok and [f.code for f in result.errors] == ["AG202"]
    ok = validate_text(HEAD + ONE, env={})
    assert ok.ok and ok.spec is not None and ok.spec.sip is None and ok.spec.model.name


def test_condition_corner_cases() -> None:
    assert parse_condition("5 in 'abc'")({}) is True  # cannot be read: the rule applies
    assert parse_condition("n <= 2")({"n": 2}) is True
    assert parse_condition("  n  ")({"n": 1}) is True


def test_drawings_mark_approvals_and_guardrails(tmp_path: Path) -> None:
    graph = tmp_path / "g.yaml"
    graph.write_text(
        HEAD
        + """\
tools:
  ask: {entry_point: x, approval: always}
  xfer: {builtin: transfer_call}
guardrails: {g: {match: {keywords: [price]}}}
agents:
  a:
    instructions: x
    tools: [ask, xfer, {builtin: transfer_call}, {builtin: end_call, approval: never}]
    guardrails: [g]
    handoffs: [b]
  b: {instructions: y, handoffs: [a]}
"""
    )
    spec = load_graph(graph, env={})
    mermaid = to_mermaid(spec)
    assert 'tool_a_ask[/"ask 🔒 approval (always)"/]' in mermaid
    assert 'tool_a_xfer[/"xfer 🔒 approval (operator)"/]' in mermaid
    assert 'tool_a_transfer_call[/"transfer_call 🔒 approval (operator)"/]' in mermaid
    assert 'tool_a_end_call[/"end_call"/]' in mermaid
    assert 'guard_a_g{{"guardrail: g"}}' in mermaid
    dot = to_dot(spec)
    assert '"agent:a" -> "agent:b" [label=handoff];' in dot
    assert '"tool:a:ask" [label="ask\\napproval (always)", shape=parallelogram, color=red];' in dot
