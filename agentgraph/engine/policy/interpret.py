"""The interpreter: caller words -> which tool, which arguments, and how sure of each.

It sits between the recognizer and the policy (DESIGN: "the engine's understanding is
layered") and decides nothing: `choose_tool` scores every tool against the words and
says how clear the winner is, `extract` finds each argument's value normalised to the
parameter's JSON-schema type and description (times HH:MM, ISO dates, numbers from digits
or words, enum values, booleans, names, cities, account numbers) with a confidence. The
rules policy (`rules.py`) acts, confirms or asks from these numbers.

Scoring: a tool-name word the caller said counts 3, a description word 1 (2 when no other
tool uses it), a parameter word 1, an enum value 2, a value of a kind the tool wants
(city, date, time) 1. Words are stemmed and mapped through a small table of everyday
synonyms ("reserve" -> book, "cab" -> taxi, "film" -> movie) so callers need not use the
author's words.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from agentgraph.engine.lexicon import MONTHS
from agentgraph.engine.policy.base import ToolSpec
from agentgraph.engine.policy.slots import (
    _number_at,
    cities,
    find_city,
    find_name,
    first_names,
    last_names,
    normalize,
    parse_date,
    parse_number,
    parse_time,
    time_is_explicit,
    tokens,
)
from agentgraph.engine.policy.sounds import sounds_like
from agentgraph.engine.policy.words import (
    CHANGING_VERBS,
    LOOKUP_VERBS,
    NO,
    STOP,
    SYNONYMS,
    YES,
)

__all__ = [
    "Slot",
    "ToolGuess",
    "caller_words",
    "choose_tool",
    "content",
    "extract",
    "extract_shared_enum",
    "is_changing",
    "properties",
    "slot_kind",
    "split_name",
]

_CITY_KEYS = ("city", "location", "place", "destination", "origin", "town", "address", "pickup")
_NAME_KEYS = ("name", "customer", "person", "caller", "patient", "guest", "passenger")
_DIGIT_KEYS = ("number", "phone", "id", "code", "account", "tracking", "reference", "pin")


@dataclass(frozen=True, slots=True)
class Slot:
    """One argument value and how sure the interpreter is of it (0-1)."""

    value: Any
    confidence: float


@dataclass(frozen=True, slots=True)
class ToolGuess:
    """The best tool for the words, its score and how clear the choice is (0-1)."""

    tool: ToolSpec | None
    score: float
    confidence: float


def caller_words(text: str) -> list[str]:
    """Lower-case words, with "3pm" split to "3 pm" and "5-5-7" to "5 5 7"."""
    text = re.sub(r"\b([ap])\.m\.?", r"\1m", text, flags=re.IGNORECASE)
    text = re.sub(r"(\d)([ap]m)\b", r"\1 \2", text, flags=re.IGNORECASE)
    text = re.sub(r"\$(\d[\d,]*(?:\.\d+)?)", r"\1 dollars", text)
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"(?<=\d)-(?=\d)", " ", text)
    return tokens(text)


def stem(word: str) -> str:
    """A crude stem so "booking"/"booked"/"book" and "invoices"/"invoice" meet."""
    word = word.removesuffix("'s")
    if word in SYNONYMS:
        return SYNONYMS[word]
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    for suffix in ("ing", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    word = word.removesuffix("e") if len(word) > 3 else word
    return SYNONYMS.get(word, word)


def content(words: list[str]) -> set[str]:
    """The stemmed content words (stop words and digits dropped)."""
    return {stem(w) for w in words if w not in STOP and not w.isdigit()}


def split_name(name: str) -> list[str]:
    """`getOrderStatus` / `get_order_status` -> ["get", "order", "status"]."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name).replace("_", " ").replace("-", " ")
    return tokens(spaced)


def properties(tool: ToolSpec) -> dict[str, dict[str, Any]]:
    """The tool's parameter schemas by name (non-object entries dropped)."""
    props = tool.parameters.get("properties") or {}
    return {k: v for k, v in props.items() if isinstance(v, dict)}


def is_changing(tool: ToolSpec) -> bool:
    """Whether calling `tool` changes something (book, cancel, pay, send, order...).

    The verb of the name (`book_table`, `cancelAppointment`) or of the description's first
    word ("Orders a pizza") decides; a lookup verb first (`get_order_status`, "Look up the
    status of an order") makes it a lookup whatever noun follows. Handoffs only route.
    """
    if tool.is_handoff:
        return False
    name = [stem(w) for w in split_name(tool.name)]
    desc = [stem(w) for w in tokens(tool.description)[:3]]
    for first in (name[:1], desc[:1]):
        if first and first[0] in LOOKUP_VERBS:
            return False
    verbs = {stem(v) for v in CHANGING_VERBS}
    return bool(set(name) & verbs) or bool(desc[:1] and desc[0] in verbs)


def _score(tool: ToolSpec, words: list[str], said: set[str], rare: frozenset[str]) -> float:
    name_words = content(split_name(tool.name.removeprefix("transfer_to_")))
    # "check", "get", "find" in a name say little ("a check up"): they weigh 1, not 3
    weak = {w for w in name_words if w in LOOKUP_VERBS}
    score = 3.0 * len((name_words - weak) & said) + 1.0 * len(weak & said)
    desc = content(tokens(tool.description))
    for w in (desc - name_words) & said:
        score += 2.0 if w in rare else 1.0
    joined = " " + " ".join(words) + " "
    for key, schema in properties(tool).items():
        score += 1.0 * len(content(split_name(key)) & said - name_words - desc)
        for value in schema.get("enum") or []:
            if f" {normalize(str(value)).replace('_', ' ')} " in joined:
                score += 2.0
        kind = slot_kind(key, schema)
        if (kind == "city" and find_city(words)) or (
            kind in ("date", "time", "datetime") and (parse_time(words) or "tomorrow" in words)
        ):
            score += 1.0
    if tool.is_handoff and said & {"transfer", "speak", "talk", "connect", "person", "human"}:
        score += 0.5
    # "cancel my appointment" is not a booking: a changing tool whose own verb the caller
    # did not say, while saying another changing verb, is the wrong tool
    undo = {stem(v) for v in _UNDO_VERBS}
    tool_undoes = bool(undo & (name_words | desc))
    if is_changing(tool) and bool(said & undo) != tool_undoes:
        score -= 3.0
    return score


_UNDO_VERBS = ("cancel", "delete", "remove", "refund", "unsubscribe", "block", "freeze")


_QUESTION_WORDS = frozenset(
    [
        *("how", "what", "what's", "whats", "when", "when's", "where", "where's", "which"),
        *("who", "is", "are", "does", "do", "has", "have", "will"),
    ]
)


def choose_tool(
    words: list[str], tools: tuple[ToolSpec, ...], *, handoffs: bool = True
) -> ToolGuess:
    """The best-scoring tool and how clear it is: 1.0 clear, 0.6 likely, lower a guess."""
    candidates = [t for t in tools if handoffs or not t.is_handoff]
    said = content(words)
    counts: dict[str, int] = {}
    for tool in candidates:
        for w in content(tokens(tool.description)) | content(split_name(tool.name)):
            counts[w] = counts.get(w, 0) + 1
    rare = frozenset(w for w, n in counts.items() if n == 1)
    # a question ("how much would a taxi cost?") asks for a lookup, not an action
    asking = bool(words) and words[0] in _QUESTION_WORDS
    scored = sorted(
        (
            (
                _score(t, words, said, rare)
                + (1.5 if asking and not t.is_handoff and not is_changing(t) else 0.0),
                not t.is_handoff,
                i,
                t,
            )
            for i, t in enumerate(candidates)
        ),
        key=lambda s: (-s[0], not s[1], s[2]),
    )
    if not scored or scored[0][0] <= 0:
        return ToolGuess(None, 0.0, 0.0)
    best, second = scored[0][0], scored[1][0] if len(scored) > 1 else 0.0
    margin = best - second
    if best >= 3 and margin >= 2:
        confidence = 1.0
    elif best >= 2 and margin >= 1:
        confidence = 0.6
    elif best >= 2:
        confidence = 0.3
    else:
        confidence = 0.1
    return ToolGuess(scored[0][3], best, confidence)


def slot_kind(key: str, schema: dict[str, Any]) -> str:
    """What kind of value a parameter wants, from its type, format, name and description."""
    kind = schema.get("type")
    fmt = str(schema.get("format", ""))
    lowered = key.lower()
    desc = str(schema.get("description") or "").lower()
    if schema.get("enum"):
        return "enum"
    if kind in ("integer", "number"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if fmt == "date-time" or "datetime" in lowered or lowered in ("when", "start", "slot"):
        return "datetime"
    if fmt == "date" or "date" in lowered or lowered.endswith("day") or "yyyy" in desc:
        return "date"
    if fmt == "time" or "time" in lowered or "hour" in lowered or "hh:mm" in desc:
        return "time"
    if any(k in lowered for k in _CITY_KEYS):
        return "city"
    if any(k in lowered for k in _NAME_KEYS) and "number" not in lowered:
        return "name"
    if any(k in split_name(key) for k in _DIGIT_KEYS) or "digits" in desc:
        return "digits"
    return "string"


def extract(
    key: str, schema: dict[str, Any], words: list[str], today: Any, *, asked: bool = False
) -> Slot | None:
    """The value of parameter `key` in `words`, normalised to its type, with a confidence.

    `asked` means the words answer a question about this parameter, so a bare value
    ("four", "Lisbon", "yes") counts for it.
    """
    kind = slot_kind(key, schema)
    if kind == "enum":
        return _enum(schema["enum"], words, asked=asked)
    if kind == "number":
        number = _number_for(key, words, asked=asked)
        sure = 0.95
        if number is None:
            # "for people" answering "how many?", "a table for to": a homophone, a guess
            number = next(
                (
                    _HOMOPHONES[w]
                    for i, w in enumerate(words)
                    if w in _HOMOPHONES
                    and (
                        (asked and (i + 1 == len(words) or words[i + 1] in _COUNT_NOUNS))
                        or (i > 0 and words[i - 1] == "for" and words[i - 2 : i - 1] == ["table"])
                    )
                ),
                None,
            )
            sure = 0.5
        if number is None:
            return None
        value: Any = int(number) if schema.get("type") == "integer" else number
        return Slot(value, sure)
    if kind == "boolean":
        return _boolean(key, words, asked=asked)
    if kind == "date":
        date = parse_date(words, today)
        if date:
            return Slot(date, 0.95)
        near = sounds_like(words, list(_DAY_WORDS), None if asked else _DAY_CUES)
        date = parse_date([near[0]], today) if near else None
        return Slot(date, 0.5) if date else None
    if kind == "time":
        time = parse_time(words)
        if time is None:
            return None
        return Slot(time, 0.95 if time_is_explicit(words) else 0.7)
    if kind == "datetime":
        date, time = parse_date(words, today), parse_time(words)
        if date and time:
            return Slot(f"{date}T{time}", 0.95 if time_is_explicit(words) else 0.7)
        if date or time:
            return Slot(date or f"{today.isoformat()}T{time}", 0.6)
        return None
    if kind == "city":
        city = find_city(words)
        if city:
            return Slot(city, 0.95)
        near = sounds_like(words, cities().names, None if asked else _PLACE_CUES)
        return Slot(near[0], 0.5) if near else None
    if kind == "name":
        name = find_name(words)
        if name:
            return Slot(name, 0.95 if " " in name or asked else 0.85)
        return _name_sounds_like(words, asked=asked)
    if kind == "digits":
        return _digits(words, asked=asked)
    return None


_SPOKEN_DIGITS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "for": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_TENS_DIGITS = {
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
    "twenty": "2",
    "thirty": "3",
    "forty": "4",
    "fifty": "5",
    "sixty": "6",
    "seventy": "7",
    "eighty": "8",
    "ninety": "9",
}


def _digits(words: list[str], *, asked: bool) -> Slot | None:
    """An account, order or phone number said digit by digit, in pairs or as digits.

    "five five seven", "five fifty seven", "557", "double four one" all give "557"-style
    strings; the longest run of number words wins. "for" counts as 4 only inside a run.
    """
    best: list[str] = []
    run: list[str] = []
    pending_tens = False
    double = 1
    padded = [*words, ""]
    for i, w in enumerate(padded):
        nxt = padded[i + 1] if i + 1 < len(padded) else ""
        if w == "for" and not (nxt in _SPOKEN_DIGITS or nxt.isdigit()):
            w = ""  # "... six, for the riverside store": "for" is a word, not a 4
        if w.isdigit():
            run.append(w)
            pending_tens = False
        elif w in ("double", "triple"):
            double = 2 if w == "double" else 3
            continue
        elif w in _TENS_DIGITS and w not in _SPOKEN_DIGITS:
            digits = _TENS_DIGITS[w]
            run.append(digits)
            pending_tens = len(digits) == 1
        elif w in _SPOKEN_DIGITS and (w != "for" or run) and (w != "o" or run):
            digit = _SPOKEN_DIGITS[w]
            if pending_tens and digit != "0":
                run[-1] = str(int(run[-1]) * 10 + int(digit))
                pending_tens = False
            else:
                if pending_tens:
                    run[-1] += "0"
                    pending_tens = False
                run.append(digit * double)
        else:
            if pending_tens:
                run[-1] += "0"
                pending_tens = False
            if len("".join(run)) > len("".join(best)):
                best = run
            run = []
        double = 1
    value = "".join(best)
    if len(value) < 3:
        heard = _digits_by_sound(words)
        if heard is not None:
            return heard
    if len(value) < 3 and not (asked and value):
        return None
    if len(value) < 3:
        return Slot(value, 0.5)  # too short for an account or order number: check it
    return Slot(value, 0.9)


def _digits_by_sound(words: list[str]) -> Slot | None:
    """ "fine fine salmon" -> 557: digits misheard as words (a guess, confidence 0.5)."""
    names = [w for w in _SPOKEN_DIGITS if w not in ("oh", "o", "for")]
    run: list[str] = []
    best = ""
    for w in [*words, ""]:
        if w.isdigit():
            run.append(w)
            continue
        digit = _SPOKEN_DIGITS.get(w) if w not in ("for", "o") else None
        if digit is None and w and w not in STOP:
            near = sounds_like([w], names, min_ratio=0.6, min_phones=3, max_words=1)
            digit = _SPOKEN_DIGITS[near[0]] if near else None
        if digit is not None:
            run.append(digit)
            continue
        if len("".join(run)) > len(best):
            best = "".join(run)
        run = []
    return Slot(best, 0.5) if len(best) >= 3 else None


_COUNT_NOUNS = (
    "people",
    "persons",
    "person",
    "guests",
    "of us",
    "tickets",
    "seats",
    "adults",
    "children",
    "kids",
    "passengers",
    "nights",
    "rooms",
    "bags",
    "items",
    "pills",
)


def _number_for(key: str, words: list[str], *, asked: bool) -> float | None:
    """A number for `key`: after "for"/a count noun, or any number when asked or alone."""
    joined = " ".join(words)
    for noun in _COUNT_NOUNS:
        m = re.search(rf"(?:^|\s)((?:\S+\s){{1,3}}){noun}\b", joined)
        if m:
            value = parse_number(m.group(1).split()[-2:])
            if value is not None:
                return value
    m = re.search(r"\b(?:for|party of|table for|quantity|amount of)\s+(\S+(?:\s\S+)?)", joined)
    if m and not re.match(r"(?:\d{1,2}(?::\d\d)?\s*[ap]m|tomorrow|today)", m.group(1)):
        value = parse_number(m.group(1).split())
        if value is not None and parse_time(words) != _as_time(value):
            return value
    key_words = set(split_name(key))
    for i, w in enumerate(words):
        if stem(w) in {stem(k) for k in key_words} and i + 1 < len(words):
            value = parse_number(words[i + 1 : i + 3])
            if value is not None:
                return value
    if asked or len(words) <= 3:
        return parse_number(words)
    for i in range(len(words)):
        found = _number_at(words, i)
        if found is None or (i > 0 and words[i - 1] in _TIME_CUES):
            continue
        after = words[i + found[1] : i + found[1] + 1]
        if after and (after[0] in _NOT_COUNT or after[0] in MONTHS):
            continue
        if i > 0 and words[i - 1] in MONTHS:
            continue
        if after and after[0].endswith("s") and not after[0].isdigit():
            return float(found[0])  # "two pizzas"
    amount = re.search(r"(\d+(?:\.\d+)?)\s*(?:dollars|pounds|euros|bucks)?", joined)
    if amount and any(w in words for w in ("dollars", "pounds", "euros", "bucks")):
        return float(amount.group(1))
    return None


_HOMOPHONES = {
    "for": 4.0,
    "to": 2.0,
    "too": 2.0,
    "won": 1.0,
    "ate": 8.0,
    "tree": 3.0,
    "free": 3.0,
}
_TIME_CUES = frozenset(["at", "by", "around", "from", "until", "till", "the", "number"])
_NOT_COUNT = frozenset(["am", "pm", "o'clock", "th", "st", "nd", "rd", "minutes", "hours"])


def _as_time(value: float) -> str | None:
    return None if value > 24 else f"{int(value):02d}:00"


_SIDE_CUES = {
    "from": frozenset(["from", "out"]),
    "source": frozenset(["from", "out"]),
    "to": frozenset(["to", "into", "in"]),
    "destination": frozenset(["to", "into", "in"]),
    "target": frozenset(["to", "into", "in"]),
}


def extract_shared_enum(key: str, values: list[Any], words: list[str]) -> Slot | None:
    """An enum value for one of several parameters that share the same values.

    "from savings to checking": only a value right after the parameter's own cue word
    (from_account <- "from", to_account <- "to"/"into") counts; anything else is unknown,
    so the policy asks instead of putting the same account on both sides.
    """
    cues: set[str] = set()
    for part in split_name(key):
        cues |= _SIDE_CUES.get(part, frozenset())
    if not cues:
        return None
    wanted = {normalize(str(v)).replace("_", " "): v for v in values}
    for i, w in enumerate(words):
        if w in wanted:
            before = words[max(0, i - 3) : i]
            near = [b for b in before if b not in ("my", "the", "our", "account")]
            if near and near[-1] in cues:
                return Slot(wanted[w], 0.95)
    return None


def _enum(values: list[Any], words: list[str], *, asked: bool = False) -> Slot | None:
    joined = " " + " ".join(words) + " "
    for value in values:
        if f" {normalize(str(value)).replace('_', ' ')} " in joined:
            return Slot(value, 1.0)
    stems = [stem(w) for w in words]
    for value in values:
        wanted = [stem(w) for w in split_name(str(value))]
        if wanted and all(w in stems for w in wanted):
            return Slot(value, 0.9)
    by_text = {normalize(str(v)).replace("_", " "): v for v in values}
    for n in (3, 2, 1):
        for i in range(len(words) - n + 1):
            phrase = " ".join(words[i : i + n])
            close = difflib.get_close_matches(phrase, list(by_text), n=1, cutoff=0.8)
            if close and len(phrase) >= 4:
                return Slot(by_text[close[0]], 0.6)
    near = sounds_like(words, list(by_text), None if asked else _VALUE_CUES)
    return Slot(by_text[near[0]], 0.5) if near else None


_DAY_WORDS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "tomorrow",
    "today",
)


_DAY_CUES = frozenset(["on", "for", "this", "next", "until", "from", "it"])
_PLACE_CUES = frozenset(["to", "in", "at", "from", "near", "for"])
_VALUE_CUES = frozenset(["a", "the", "my", "for", "to", "from", "into", "of", "in"])
_NAME_CUES = frozenset(["is", "it's", "am", "i'm", "name"])


def _name_sounds_like(words: list[str], *, asked: bool) -> Slot | None:
    """ "semi brown" -> Emma Brown (a guess: confidence 0.5)."""
    if not asked:
        cue = next((i for i, w in enumerate(words) if w in _NAME_CUES), None)
        if cue is None:
            return None
        words = words[cue + 1 : cue + 5]
    first = sounds_like(words, first_names().names)
    last = sounds_like(words, last_names().names)
    if first and last and first[0] != last[0]:
        return Slot(f"{first[0]} {last[0]}", 0.5)
    return None


def _boolean(key: str, words: list[str], *, asked: bool) -> Slot | None:
    said = set(words)
    if asked:
        if said & YES and not said & NO:
            return Slot(True, 0.95)
        if said & NO:
            return Slot(False, 0.95)
    key_words = content(split_name(key)) - {"is", "has", "need", "want", "with", "include"}
    stems = [stem(w) for w in words]
    for i, w in enumerate(stems):
        if w in key_words:
            before = words[max(0, i - 3) : i]
            negated = any(b in ("no", "not", "without", "don't", "dont", "never") for b in before)
            return Slot(not negated, 0.8)
    return None
