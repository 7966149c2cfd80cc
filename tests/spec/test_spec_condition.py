"""The approval condition language: our own tokenizer, parser and evaluator (never eval)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentgraph.spec import ConditionError, parse_condition

CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("time < '09:00' or time > '17:00'", {"time": "08:30"}, True),
    ("time < '09:00' or time > '17:00'", {"time": "12:00"}, False),
    ("time < '09:00' or time > '17:00'", {"time": "17:30"}, True),
    ('amount >= 100 and currency == "EUR"', {"amount": 100, "currency": "EUR"}, True),
    ('amount >= 100 and currency == "EUR"', {"amount": 99.5, "currency": "EUR"}, False),
    ("not (city in ['Paris', 'Rome'])", {"city": "Lisbon"}, True),
    ("city not in ['Paris', 'Rome']", {"city": "Rome"}, False),
    ("'VIP' in name", {"name": "VIP Jane"}, True),
    ("n != 3", {"n": 3}, False),
    ("flag == true", {"flag": True}, True),
    ("missing == null", {}, True),
    ("count > -1", {"count": 0}, True),
    ("count > 'text'", {"count": 5}, True),  # cannot be read as text: the rule applies
    ("a or b and c", {"a": False, "b": True, "c": False}, False),  # and binds tighter
    ("(a or b) and c", {"a": True, "b": False, "c": True}, True),
    ("'it\\'s' == q", {"q": "it's"}, True),
]


@pytest.mark.parametrize(("source", "args", "expected"), CASES)
def test_evaluation(source: str, args: dict[str, Any], expected: bool) -> None:
    assert parse_condition(source)(args) is expected


def test_names_are_collected_with_offsets() -> None:
    cond = parse_condition("time < '09:00' or date == day")
    assert dict(cond.names) == {"time": 0, "date": 18, "day": 26}


@pytest.mark.parametrize(
    ("source", "offset"),
    [
        ("", 0),
        ("time <", 6),
        ("a = 1", 2),
        ("'open", 0),
        ("(a", 2),
        ("a b", 2),
        ("a and or b", 6),
        ("__import__('os').system('x')", 16),
        ("a @ b", 2),
        ("[1, 2", 5),
        ("x" * 1001, 1000),
    ],
)
def test_syntax_errors_have_offsets(source: str, offset: int) -> None:
    with pytest.raises(ConditionError) as info:
        parse_condition(source)
    assert info.value.offset == offset


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    with pytest.raises(ConditionError):
        parse_condition("(" * 200 + "a" + ")" * 200)
    with pytest.raises(ConditionError):
        parse_condition("not " * 200 + "a")


@given(st.text(max_size=60))
def test_any_text_parses_or_raises_condition_error(text: str) -> None:
    try:
        cond = parse_condition(text)
    except ConditionError:
        return
    assert isinstance(cond({"time": "10:00", "n": 1}), bool)
