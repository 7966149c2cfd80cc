"""The deterministic `rules` dialogue policy: tool choice and slot filling from the session.

Theory of operation. The policy knows nothing but what the protocol tells the server: the
session's instructions, its function tools (name, description, JSON-schema parameters,
including the runtime's `transfer_to_*` handoff tools) and the conversation. For each
response it looks at the newest item:

* a `function_call_output` -> say the output naturally (a string as is, an object as a
  short sentence); after a handoff, carry on with the caller's last request in the new
  agent's tools, or greet as the new agent;
* a user message -> answer a pending question (a missing argument or a yes/no
  confirmation), or score every tool against the words (name 3, enum value 2, parameter
  name and description word 1 each, +1 when a city/date/time the tool wants is present),
  fill its arguments and either call it or ask for the first missing required argument;
  small talk (greeting, thanks, bye, "what can you do", "repeat that") otherwise;
* no user input yet -> greet and say what it can help with.

It keeps one piece of state per session, the pending question, so answers carry across
turns. Same input, same output: no randomness and no clock (today's date is in the
context).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentgraph.engine.policy.base import Decision, PolicyContext, ToolCall, ToolSpec
from agentgraph.engine.policy.slots import (
    find_city,
    find_name,
    normalize,
    parse_date,
    parse_number,
    parse_time,
    tokens,
)

__all__ = ["RulesPolicy", "speak_output"]

_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "of",
        "for",
        "in",
        "on",
        "at",
        "is",
        "are",
        "was",
        "be",
        "been",
        "what",
        "what's",
        "whats",
        "which",
        "who",
        "i",
        "i'm",
        "me",
        "my",
        "you",
        "your",
        "we",
        "our",
        "please",
        "can",
        "could",
        "would",
        "will",
        "like",
        "want",
        "need",
        "and",
        "or",
        "with",
        "this",
        "that",
        "it",
        "its",
        "do",
        "does",
        "did",
        "get",
        "give",
        "tell",
        "about",
        "some",
        "any",
        "how",
        "current",
        "agent",
        "handle",
        "handles",
        "request",
        "transfer",
        "handoff",
        "from",
        "by",
        "as",
        "if",
        "not",
        "just",
        "let",
        "let's",
        "there",
        "here",
        "so",
        "up",
        "also",
        "new",
        "one",
        "the",
        "caller",
        "caller's",
        "user",
        "help",
        "assist",
        "question",
        "questions",
        "all",
        "into",
        "their",
        "them",
        "they",
    ]
)
_YES = frozenset(
    [
        "yes",
        "yeah",
        "yep",
        "yup",
        "sure",
        "correct",
        "right",
        "okay",
        "ok",
        "affirmative",
        "absolutely",
        "go",
    ]
)
_NO = frozenset(["no", "nope", "nah", "don't", "dont", "negative", "cancel"])
_GREETING = frozenset(["hello", "hi", "hey", "morning", "afternoon", "evening", "greetings"])
_CITY_KEYS = ("city", "location", "place", "destination", "origin", "town")
_NAME_KEYS = ("name", "customer", "person", "caller", "patient", "guest")
_MIN_SCORE = 2.0


def _stem(word: str) -> str:
    """A crude stem so "booking"/"booked"/"book" and "invoices"/"invoice" meet."""
    word = word.removesuffix("'s")
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    for suffix in ("ing", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    return word.removesuffix("e") if len(word) > 3 else word


def _content(words: list[str]) -> set[str]:
    return {_stem(w) for w in words if w not in _STOP and not w.isdigit()}


def _split_name(name: str) -> list[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name).replace("_", " ").replace("-", " ")
    return tokens(spaced)


def _humanize(name: str) -> str:
    return " ".join(_split_name(name))


def _handoff_target(tool: ToolSpec) -> str:
    return _humanize(tool.name.removeprefix("transfer_to_"))


@dataclass(slots=True)
class _Pending:
    """A question we asked and are waiting on: a missing argument or a confirmation."""

    tool: ToolSpec
    arguments: dict[str, Any]
    missing: str | None = None  # the argument we asked for; None = asked to confirm
    confirm: bool = False


@dataclass(slots=True)
class RulesPolicy:
    """The default policy: deterministic, works only from the session's tools and words."""

    _pending: _Pending | None = None
    _last_said: str = ""
    _slots_seen: dict[str, Any] = field(default_factory=dict)

    async def decide(
        self, ctx: PolicyContext, on_text: Callable[[str], None] | None = None
    ) -> Decision:
        """Produce the next response (see the module docstring for the rules)."""
        return self.decide_now(ctx)

    def decide_now(self, ctx: PolicyContext) -> Decision:
        """The synchronous form of `decide`."""
        decision = self._decide(ctx)
        if decision.text:
            self._last_said = decision.text
        return decision

    # -- the rules ---------------------------------------------------------------------

    def _decide(self, ctx: PolicyContext) -> Decision:
        literal = _literal_instruction(ctx.response_instructions)
        if literal:
            return Decision(text=literal)
        history = ctx.history
        if history and history[-1].role == "system":
            # A guardrail stopped the last answer (the runtime adds its rule as a system
            # message): say the rule's message instead of repeating the same answer.
            m = re.search(
                r"stopped by a guardrail: (.+?)\.? Answer the caller again",
                history[-1].text,
                re.DOTALL,
            )
            if m:
                return Decision(text=m.group(1).strip().rstrip(".") + ".")
        if ctx.response_instructions and re.search(
            r"\b(still working|one moment|filler)\b", ctx.response_instructions, re.IGNORECASE
        ):
            return Decision(text="One moment, I'm still working on that.")
        last = next((t for t in reversed(history) if t.role != "system"), None)
        if last is not None and last.role == "function_call_output":
            call = next(
                (
                    t
                    for t in reversed(history)
                    if t.role == "function_call" and t.call_id == last.call_id
                ),
                None,
            )
            if call is not None and call.name.startswith("transfer_to_"):
                return self._after_handoff(ctx)
            return Decision(text=speak_output(last.text))
        if last is None or last.role != "user":
            return Decision(text=self._greeting(ctx))
        return self._on_user(last.text, ctx)

    def _after_handoff(self, ctx: PolicyContext) -> Decision:
        self._pending = None
        user = next((t for t in reversed(ctx.history) if t.role == "user"), None)
        if user is not None:
            tool, _score = self._best_tool(tokens(user.text), ctx, handoffs=False)
            if tool is not None:
                return self._start_call(tool, tokens(user.text), ctx)
        return Decision(text=self._greeting(ctx, short=True))

    def _on_user(self, text: str, ctx: PolicyContext) -> Decision:
        words = tokens(text)
        if not words:  # nothing recognized, or the idle timeout fired
            return Decision(text="Sorry, I didn't catch that. Could you say it again?")
        word_set = set(words)
        pending = self._pending
        if pending is not None and not _tool_available(pending.tool, ctx):
            pending = self._pending = None
        if pending is not None and pending.confirm:
            if word_set & _YES and not word_set & _NO:
                self._pending = None
                return Decision(tool_calls=(ToolCall(pending.tool.name, pending.arguments),))
            if word_set & _NO:
                self._pending = None
                return Decision(text="Okay, I won't do that. What else can I do for you?")
        if word_set & {"stop", "cancel"} or "never mind" in " ".join(words):
            self._pending = None
            return Decision(text="Okay, stopped. What else can I do for you?")
        if "repeat" in word_set or "say that again" in " ".join(words):
            return Decision(text=self._last_said or self._greeting(ctx))
        if ctx.tool_choice != "none":
            tool, score = self._best_tool(words, ctx, handoffs=True)
            if (
                pending is not None
                and pending.missing is not None
                and (tool is None or tool.name == pending.tool.name or score < 3)
            ):
                return self._continue(pending, words, text, ctx)
            if tool is not None:
                return self._start_call(tool, words, ctx)
        if word_set & _GREETING:
            return Decision(text=self._greeting(ctx))
        if word_set & {"thanks", "thank"}:
            return Decision(text="You're welcome! Is there anything else?")
        if word_set & {"bye", "goodbye"}:
            return Decision(text="Goodbye, and have a nice day!")
        if word_set & (_YES | _NO) and len(words) <= 3:
            return Decision(text="Okay. What else can I do for you?")
        return Decision(text=self._capabilities(ctx, prefix="Sorry, I can't help with that."))

    def _best_tool(
        self, words: list[str], ctx: PolicyContext, *, handoffs: bool
    ) -> tuple[ToolSpec | None, float]:
        forced = ctx.tool_choice
        candidates = [t for t in ctx.tools if handoffs or not t.is_handoff]
        if isinstance(forced, dict) and forced.get("name"):
            match = [t for t in candidates if t.name == forced["name"]]
            return (match[0], 99.0) if match else (None, 0.0)
        content = _content(words)
        counts: dict[str, int] = {}
        for tool in candidates:
            for w in _content(tokens(tool.description)):
                counts[w] = counts.get(w, 0) + 1
        rare = frozenset(w for w, n in counts.items() if n == 1)
        best: tuple[ToolSpec | None, float] = (None, 0.0)
        for tool in candidates:
            score = _score(tool, words, content, rare)
            if score > best[1] or (
                score == best[1]
                and best[0] is not None
                and best[0].is_handoff
                and not tool.is_handoff
            ):
                best = (tool, score)
        if best[1] >= _MIN_SCORE or (forced == "required" and best[0] is not None):
            return best
        return None, best[1]

    def _start_call(self, tool: ToolSpec, words: list[str], ctx: PolicyContext) -> Decision:
        arguments = _fill(tool, words, ctx, asked=None)
        return self._next_step(_Pending(tool, arguments), ctx)

    def _continue(
        self, pending: _Pending, words: list[str], text: str, ctx: PolicyContext
    ) -> Decision:
        found = _fill(pending.tool, words, ctx, asked=pending.missing, raw=text)
        for key, value in found.items():
            pending.arguments.setdefault(key, value)
        if pending.missing is not None and pending.missing not in pending.arguments:
            self._pending = pending
            return Decision(
                text="Sorry, I didn't get that. " + _question(pending.tool, pending.missing)
            )
        return self._next_step(pending, ctx)

    def _next_step(self, pending: _Pending, ctx: PolicyContext) -> Decision:
        required = pending.tool.parameters.get("required") or []
        missing = [r for r in required if r not in pending.arguments]
        if missing:
            pending.missing = missing[0]
            self._pending = pending
            return Decision(text=_question(pending.tool, missing[0]))
        if _wants_confirmation(ctx) and not pending.tool.is_handoff and pending.arguments:
            pending.missing, pending.confirm = None, True
            self._pending = pending
            return Decision(
                text=f"Just to confirm: {_humanize(pending.tool.name)} with "
                f"{_describe_args(pending.arguments)}. Shall I go ahead?"
            )
        self._pending = None
        return Decision(tool_calls=(ToolCall(pending.tool.name, pending.arguments),))

    # -- what to say ---------------------------------------------------------------------

    def _greeting(self, ctx: PolicyContext, *, short: bool = False) -> str:
        m = re.search(
            r"\b(?:[Yy]ou are|[Yy]our name is|[Tt]his is)\s+([A-Z][a-z]+)\b", ctx.instructions
        )
        hello = f"Hello, this is {m.group(1)}." if m else "Hello!"
        if short or not ctx.tools:
            return f"{hello} How can I help you?"
        return self._capabilities(ctx, prefix=hello)

    def _capabilities(self, ctx: PolicyContext, *, prefix: str) -> str:
        phrases = [_capability(t) for t in ctx.tools][:4]
        if not phrases:
            return f"{prefix} How can I help you?"
        return f"{prefix} I can {_join(phrases)}. What would you like to do?"


def _tool_available(tool: ToolSpec, ctx: PolicyContext) -> bool:
    return any(t.name == tool.name for t in ctx.tools)


def _properties(tool: ToolSpec) -> dict[str, dict[str, Any]]:
    props = tool.parameters.get("properties") or {}
    return {k: v for k, v in props.items() if isinstance(v, dict)}


def _score(tool: ToolSpec, words: list[str], content: set[str], rare: frozenset[str]) -> float:
    name_words = _content(_split_name(tool.name.removeprefix("transfer_to_")))
    score = 3.0 * len(name_words & content)
    desc = _content(tokens(tool.description))
    # A description word no other tool uses is a strong cue ("invoices" -> billing).
    for w in (desc - name_words) & content:
        score += 2.0 if w in rare else 1.0
    joined = " " + " ".join(words) + " "
    for key, schema in _properties(tool).items():
        score += 1.0 * len(_content(_split_name(key)) & content - name_words - desc)
        for value in schema.get("enum") or []:
            if f" {normalize(str(value)).replace('_', ' ')} " in joined:
                score += 2.0
        kind = _slot_kind(key, schema)
        if (kind == "city" and find_city(words)) or (
            kind in ("date", "time", "datetime") and (parse_time(words) or "tomorrow" in words)
        ):
            score += 1.0
    if tool.is_handoff and content & {"transfer", "speak", "talk", "connect"}:
        score += 0.5
    return score


def _slot_kind(key: str, schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    fmt = schema.get("format", "")
    lowered = key.lower()
    if schema.get("enum"):
        return "enum"
    if kind in ("integer", "number"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if fmt == "date-time" or "datetime" in lowered or lowered in ("when", "start", "slot"):
        return "datetime"
    if fmt == "date" or "date" in lowered or lowered.endswith("day"):
        return "date"
    if fmt == "time" or "time" in lowered or "hour" in lowered:
        return "time"
    if any(k in lowered for k in _CITY_KEYS):
        return "city"
    if any(k in lowered for k in _NAME_KEYS):
        return "name"
    if "phone" in lowered or "number" in lowered:
        return "digits"
    return "string"


def _fill(
    tool: ToolSpec,
    words: list[str],
    ctx: PolicyContext,
    *,
    asked: str | None,
    raw: str = "",
) -> dict[str, Any]:
    """Arguments for `tool` found in `words`; `asked` takes the whole answer as a fallback."""
    out: dict[str, Any] = {}
    for key, schema in _properties(tool).items():
        value = _extract(key, schema, words, ctx)
        if value is None and key == asked:
            value = _answer_as_value(schema, raw or " ".join(words))
        if value is not None:
            out[key] = value
    return out


def _extract(key: str, schema: dict[str, Any], words: list[str], ctx: PolicyContext) -> Any:
    kind = _slot_kind(key, schema)
    if kind == "enum":
        joined = " " + " ".join(words) + " "
        for value in schema["enum"]:
            if f" {normalize(str(value)).replace('_', ' ')} " in joined:
                return value
        return None
    if kind == "number":
        number = parse_number(words)
        if number is None:
            return None
        return int(number) if schema.get("type") == "integer" else number
    if kind == "boolean":
        if set(words) & _YES:
            return True
        return False if set(words) & _NO else None
    if kind == "date":
        return parse_date(words, ctx.today)
    if kind == "time":
        return parse_time(words)
    if kind == "datetime":
        date, time = parse_date(words, ctx.today), parse_time(words)
        if date and time:
            return f"{date}T{time}"
        return date or (f"{ctx.today.isoformat()}T{time}" if time else None)
    if kind == "city":
        return find_city(words)
    if kind == "name":
        return find_name(words)
    if kind == "digits":
        digits = "".join(_digits(words))
        return digits if len(digits) >= 3 else None
    return None


def _digits(words: list[str]) -> list[str]:
    spoken = {
        "zero": "0",
        "oh": "0",
        "one": "1",
        "two": "2",
        "three": "3",
        "four": "4",
        "five": "5",
        "six": "6",
        "seven": "7",
        "eight": "8",
        "nine": "9",
    }
    return [w if w.isdigit() else spoken[w] for w in words if w.isdigit() or w in spoken]


def _answer_as_value(schema: dict[str, Any], text: str) -> Any:
    """Take a short free answer ("Lisbon", "it's for Maria") as the asked-for value."""
    if schema.get("type") not in (None, "string") or schema.get("enum"):
        return None
    cleaned = re.sub(
        r"^(?:it's|it is|that's|that is|um|uh|the|for|in|my \w+ is)\s+",
        "",
        text.strip(),
        flags=re.IGNORECASE,
    ).strip(" .!?")
    if not cleaned or len(cleaned.split()) > 8:
        return None
    return cleaned[0].upper() + cleaned[1:]


def _question(tool: ToolSpec, key: str) -> str:
    schema = _properties(tool).get(key, {})
    label = _humanize(key)
    desc = str(schema.get("description") or "").strip().rstrip(".")
    if desc and len(desc.split()) <= 6:
        label = desc[0].lower() + desc[1:]
    enum = schema.get("enum")
    options = f" You can say {_join([str(v) for v in enum], 'or')}." if enum else ""
    kind = _slot_kind(key, schema)
    if kind == "city":
        return "Which city?"
    if kind == "name" and key.lower() == "name":
        return "May I have your name?"
    if kind in ("date", "datetime") and not desc:
        return f"For which day?{options}"
    if kind == "time" and not desc:
        return "At what time?"
    return f"What {label} would you like?{options}"


def _wants_confirmation(ctx: PolicyContext) -> bool:
    return bool(re.search(r"\bconfirm\b", ctx.instructions, re.IGNORECASE))


def _describe_args(arguments: dict[str, Any]) -> str:
    return _join([f"{_humanize(k)} {_say_value(v)}" for k, v in arguments.items()])


def _literal_instruction(instructions: str | None) -> str | None:
    """Text a per-response instruction asks to say verbatim ("Say: ...", quoted text)."""
    if not instructions:
        return None
    m = re.search(
        r"^(?:say|ask|tell)(?: the (?:caller|user))?(?: exactly)?\s*[:,]\s*(.+)$",
        instructions.strip(),
        re.IGNORECASE | re.DOTALL,
    )
    if m:
        return m.group(1).strip().strip('"“”')
    m = re.search(r"[\"“]([^\"”]{3,})[\"”]", instructions)
    if m and re.search(r"\b(say|ask|tell|read)\b", instructions, re.IGNORECASE):
        return m.group(1).strip()
    return None


def _capability(tool: ToolSpec) -> str:
    if tool.is_handoff:
        return f"transfer you to {_handoff_target(tool)}"
    first = re.split(r"(?<=[.!?])\s", tool.description.strip())[0].rstrip(".!? ")
    if not first:
        return _humanize(tool.name)
    words = first.split()
    verb = words[0].lower()
    if verb.endswith("s") and not verb.endswith("ss") and len(verb) > 3:
        verb = verb[:-2] if verb.endswith(("ches", "shes", "xes")) else verb[:-1]
    return " ".join([verb, *words[1:]])


def _join(items: list[str], conj: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


def _say_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return _join([_say_value(v) for v in value])
    if isinstance(value, dict):
        return _join([f"{_humanize(str(k))} {_say_value(v)}" for k, v in value.items()])
    return str(value)


def speak_output(output: str) -> str:
    """A tool output as speech: a string as is, an object as a short sentence."""
    text = output.strip()
    try:
        value = json.loads(text)
    except ValueError:
        return text or "Done."
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("message", "text", "summary", "answer", "result", "status"):
            if isinstance(value.get(key), str) and value[key].strip():
                return str(value[key])
        if "error" in value:
            return f"Sorry, that didn't work: {_say_value(value['error'])}."
        pairs = [f"{_humanize(str(k))} is {_say_value(v)}" for k, v in value.items()][:5]
        if not pairs:
            return "Done."
        sentence = _join(pairs)
        return sentence[0].upper() + sentence[1:] + "."
    if value is None:
        return "Done."
    return f"The result is {_say_value(value)}."
