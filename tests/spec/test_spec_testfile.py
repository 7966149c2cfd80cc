"""Conversation test files get the graph's strict loading (issue 12): a typo such as
`expcet:` is an error with "did you mean" (it silently passed the test before), every
finding is reported at once at file:line:col, and hostile files end in clean findings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentgraph.app.testcases import TestsFileError, load_tests
from agentgraph.spec.testfile import tests_schema as schema_of_tests
from agentgraph.spec.testfile import validate_tests_file, validate_tests_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "graphs"

TYPOS = """\
graph: booking.yaml
tests:
  - name: typos
    mockz: {book_appointment: ok}
    operator: approve
    turns:
      - user: hi
        expcet: [says: date]
      - user: Monday
        expect: [sayz: time, within_ms: fast, tool_call: {nme: book}]
"""


def test_every_finding_at_once_with_positions_and_did_you_mean() -> None:
    result = validate_tests_text(TYPOS, file="t.tests.yaml", env={})
    assert result.tests is None
    got = [(f.code, f.pos.line, f.pos.col) for f in result.findings if f.pos]
    assert got == [
        ("AG101", 4, 5),
        ("AG101", 8, 9),
        ("AG101", 10, 18),
        ("AG102", 10, 41),
        ("AG104", 10, 47),  # tool_call without name
        ("AG101", 10, 59),
    ]
    text = "\n".join(f.format() for f in result.findings)
    assert "t.tests.yaml:8:9: error AG101: unknown key 'expcet'" in text
    assert "did you mean 'expect'?" in text and "did you mean 'mocks'?" in text
    assert "did you mean 'says'?" in text


def test_load_tests_raises_with_every_finding(tmp_path: Path) -> None:
    path = tmp_path / "t.tests.yaml"
    path.write_text(TYPOS)
    with pytest.raises(TestsFileError) as info:
        load_tests(path)
    assert len(info.value.findings) >= 4
    assert f"{path}:8:9: error AG101" in str(info.value)


def test_plain_words_stay_words() -> None:
    # YAML 1.1 made `yes` a boolean and 10:00 a number (600); the caller says words.
    text = "tests:\n  - name: t\n    turns:\n      - user: yes\n        expect: [says: 10:00]\n"
    result = validate_tests_text(text, env={})
    assert result.tests is not None
    turn = result.tests.tests[0].turns[0]
    assert turn.user == "yes"
    assert not isinstance(turn.expect, list) or turn.expect[0].says == "10:00"  # type: ignore[union-attr]


def test_one_of_user_or_audio_and_one_key_per_expectation() -> None:
    text = (
        "tests:\n  - name: t\n    turns:\n      - {user: a, audio: {say: b}}\n"
        "      - {user: c, expect: [{says: x, handoff: y}]}\n"
    )
    result = validate_tests_text(text, env={})
    messages = [f.message for f in result.findings]
    assert any("user: text` or `audio" in m for m in messages)
    assert any("each expectation is one key" in m for m in messages)


def test_the_examples_are_valid_and_the_schema_names_every_expectation() -> None:
    for path in sorted(EXAMPLES.glob("*.tests.yaml")):
        assert validate_tests_file(path).tests is not None, path
    expectations = schema_of_tests()["$defs"]["Expectations"]["properties"]
    assert set(expectations) == {
        "tool_call",
        "no_tool_call",
        "handoff",
        "approval_requested",
        "guardrail_tripped",
        "says",
        "within_ms",
    }


def test_hostile_tests_files_end_in_clean_findings(tmp_path: Path) -> None:
    fifo = tmp_path / "f.tests.yaml"
    os.mkfifo(fifo)
    assert [f.code for f in validate_tests_file(fifo).findings] == ["AG001"]
    assert [f.code for f in validate_tests_file("/dev/zero").findings] == ["AG001"]
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{n}: &{n} [{','.join(['*' + p] * 10)}]\n"
        for p, n in zip("abcdefg", "bcdefgh", strict=True)
    )
    assert [f.code for f in validate_tests_text(bomb, env={}).findings] == ["AG111"]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"\n #,?%@`\\\x00\t")), max_size=80))
def test_property_any_text_is_findings_never_an_exception(text: str) -> None:
    result = validate_tests_text(text, file="t.tests.yaml", env={})
    assert result.tests is not None or result.errors


def test_names_the_graph_does_not_have_are_warnings_with_did_you_mean(tmp_path: Path) -> None:
    path = tmp_path / "w.tests.yaml"
    path.write_text(
        f"graph: {EXAMPLES / 'weather.yaml'}\n"
        "tests:\n  - name: typos\n    mocks: {get_wether: sunny}\n    turns:\n"
        "      - user: hi\n"
        "        expect: [tool_call: {name: get_wether}, handoff: nobody]\n"
    )
    result = validate_tests_file(path)
    assert result.tests is not None  # warnings only: the run reports mismatches itself
    got = [(f.code, f.severity, f.pos.line, f.pos.col) for f in result.findings if f.pos]
    assert got == [
        ("AG203", "warning", 4, 13),
        ("AG203", "warning", 7, 36),
        ("AG202", "warning", 7, 58),
    ]
    assert all("did you mean 'get_weather'?" in f.hints for f in result.findings[:2])
    missing = tmp_path / "m.tests.yaml"
    missing.write_text("graph: nowhere.yaml\ntests:\n  - name: t\n    turns: [{user: hi}]\n")
    assert [(f.code, f.severity) for f in validate_tests_file(missing).findings] == [
        ("AG001", "warning")  # `agentgraph test --graph` may name another graph
    ]
