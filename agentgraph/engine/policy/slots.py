"""Slot values from what a caller said: numbers, dates, times, cities and names.

Everything works on lower-case word lists as a recognizer produces them ("three pm",
"twenty two"), and on typed text ("3 pm", "22"). Dates need today's date, which the caller
passes in (no clock here), so the results are deterministic.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from importlib import resources

from agentgraph.engine.lexicon import MONTHS, ORDINALS, TENS, UNITS

__all__ = [
    "Gazetteer",
    "cities",
    "find_city",
    "find_name",
    "first_names",
    "last_names",
    "normalize",
    "parse_date",
    "parse_number",
    "parse_time",
    "time_is_explicit",
    "tokens",
]

# Spoken forms the parser also accepts: "oh five", "a hundred", "an hour".
_UNITS = {**UNITS, "oh": 0, "a": 1, "an": 1}
_TENS = TENS
_ORDINALS = ORDINALS
_MONTHS = {name: number for number, name in enumerate(MONTHS, start=1)}
_WEEKDAYS = {
    name: i
    for i, name in enumerate(
        ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    )
}
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?(?::[0-9]{2})?")


def normalize(text: str) -> str:
    """Lower-case, unify apostrophes and spell '%' so text and transcripts compare alike."""
    return text.lower().replace("’", "'").replace("%", " percent")


def tokens(text: str) -> list[str]:
    """Lower-case words of `text` (keeps "what's" and "3:30" whole)."""
    return _WORD.findall(normalize(text))


def _number_at(words: list[str], i: int) -> tuple[int, int] | None:
    """Parse a spoken or written number starting at `words[i]`: (value, words used)."""
    if i >= len(words):
        return None
    if words[i].isdigit():
        return int(words[i]), 1
    total, current, used, last = 0, 0, 0, ""
    while i + used < len(words):
        w = words[i + used]
        nxt = words[i + used + 1] if i + used + 1 < len(words) else ""
        if w in _TENS and last in ("", "hundred", "thousand"):
            current, last = current + _TENS[w], "tens"
        elif w in ("a", "an"):
            if last or nxt not in ("hundred", "thousand"):
                break
            current, last = 1, "unit"
        elif w in _UNITS and w != "oh" and last in ("", "tens", "hundred", "thousand"):
            if last == "tens" and _UNITS[w] >= 10:
                break
            current, last = current + _UNITS[w], "unit"
        elif w == "hundred" and last == "unit":
            current, last = current * 100, "hundred"
        elif w == "thousand" and last in ("unit", "tens", "hundred"):
            total, current, last = total + current * 1000, 0, "thousand"
        elif w == "and" and last in ("hundred", "thousand") and (nxt in _UNITS or nxt in _TENS):
            pass
        else:
            break
        used += 1
    if not used or last == "":
        return None
    return total + current, used


def parse_number(text: str | list[str]) -> float | None:
    """The first number in the text: "22", "twenty two", "3.5", "a hundred and five"."""
    if isinstance(text, str):
        m = re.search(r"-?\d+(?:\.\d+)?", text)
        digit_value = float(m.group()) if m else None
        words = tokens(text)
    else:
        digit_value, words = None, text
    for i in range(len(words)):
        found = _number_at(words, i)
        if found is not None:
            value = float(found[0])
            if digit_value is not None and words[i].isdigit():
                return digit_value
            return value
    return digit_value


def parse_time(text: str | list[str]) -> str | None:
    """A time of day as "HH:MM": "three pm", "3:30 pm", "half past two", "noon", "15:00"."""
    words = tokens(text) if isinstance(text, str) else text
    joined = " ".join(words)
    if "noon" in words or "midday" in words:
        return "12:00"
    if "midnight" in words:
        return "00:00"
    m = re.search(r"\b(\d{1,2}):(\d{2})\b", joined)
    hour: int | None = None
    minute = 0
    end = 0
    if m:
        hour, minute, end = int(m.group(1)), int(m.group(2)), len(joined[: m.end()].split())
    else:
        for i, w in enumerate(words):
            if w in ("half", "quarter") and i + 2 < len(words) and words[i + 1] in ("past", "to"):
                found = _number_at(words, i + 2)
                if found and 1 <= found[0] <= 12:
                    delta = 30 if w == "half" else 15
                    hour, minute = found[0], delta
                    if words[i + 1] == "to":
                        hour, minute = (found[0] - 1) % 12 or 12, 60 - delta
                    end = i + 2 + found[1]
                    break
            marks = ("am", "pm", "a.m.", "p.m.", "o'clock")
            cue = (
                w in ("at", "by", "around", "from")
                or (i + 1 < len(words) and words[i + 1] in marks)
                # "nine fifteen pm": the hour is the word before the minutes
                or (i + 2 < len(words) and words[i + 2] in marks and words[i + 1] not in marks)
            )
            if not cue:
                continue
            start = i + 1 if w in ("at", "by", "around", "from") else i
            found = _number_at(words, start)
            if found is None or not 0 <= found[0] <= 24:
                if found is not None and 100 <= found[0] <= 2359 and found[0] % 100 < 60:
                    hour, minute, end = found[0] // 100, found[0] % 100, start + found[1]
                    break
                continue
            hour, end = found[0], start + found[1]
            nxt = _number_at(words, end)
            if nxt is not None and nxt[0] < 60 and words[end] not in ("am", "pm"):
                minute, end = nxt[0], end + nxt[1]
            break
    if hour is None:
        return None
    rest = words[end : end + 2]
    if any(w in ("pm", "p.m.", "evening", "afternoon", "tonight") for w in rest) or (
        "afternoon" in words or "evening" in words or "tonight" in words
    ):
        if hour < 12:
            hour += 12
    elif any(w in ("am", "a.m.", "morning") for w in rest) or "morning" in words:
        if hour == 12:
            hour = 0
    elif 1 <= hour <= 6:
        hour += 12  # "at three" in a booking means the afternoon
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return f"{hour:02d}:{minute:02d}"


def time_is_explicit(words: list[str]) -> bool:
    """Whether a time in `words` says which half of the day it is ("3 pm", "15:00", "noon")."""
    if set(words) & {"am", "pm", "morning", "afternoon", "evening", "tonight", "noon"}:
        return True
    if set(words) & {"midday", "midnight"}:
        return True
    return any(re.fullmatch(r"(?:0\d|1[3-9]|2[0-3]):\d\d", w) for w in words)


def parse_date(text: str | list[str], today: dt.date) -> str | None:
    """A calendar date as "YYYY-MM-DD": "tomorrow", "next friday", "march fifth", "2026-12-01"."""
    raw = text if isinstance(text, str) else " ".join(text)
    m = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", raw)
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        except ValueError:
            return None
    words = tokens(raw) if isinstance(text, str) else text
    joined = " ".join(words)
    if "day after tomorrow" in joined:
        return (today + dt.timedelta(days=2)).isoformat()
    if "tomorrow" in words:
        return (today + dt.timedelta(days=1)).isoformat()
    if "today" in words or "tonight" in words:
        return today.isoformat()
    for i, w in enumerate(words):
        if w in _WEEKDAYS:
            ahead = (_WEEKDAYS[w] - today.weekday()) % 7
            if ahead == 0 or (i > 0 and words[i - 1] == "next" and ahead < 7):
                ahead = ahead or 7
            return (today + dt.timedelta(days=ahead)).isoformat()
        if w in _MONTHS:
            day = _day_near(words, i)
            if day is not None:
                return _next_date(today, _MONTHS[w], day)
    for i, w in enumerate(words):
        if (w == "the" and i + 1 < len(words) and words[i + 1] in _ORDINALS) or (
            re.fullmatch(r"\d{1,2}(st|nd|rd|th)", w)
        ):
            day = _ORDINALS.get(words[i + 1]) if w == "the" else int(re.sub(r"\D", "", w))
            if day:
                month = today.month if day >= today.day else today.month % 12 + 1
                return _next_date(today, month, day)
    return None


def _day_near(words: list[str], i: int) -> int | None:
    """The day number next to a month name: "march fifth", "5 march", "the fifth of march"."""
    for j in (i + 1, i + 2, i - 1, i - 2):
        if 0 <= j < len(words):
            w = words[j]
            if w in _ORDINALS:
                day = _ORDINALS[w]
                if j > 0 and words[j - 1] in _TENS:
                    day += _TENS[words[j - 1]]
                return day
            digits = re.fullmatch(r"(\d{1,2})(st|nd|rd|th)?", w)
            if digits:
                return int(digits.group(1))
            if w in _TENS and j + 1 < len(words) and words[j + 1] in _ORDINALS:
                return _TENS[w] + _ORDINALS[words[j + 1]]
    return None


def _next_date(today: dt.date, month: int, day: int) -> str | None:
    for year in (today.year, today.year + 1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            return None
        if candidate >= today:
            return candidate.isoformat()
    return None


class Gazetteer:
    """Multi-word names (cities, people) found in word lists, longest match first."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self._by_words: dict[tuple[str, ...], str] = {tuple(tokens(n)): n for n in names}
        self._max_words = max((len(k) for k in self._by_words), default=1)

    def find(self, words: list[str]) -> str | None:
        """The first name in `words` (as written in the list), or None."""
        for i in range(len(words)):
            for n in range(min(self._max_words, len(words) - i), 0, -1):
                hit = self._by_words.get(tuple(words[i : i + n]))
                if hit is not None:
                    return hit
        return None


def _load(name: str) -> list[str]:
    text = resources.files("agentgraph.engine").joinpath("data", name).read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


@cache
def cities() -> Gazetteer:
    """The shipped world-city gazetteer."""
    return Gazetteer(_load("cities.txt"))


@cache
def first_names() -> Gazetteer:
    """The shipped list of common first names."""
    return Gazetteer(_load("first_names.txt"))


@cache
def last_names() -> Gazetteer:
    """The shipped list of common family names."""
    return Gazetteer(_load("last_names.txt"))


def find_city(words: list[str], extra: list[str] | None = None) -> str | None:
    """A city from the gazetteer (or from `extra`, e.g. enum values in the session)."""
    if extra:
        hit = Gazetteer(extra).find(words)
        if hit:
            return hit
    return cities().find(words)


def find_name(words: list[str]) -> str | None:
    """A person's name: "first last", a known first name, or what follows "my name is"."""
    for i, w in enumerate(words):
        if first_names().find([w]):
            first = first_names().find([w])
            last = last_names().find(words[i + 1 : i + 2]) if i + 1 < len(words) else None
            return f"{first} {last}" if last else first
    joined = " ".join(words)
    m = re.search(
        r"\b(?:my name is|name is|this is|i am|i'm|call me)\s+([a-z]+(?: [a-z]+)?)", joined
    )
    if m:
        return " ".join(p.capitalize() for p in m.group(1).split())
    return None
