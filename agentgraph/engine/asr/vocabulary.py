"""The recognizer's per-session language: sentences built from what the protocol says.

The generic pocketsphinx model is poor on synthetic voices, a language model built for the
session is excellent (issue 4). So the corpus is: the session's instructions, tool names,
descriptions, parameter names and enum values (handoff tools included); a base set of
conversational phrases; and class vocabularies shipped with the package (world cities,
first and family names, numbers, dates and times) expanded through a few templates per
tool, so "what's the weather in Lisbon" is likely although no graph mentions Lisbon.
Pure: text in, sentences out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from agentgraph.engine.lexicon import MONTHS, ORDINALS, TENS, UNITS

__all__ = ["base_phrases", "class_sentences", "session_sentences", "session_text"]

_NUMBERS = [*list(UNITS)[1:], *TENS, "hundred", "thousand", "zero"]
_HOURS = list(UNITS)[1:13]
_MINUTES = ("", " fifteen", " thirty", " forty five", " o'clock")
_DAYS = (
    "today",
    "tomorrow",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "next monday",
    "next friday",
    "the day after tomorrow",
)
_MONTHS = list(MONTHS)
# the parser's ordinals, plus "twenty-first" so the model also hears it as one phrase
_ORDINALS = [*list(ORDINALS)[:-1], "twenty-first", "thirtieth"]
_PREFIXES = (
    "",
    "what's the",
    "what is the",
    "how is the",
    "i want to",
    "i'd like to",
    "can you",
    "please",
    "i need to",
)
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def _words(text: str) -> str:
    return " ".join(_WORD.findall(text.lower().replace("’", "'").replace("_", " ")))


def _sentences(text: str) -> list[str]:
    return [s for part in re.split(r"[.!?;:\n]+", text) if (s := _words(part))]


def _lines(name: str) -> list[str]:
    text = resources.files("agentgraph.engine").joinpath("data", name).read_text("utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


@cache
def base_phrases() -> tuple[str, ...]:
    """The shipped conversational phrases (greetings, yes/no, repeat, stop...)."""
    return tuple(_words(p) for p in _lines("base_phrases.txt"))


def _number_sentences() -> list[str]:
    out = list(_NUMBERS)
    out.extend(f"{t} {u}" for t in ("twenty", "thirty", "forty", "fifty") for u in _HOURS[:9])
    return out


def _when_sentences() -> list[str]:
    out: list[str] = []
    for day in _DAYS:
        for hour in _HOURS:
            minutes = _MINUTES[(len(day) + len(hour)) % len(_MINUTES)]
            out.append(f"{day} at {hour}{minutes} pm")
            out.append(f"{day} at {hour}{minutes} am")
    out.extend(f"at {h}{m}" for h in _HOURS for m in _MINUTES)
    out.extend(f"at {h} in the morning" for h in _HOURS[:11])
    out.extend(f"at {h} in the afternoon" for h in _HOURS[:6])
    out.extend(("at noon", "at midnight", "half past two", "quarter to five"))
    for i, month in enumerate(_MONTHS):
        out.append(f"on {month} {_ORDINALS[i % len(_ORDINALS)].replace('-', ' ')}")
        out.append(f"on the {_ORDINALS[(i + 5) % len(_ORDINALS)].replace('-', ' ')} of {month}")
    return out


def _name_sentences() -> list[str]:
    out: list[str] = []
    firsts = [_words(n) for n in _lines("first_names.txt")]
    lasts = [_words(n) for n in _lines("last_names.txt")]
    for i, first in enumerate(firsts):
        out.append(f"my name is {first} {lasts[i % len(lasts)]}")
    return out


@cache
def class_sentences(kind: str) -> tuple[str, ...]:
    """Short sentences for one class vocabulary: city, name, when or number."""
    if kind == "city":
        return tuple(f"in {_words(c)}" for c in _lines("cities.txt"))
    if kind == "name":
        return tuple(_name_sentences())
    if kind == "when":
        return tuple(_when_sentences())
    return tuple(_number_sentences())


def session_text(session: dict[str, Any]) -> str:
    """The session fields the vocabulary depends on (a cache key for rebuilding)."""
    parts = [str(session.get("instructions") or "")]
    audio = session.get("audio") if isinstance(session.get("audio"), dict) else None
    transcription = ((audio or {}).get("input") or {}).get("transcription")
    if isinstance(transcription, dict) and transcription.get("prompt"):
        parts.append(str(transcription["prompt"]))
    for tool in session.get("tools") or []:
        if isinstance(tool, dict):
            parts.append(repr((tool.get("name"), tool.get("description"), tool.get("parameters"))))
    return "\n".join(parts)


_VERBS = frozenset(
    [
        "get",
        "check",
        "find",
        "lookup",
        "look",
        "fetch",
        "search",
        "show",
        "list",
        "set",
        "create",
        "make",
    ]
)


def _tool_phrases(tool: dict[str, Any]) -> tuple[list[str], str, list[str]]:
    """(phrases naming the tool, its head noun phrase, its slot kinds) for one tool."""
    name = str(tool.get("name") or "")
    desc = str(tool.get("description") or "")
    target = _words(name.removeprefix("transfer_to_"))
    words = target.split()
    while len(words) > 1 and words[0] in _VERBS:
        words = words[1:]
    head = " ".join(words)
    phrases = [target]
    first, *rest = target.split() or [""]
    if rest and not name.startswith("transfer_to_"):
        article = "an" if rest[0][0] in "aeiou" else "a"
        phrases.extend((f"{first} {article} {' '.join(rest)}", f"{first} the {' '.join(rest)}"))
    phrases.extend(_sentences(desc))
    if name.startswith("transfer_to_"):
        phrases.extend(
            (f"transfer me to {target}", f"talk to {target}", f"i have a question about {target}")
        )
    params = tool.get("parameters") or {}
    props = params.get("properties") if isinstance(params, dict) else None
    kinds: list[str] = []
    for key, schema in (props or {}).items():
        phrases.append(_words(key))
        if not isinstance(schema, dict):
            continue
        if schema.get("description"):
            phrases.extend(_sentences(str(schema["description"])))
        for value in schema.get("enum") or []:
            phrases.append(_words(str(value)))
        lowered = key.lower()
        if any(k in lowered for k in ("city", "location", "place", "destination", "town")):
            kinds.append("city")
        elif any(k in lowered for k in ("date", "day", "time", "when", "slot")):
            kinds.append("when")
        elif any(k in lowered for k in ("name", "customer", "person", "patient", "guest")):
            kinds.append("name")
        elif schema.get("type") in ("integer", "number") or "number" in lowered:
            kinds.append("number")
    return [p for p in phrases if p], head, kinds


def session_sentences(session: dict[str, Any]) -> list[str]:
    """The whole training corpus for one session, one sentence per entry.

    Sentences from the session's own tools are repeated so the n-gram model prefers them
    over the class vocabularies, which are included only for the slot kinds in use.
    """
    out: list[str] = list(base_phrases())
    out.extend(_sentences(str(session.get("instructions") or "")))
    kinds_used: set[str] = set()
    cities = [_words(c) for c in _lines("cities.txt")]
    for tool in session.get("tools") or []:
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            continue
        phrases, head, kinds = _tool_phrases(tool)
        kinds_used.update(kinds)
        own = list(phrases)
        own.extend(_join(p, phrases[min(1, len(phrases) - 1)]) for p in _PREFIXES)
        own.extend(_join(p, head) for p in _PREFIXES)
        out.extend(own * 3)
        if "city" in kinds:
            for city in cities:
                out.append(f"what's the {head} in {city}")
                out.append(f"{head} in {city}")
        if "when" in kinds:
            for day in _DAYS:
                out.append(f"{phrases[0]} for {day} at three pm")
                out.append(f"i'd like to {phrases[0]} {day} at ten am")
        if "name" in kinds:
            out.append(f"{phrases[0]} for john smith")
    for kind in sorted(kinds_used | {"number"}):
        out.extend(class_sentences(kind))
    return out


def _join(*parts: Iterable[str] | str) -> str:
    return " ".join(p for p in parts if isinstance(p, str) and p)
