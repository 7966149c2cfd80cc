"""Typed values for approval conditions: times, dates, numbers, booleans, as a tool means them.

A condition such as `time > '17:00'` must compare the way the tool will read its argument:
"17.30", "5:30 pm" and "17:30" are all half past five. Each kind has one parser that
turns a value (from the model's JSON, a coerced Python object or a literal in the
condition) into something ordered, or raises `Uninterpretable`. The evaluator treats
`Uninterpretable` as "the rule applies": a value we cannot read never skips an approval.

`schema_kind` reads a parameter's kind from its JSON Schema (`type`, `format`, `anyOf`);
`literal_kind` guesses it from a literal when the schema says only "string".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "KINDS",
    "Uninterpretable",
    "convert",
    "literal_kind",
    "order_untyped",
    "parse_boolean",
    "parse_date",
    "parse_datetime",
    "parse_number",
    "parse_text",
    "parse_time",
    "schema_kind",
]

#: text compares as written; raw keeps the untyped rules (names without a known kind).
KINDS = ("number", "boolean", "time", "date", "datetime", "text", "raw")


class Uninterpretable(ValueError):
    """A value cannot be read as the kind its comparison needs (the rule then applies)."""


_TIME = re.compile(
    r"^(\d{1,2})(?:\s*[:.h]\s*(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*"
    r"(am|pm|a\.m\.?|p\.m\.?)?$",
    re.IGNORECASE,
)
_STRICT_TIME = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")
_STRICT_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$|^[+-]?\.\d+$")
_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for name in names
}
_WORDY_DATE = re.compile(
    r"^(?:(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)|([a-z]+)\s+(\d{1,2})(?:st|nd|rd|th)?),?\s+(\d{4})$"
)


def parse_number(value: Any) -> float | int:
    """A number from a number or a string such as "5000", "5,000" or "12.5"."""
    if isinstance(value, bool):
        raise Uninterpretable("a boolean is not a number")
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            raise Uninterpretable("not a finite number")
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        if _NUMBER.match(text):
            text = text.replace(",", "")
            try:
                number = Decimal(text)
            except InvalidOperation as exc:  # pragma: no cover - the regex rules it out
                raise Uninterpretable(value) from exc
            return int(number) if number == number.to_integral_value() else float(number)
    raise Uninterpretable(f"{value!r} is not a number")


def parse_time(value: Any) -> int:
    """Seconds after midnight from "17:30", "17.30", "17h30", "5:30 pm", "noon" or a time."""
    if isinstance(value, dt.datetime):
        value = value.time()
    if isinstance(value, dt.time):
        if value.tzinfo is not None:
            raise Uninterpretable("a time with a time zone")
        return value.hour * 3600 + value.minute * 60 + value.second
    if not isinstance(value, str):
        raise Uninterpretable(f"{value!r} is not a time")
    text = value.strip().lower()
    if text in ("noon", "midday"):
        return 12 * 3600
    if text == "midnight":
        return 0
    m = _TIME.match(text)
    if m is None:
        raise Uninterpretable(f"{value!r} is not a time")
    hour, minute, second = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
    suffix = (m.group(4) or "").replace(".", "")
    if suffix:
        if not 1 <= hour <= 12:
            raise Uninterpretable(f"{value!r} is not a time")
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    elif m.group(2) is None and len(m.group(1)) < 2 and hour != 0:
        # A bare "5" could be morning or evening: we cannot tell, so we do not guess.
        raise Uninterpretable(f"{value!r} is not a time (morning or evening?)")
    if hour > 23 or minute > 59 or second > 59:
        raise Uninterpretable(f"{value!r} is not a time")
    return hour * 3600 + minute * 60 + second


def parse_date(value: Any) -> dt.date:
    """A date from "2026-12-03", "3 December 2026", "Dec 3, 2026" or a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise Uninterpretable(f"{value!r} is not a date")
    text = value.strip().lower()
    try:
        if _STRICT_DATE.match(text):
            return dt.date.fromisoformat(text)
        if "t" in text and _STRICT_DATE.match(text[:10]):
            return dt.datetime.fromisoformat(text.upper()).date()
    except ValueError as exc:
        raise Uninterpretable(f"{value!r} is not a date") from exc
    m = _WORDY_DATE.match(text)
    if m is not None:
        day = m.group(1) or m.group(4)
        month = _MONTHS.get(m.group(2) or m.group(3) or "")
        if month is not None:
            try:
                return dt.date(int(m.group(5)), month, int(day))
            except ValueError as exc:
                raise Uninterpretable(f"{value!r} is not a date") from exc
    # "today", "12/03/2026" and the like depend on a clock or a locale: not guessed.
    raise Uninterpretable(f"{value!r} is not a date")


def parse_datetime(value: Any) -> dt.datetime:
    """A date and time from ISO 8601 text or a datetime (naive and aware never mix)."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, str):
        raise Uninterpretable(f"{value!r} is not a date and time")
    text = value.strip()
    try:
        return dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError as exc:
        raise Uninterpretable(f"{value!r} is not a date and time") from exc


def parse_boolean(value: Any) -> bool:
    """A boolean from true/false (or the strings "true", "false", "yes", "no")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no"):
        return False
    raise Uninterpretable(f"{value!r} is not true or false")


def parse_text(value: Any) -> str:
    """Text, compared without regard to case or surrounding spaces ('RU' is ' ru'); a
    number is not text ('10' and 10 are different answers)."""
    if isinstance(value, str):
        return " ".join(value.split()).casefold()
    raise Uninterpretable(f"{value!r} is not text")


def order_untyped(a: Any, b: Any) -> tuple[Any, Any]:
    """Two values of no declared kind made comparable: as numbers, times or dates when
    both read as one, else as text when both are text.

    Raises:
        Uninterpretable: no kind reads both.
    """
    if not (isinstance(a, bool) or isinstance(b, bool)):
        for parser in (parse_number, parse_time, parse_date, parse_datetime):
            try:
                return parser(a), parser(b)
            except Uninterpretable:
                continue
    if isinstance(a, str) and isinstance(b, str):
        return parse_text(a), parse_text(b)
    raise Uninterpretable(f"cannot order {a!r} and {b!r}")


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "number": parse_number,
    "boolean": parse_boolean,
    "time": parse_time,
    "date": parse_date,
    "datetime": parse_datetime,
    "text": parse_text,
}


def convert(kind: str, value: Any) -> Any:
    """`value` read as `kind` (raw: unchanged).

    Raises:
        Uninterpretable: the value cannot be read as that kind.
    """
    parser = _PARSERS.get(kind)
    return value if parser is None else parser(value)


def schema_kind(schema: Mapping[str, Any] | None) -> str | None:
    """The comparison kind a parameter's JSON Schema implies, or None when it says nothing.

    `anyOf` (e.g. `int | None`) counts when every non-null branch has the same kind.
    A plain string without a format returns "string": the literal decides.
    """
    if not isinstance(schema, Mapping):
        return None
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list):
        kinds = {schema_kind(b) for b in branches if not _is_null(b)}
        return kinds.pop() if len(kinds) == 1 else None
    kind = schema.get("type")
    if isinstance(kind, list):
        rest = [k for k in kind if k != "null"]
        kind = rest[0] if len(rest) == 1 else None
    if kind in ("integer", "number"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "string":
        fmt = schema.get("format")
        return {"time": "time", "date": "date", "date-time": "datetime"}.get(str(fmt), "string")
    if "enum" in schema and all(isinstance(v, str) for v in schema["enum"]):
        return "string"
    return None


def _is_null(schema: Any) -> bool:
    return isinstance(schema, Mapping) and schema.get("type") == "null"


def literal_kind(value: Any) -> str:
    """The kind a literal in a condition suggests: 1000 a number, '17:00' a time, ..."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        if _STRICT_TIME.match(value):
            return "time"
        if _STRICT_DATE.match(value):
            return "date"
        return "text"
    return "raw"
