"""Typed approval conditions (issue 10): times as times, dates as dates, numbers as numbers,
and a value that cannot be read makes the rule apply (fail closed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentgraph.spec import ConditionError, parse_condition

OUT_OF_HOURS = "time < '09:00' or time > '17:00'"
STRING = {"type": "object", "properties": {"time": {"type": "string"}}}
AMOUNT = {"type": "object", "properties": {"amount": {"type": "number"}}}
OPTIONAL_AMOUNT = {
    "type": "object",
    "properties": {"amount": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
}


@pytest.mark.parametrize("written", ["17.30", "5:30 pm", "17:30", "17h30", "5.30 p.m.", "17:30:00"])
def test_times_compare_as_times_however_written(written: str) -> None:
    # The attack: "17.30" passed `time > '17:00'` as text and the tool booked 17:30.
    for schema in (None, STRING):
        assert parse_condition(OUT_OF_HOURS, schema)({"time": written}) is True


@pytest.mark.parametrize("written", ["12:00", "12.00", "noon", "9:00 am", "16:59"])
def test_times_inside_hours_do_not_ask(written: str) -> None:
    assert parse_condition(OUT_OF_HOURS, STRING)({"time": written}) is False


def test_time_objects_compare_too() -> None:
    schema = {"type": "object", "properties": {"time": {"type": "string", "format": "time"}}}
    cond = parse_condition(OUT_OF_HOURS, schema)
    assert cond({"time": dt.time(8, 0)}) is True
    assert cond({"time": dt.time(10, 0)}) is False


@pytest.mark.parametrize("unreadable", ["half five", "5", "", "25:00", None, 1730, "17:30+02:00"])
def test_an_unreadable_time_makes_the_rule_apply(unreadable: Any) -> None:
    assert parse_condition(OUT_OF_HOURS, STRING)({"time": unreadable}) is True


@pytest.mark.parametrize(
    ("amount", "asks"),
    [("5000", True), (5000, True), (5000.0, True), ("5,000", True), ("999", False), (10, False)],
)
def test_numbers_compare_as_numbers_even_when_sent_as_text(amount: Any, asks: bool) -> None:
    # The attack: amount "5000" (a string) ran `pay` without approval under amount > 1000.
    for schema in (None, AMOUNT, OPTIONAL_AMOUNT):
        assert parse_condition("amount > 1000", schema)({"amount": amount}) is asks


@pytest.mark.parametrize("amount", ["lots", True, None, [5000], "1e400"])
def test_an_unreadable_number_makes_the_rule_apply(amount: Any) -> None:
    assert parse_condition("amount > 1000", AMOUNT)({"amount": amount}) is True
    assert parse_condition("amount > 1000", AMOUNT)({}) is True


def test_a_string_literal_against_a_number_parameter_is_read_as_a_number() -> None:
    assert parse_condition("amount >= '1000'", AMOUNT)({"amount": 1000}) is True


def test_dates_compare_as_dates() -> None:
    schema = {"type": "object", "properties": {"day": {"type": "string", "format": "date"}}}
    cond = parse_condition("day >= '2026-12-24'", schema)
    assert cond({"day": "2026-12-24"}) is True
    assert cond({"day": "24 December 2026"}) is True
    assert cond({"day": "Dec 31, 2026"}) is True
    assert cond({"day": "2026-12-03"}) is False
    assert cond({"day": dt.date(2027, 1, 1)}) is True
    assert cond({"day": "tomorrow"}) is True  # depends on a clock: not guessed, so ask
    assert cond({"day": "12/03/2026"}) is True  # locale-dependent: ask
    # without a schema the literal '2026-12-24' makes it a date comparison too
    assert parse_condition("day < '2026-12-24'")({"day": "3 December 2026"}) is True


def test_equality_and_lists_are_typed() -> None:
    assert parse_condition("time == '17:00'")({"time": "5 pm"}) is True
    assert parse_condition("amount in [100, 200]", AMOUNT)({"amount": "200"}) is True
    assert parse_condition("amount not in [100, 200]", AMOUNT)({"amount": "200"}) is False
    assert parse_condition("city in ['Paris', 'Rome']")({"city": "Rome"}) is True


@pytest.mark.parametrize(
    ("source", "schema", "offset"),
    [
        ("amount > 'lots'", AMOUNT, 9),
        (
            "time > 'late'",
            {"type": "object", "properties": {"time": {"type": "string", "format": "time"}}},
            7,
        ),
        ("amount in [1, 'x']", AMOUNT, 14),
    ],
)
def test_a_literal_of_the_wrong_kind_is_a_static_error(
    source: str, schema: dict[str, Any], offset: int
) -> None:
    with pytest.raises(ConditionError) as info:
        parse_condition(source, schema)
    assert info.value.offset == offset


def test_null_checks_still_mean_presence() -> None:
    cond = parse_condition("note != null", {"type": "object", "properties": {"note": {}}})
    assert cond({"note": "x"}) is True
    assert cond({}) is False


def test_not_cannot_turn_an_unreadable_value_into_a_skip() -> None:
    # fail closed at the top, not inside `not`: not (amount > 1000) with "lots" still asks
    assert parse_condition("not (amount <= 1000)", AMOUNT)({"amount": "lots"}) is True


def _written(hour: int, minute: int, style: int) -> str:
    """One way a model or caller writes the time hour:minute."""
    h12 = hour % 12 or 12
    suffix = "am" if hour < 12 else "pm"
    return [
        f"{hour:02d}:{minute:02d}",
        f"{hour}.{minute:02d}",
        f"{hour}h{minute:02d}",
        f"{h12}:{minute:02d} {suffix}",
        f"{h12}:{minute:02d}{suffix.upper()}",
        f"{hour:02d}:{minute:02d}:00",
    ][style]


@given(
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 5),
    st.sampled_from([None, STRING]),
)
def test_property_time_rules_follow_the_clock_not_the_spelling(
    hour: int, minute: int, style: int, schema: dict[str, Any] | None
) -> None:
    minutes = hour * 60 + minute
    expected = minutes < 9 * 60 or minutes > 17 * 60
    assert parse_condition(OUT_OF_HOURS, schema)({"time": _written(hour, minute, style)}) is (
        expected
    )


@given(st.one_of(st.text(max_size=12), st.none(), st.integers(), st.floats(allow_nan=True)))
def test_property_a_value_is_either_read_right_or_the_rule_applies(value: Any) -> None:
    # never a skip on garbage: the only False answers are for values read as a number <= 1000
    result = parse_condition("amount > 1000", AMOUNT)({"amount": value})
    if result is False:
        assert isinstance(value, (int, float, str)) and not isinstance(value, bool)
        assert float(str(value).replace(",", "")) <= 1000


def test_text_compares_without_case_or_spaces() -> None:
    # `country == 'RU'` must not be skipped because the model wrote "ru "
    cond = parse_condition("country == 'RU' or currency in ['EUR', 'GBP']")
    assert cond({"country": "ru ", "currency": "usd"}) is True
    assert cond({"country": "US", "currency": " gbp"}) is True
    assert cond({"country": "US", "currency": "USD"}) is False


def test_two_parameters_compare_by_what_both_read_as() -> None:
    cond = parse_condition("end < start")
    assert cond({"start": "9:00 am", "end": "17.30"}) is False  # times, not text
    assert cond({"start": "10", "end": "9"}) is True  # numbers, not text
    assert cond({"start": "10", "end": True}) is True  # unreadable pair: the rule applies
