"""What the rules policy says, in the caller's words: questions, read-backs, outputs.

Internal names never reach the caller: a tool is described by its description ("check
the weather for a city"), another agent by its `handoff_description`, an argument by its
description or its name in words, and a tool error or a refused approval by what it means
for the caller ("I couldn't get that done just now"), not by the runtime's text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agentgraph.engine.policy.base import ToolSpec
from agentgraph.engine.policy.interpret import properties, slot_kind, split_name

__all__ = [
    "capabilities",
    "capability",
    "describe_call",
    "humanize",
    "join",
    "question",
    "say_value",
    "speak_output",
]

_VERBS = frozenset(
    [
        "answer",
        "book",
        "cancel",
        "change",
        "check",
        "deal",
        "handle",
        "help",
        "look",
        "manage",
        "order",
        "pay",
        "process",
        "schedule",
        "sell",
        "send",
        "take",
        "track",
        "explain",
        "arrange",
        "organise",
        "organize",
        "plan",
        "refund",
        "sort",
        "support",
        "find",
        "get",
        "give",
        "reserve",
        "buy",
        "renew",
        "refill",
        "report",
        "fix",
        "repair",
        "resolve",
    ]
)
_HANDOFF = re.compile(r"^Handoff to the .+? agent to handle the request\.?\s*", re.IGNORECASE)


def humanize(name: str) -> str:
    """`get_order_status` -> "get order status"."""
    return " ".join(split_name(name))


def join(items: list[str], conj: str = "and") -> str:
    """ "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


def _base_verb(words: list[str]) -> list[str]:
    verb = words[0].lower()
    if verb.endswith("ies") and len(verb) > 4:
        verb = verb[:-3] + "y"
    elif verb.endswith(("ches", "shes", "xes", "sses")):
        verb = verb[:-2]
    elif verb.endswith("s") and not verb.endswith("ss") and len(verb) > 3:
        verb = verb[:-1]
    return [verb, *words[1:]]


def capability(tool: ToolSpec) -> str:
    """What a tool does for the caller, as a verb phrase ("check the weather for a city")."""
    if tool.is_handoff:
        about = _HANDOFF.sub("", tool.description.strip()).strip().rstrip(".")
        if about:
            words = about.split()
            if " ".join(_base_verb(words[:1])) in _VERBS and len(words) > 1:
                return " ".join(_base_verb(words))  # "Books appointments" -> book ...
            return f"help with {about[0].lower() + about[1:]}"
        return "connect you with a colleague"
    first = re.split(r"(?<=[.!?])\s", tool.description.strip())[0].rstrip(".!? ")
    if not first:
        return humanize(tool.name)
    words = _base_verb(first.split())
    if words[0] in ("use", "call") and len(words) > 2 and words[1] in ("to", "this"):
        words = words[2:] if words[1] == "to" else words
    return " ".join(words)


def capabilities(tools: tuple[ToolSpec, ...], *, limit: int = 4) -> str:
    """ "check the weather for a city and book a table" (tools first, handoffs after)."""
    ordered = [t for t in tools if not t.is_handoff] + [t for t in tools if t.is_handoff]
    phrases: list[str] = []
    for tool in ordered:
        phrase = capability(tool)
        if phrase not in phrases:
            phrases.append(phrase)
    return join(phrases[:limit])


def handoff_phrase(tool: ToolSpec) -> str:
    """How to mention another agent: by what it helps with, never by its key."""
    return capability(tool)


def question(tool: ToolSpec, key: str) -> str:
    """The question that asks the caller for argument `key`."""
    schema = properties(tool).get(key, {})
    label = humanize(key)
    desc = str(schema.get("description") or "").strip().rstrip(".")
    short = desc
    if short and len(short.split()) <= 6 and not re.search(r"[,;(]|\bwhat\b", short):
        label = re.sub(r"^(?:the|a|an|your)\s+", "", short[0].lower() + short[1:])
    enum = schema.get("enum")
    options = f" You can say {join([humanize(str(v)) for v in enum], 'or')}." if enum else ""
    kind = slot_kind(key, schema)
    if kind == "city":
        return "Which city?"
    if kind == "name" and key.lower() in ("name", "full_name", "customer_name"):
        return "May I have your name?"
    if kind in ("date", "datetime"):
        return f"What date would you like?{options}"
    if kind == "time":
        return "At what time?"
    if kind == "boolean":
        return f"Would you like {label}? Yes or no?"
    if kind == "digits":
        return f"What is the {label}?"
    if kind == "number" and not enum:
        return f"How many {label}?" if "count" in key or "number_of" in key else f"What {label}?"
    return f"What {label} would you like?{options}"


def say_value(value: Any) -> str:
    """A value as words a listener understands."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return join([say_value(v) for v in value])
    if isinstance(value, dict):
        return join([f"{humanize(str(k))} {say_value(v)}" for k, v in value.items()])
    if isinstance(value, str) and re.fullmatch(r"\d{3,}", value):
        return " ".join(value)  # an order or account number, digit by digit
    return str(value)


def describe_call(tool: ToolSpec, arguments: dict[str, Any]) -> str:
    """ "book a table: party size 2, time 20:00" for a read-back."""
    what = capability(tool)
    args = join([f"{humanize(k)} {say_value(v)}" for k, v in arguments.items()])
    return f"{what}, with {args}" if args else what


_REFUSED = re.compile(r"did not approve|was not approved|no approval arrived", re.IGNORECASE)
_ERROR = re.compile(
    r"^(?:error\b|error running tool|invalid arguments for tool)|traceback", re.IGNORECASE
)


def speak_output(output: str) -> str:
    """A tool output as speech: a string as is, an object as a short sentence.

    Runtime texts about refused approvals and tool errors become caller words.
    """
    text = output.strip()
    if _REFUSED.search(text):
        if "no approval arrived" in text.lower():
            return "I couldn't get that approved in time, so I haven't done it."
        return "Okay, I haven't done that. Is there anything else I can help with?"
    if _ERROR.search(text):
        if "timed out" in text.lower():
            return "Sorry, that's taking too long on our side. Could we try again in a moment?"
        return "Sorry, something went wrong on our side and I couldn't do that. Shall we try again?"
    try:
        value = json.loads(text)
    except ValueError:
        return text or "Done."
    if isinstance(value, str):
        return speak_output(value) if value.strip() != text else value
    if isinstance(value, dict):
        for key in ("message", "text", "summary", "answer", "result", "status"):
            if isinstance(value.get(key), str) and value[key].strip():
                return str(value[key])
        if "error" in value:
            return "Sorry, that didn't work: " + say_value(value["error"]).rstrip(".") + "."
        pairs = [f"{humanize(str(k))} is {say_value(v)}" for k, v in value.items()][:5]
        if not pairs:
            return "Done."
        sentence = join(pairs)
        return sentence[0].upper() + sentence[1:] + "."
    if value is None:
        return "Done."
    return f"The result is {say_value(value)}."
