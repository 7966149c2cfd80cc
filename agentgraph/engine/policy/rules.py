"""The deterministic `rules` dialogue policy: act, confirm, ask or answer.

Theory of operation. The policy knows nothing but what the protocol tells the server: the
session's instructions, its function tools (name, description, JSON-schema parameters,
including the runtime's `transfer_to_*` handoff tools) and the conversation. The
interpreter (`interpret.py`) turns the caller's words into a tool guess and argument
values, each with a confidence; this module only decides:

* **act** when the tool is clear and every required argument is known well enough;
* **confirm** ("Just to confirm: book a table, with party size 2 and time 20:00. Shall I
  go ahead?") before any tool that changes something (book, cancel, pay, send, order,
  delete, transfer...) unless it was typed and every value is certain, and whenever the
  instructions ask for confirmation. A changing tool is never called on a guess;
* **check** one uncertain value of a lookup ("Did you say order 5 5 7?");
* **ask** for the first missing required argument ("Which day would you like?");
* **answer** greetings, thanks, "how are you", "what can you do" (from the tools'
  descriptions, in the caller's terms) and anything it cannot place with a short reply
  and a way forward.

Corrections ("actually make it Wednesday", "no, four people") replace the slot they name
in the open request, or in the last call made (which is then confirmed again). "Cancel my
appointment" goes to a cancel tool; only a bare "stop"/"cancel that"/"never mind" drops
the open request. When the instructions name a lookup tool before a changing one ("call
check_availability ... then call book_appointment"), the lookup runs first, once its
arguments are known. State per session: the open request and the last call. Same input,
same output: no randomness and no clock (today's date is in the context).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agentgraph.engine.policy.base import Decision, PolicyContext, ToolCall, ToolSpec, Turn
from agentgraph.engine.policy.interpret import (
    Slot,
    caller_words,
    choose_tool,
    extract,
    extract_shared_enum,
    is_changing,
    properties,
    slot_kind,
)
from agentgraph.engine.policy.say import (
    capabilities,
    capability,
    describe_call,
    humanize,
    question,
    say_value,
    speak_output,
)
from agentgraph.engine.policy.words import GREETING, NO, YES

__all__ = ["RulesPolicy", "speak_output"]

_ACT = 0.6  # a lookup acts on values at least this sure
_CERTAIN = 0.9  # a typed changing call acts without a read-back only above this
_CORRECTION = re.compile(
    r"^(?:no|nope|sorry|actually|oh|wait|um|uh|well)\b|\b(?:actually|instead|i meant|"
    r"make it|change it to|change that to|rather|not\s+\w+\s+but)\b"
)
_STOP_ONLY = re.compile(
    r"^(?:(?:oh|um|uh|no|okay|ok|please|just)\s+)*(?:stop|cancel|cancel (?:that|it|this)|"
    r"never ?mind|forget (?:it|that|about it)|nothing)(?:\s+(?:please|then|thanks))?$"
)
_CAPABILITY = re.compile(
    r"\bwhat (?:can|could|do) you (?:do|help)|\bhow can you help|\bwhat (?:can|could) i ask"
    r"|\bwhat are (?:my|the|your) options|\bwhat do you offer|\bwhat services"
    r"|\bwho are you\b|\bwhat are you\b|\bwhat is this\b|\bhow does this work"
)
_HOW_ARE_YOU = re.compile(r"\bhow are you|\bhow's it going|\bhow are things|\bhow do you do")
_LOOKUP_BEFORE = re.compile(r"\bcall\s+(\w+)", re.IGNORECASE)


@dataclass(slots=True)
class _Request:
    """The caller's open request: a tool, what we know of its arguments, what we asked."""

    tool: ToolSpec
    slots: dict[str, Slot] = field(default_factory=dict)
    tool_sure: bool = True
    asked: str | None = None  # the argument we asked for
    confirming: bool = False  # we read the call back and wait for yes/no
    checking: str | None = None  # we asked "did you say X?" about this argument
    offered: bool = False  # we asked "would you like me to <capability>?"
    heard: bool = False  # some of it came from speech (a recognizer can mishear)
    looked_up: set[str] = field(default_factory=set)

    def arguments(self) -> dict[str, Any]:
        return {k: s.value for k, s in self.slots.items()}


@dataclass(slots=True)
class RulesPolicy:
    """The default policy: deterministic, works only from the session's tools and words."""

    _pending: _Request | None = None
    _last_said: str = ""
    _last_call: _Request | None = None
    _lookup_call: str = ""

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

    def open_question(self) -> tuple[str, dict[str, Any], str] | None:
        """(tool, arguments so far, what we wait for) of the open request, if any.

        What we wait for is `confirm` (a read-back), `offer` (whether to use the tool),
        `check:<arg>` (did you say...) or `ask:<arg>` (a missing argument).
        """
        p = self._pending
        if p is None:
            return None
        if p.confirming:
            waiting = "confirm"
        elif p.offered:
            waiting = "offer"
        elif p.checking:
            waiting = f"check:{p.checking}"
        else:
            waiting = f"ask:{p.asked}"
        return p.tool.name, p.arguments(), waiting

    # -- the rules ---------------------------------------------------------------------

    def _decide(self, ctx: PolicyContext) -> Decision:
        literal = _literal_instruction(ctx.response_instructions)
        if literal:
            return Decision(text=literal)
        history = ctx.history
        metadata = ctx.response_metadata or {}
        if metadata.get("agentgraph") == "guardrail" and metadata.get("guardrail_message"):
            # A guardrail blocked the last answer: say its configured message instead.
            return Decision(text=str(metadata["guardrail_message"]))
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
            said = speak_output(last.text)
            if call is not None and call.name == self._lookup_call and self._pending:
                self._lookup_call = ""
                follow = self._next_step(self._pending, ctx)
                return Decision(text=f"{said} {follow.text}".strip(), tool_calls=follow.tool_calls)
            return Decision(text=said)
        if last is None or last.role != "user":
            return Decision(text=self._greeting(ctx))
        return self._on_user(last, ctx)

    def _after_handoff(self, ctx: PolicyContext) -> Decision:
        self._pending = None
        user = next((t for t in reversed(ctx.history) if t.role == "user"), None)
        if user is not None:
            words = caller_words(user.text)
            guess = choose_tool(words, ctx.tools, handoffs=False)
            if guess.tool is not None and guess.confidence >= _ACT:
                return self._start(guess.tool, words, ctx, heard=_heard(user), sure=True)
        return Decision(text=self._greeting(ctx, short=True))

    def _on_user(self, turn: Turn, ctx: PolicyContext) -> Decision:
        words = caller_words(turn.text)
        heard = _heard(turn)
        if not words:  # nothing recognized, or the idle timeout fired
            return Decision(text="Sorry, I didn't catch that. Could you say it again?")
        joined = " ".join(words)
        said = set(words)
        pending = self._pending
        if pending is not None and not _available(pending.tool, ctx):
            pending = self._pending = None
        if _STOP_ONLY.match(joined):
            self._pending = None
            return Decision(text="Okay, I've stopped. What else can I do for you?")
        if pending is not None and (pending.confirming or pending.checking or pending.offered):
            answered = self._answer_yes_no(pending, words, ctx, heard)
            if answered is not None:
                return answered
        if "repeat" in said or "say that again" in joined or "come again" in joined:
            return Decision(text=self._last_said or self._greeting(ctx))
        if _CAPABILITY.search(joined):
            return Decision(text=self._capabilities(ctx, prefix="I can"))
        guess = choose_tool(words, ctx.tools) if ctx.tool_choice != "none" else None
        forced = _forced_tool(ctx)
        if forced is not None:
            return self._start(forced, words, ctx, heard=heard, sure=True)
        if pending is not None and pending.asked is not None:
            if guess is None or guess.tool is None or guess.tool.name == pending.tool.name:
                return self._continue(pending, words, ctx, heard)
            if guess.confidence < 1.0:
                return self._continue(pending, words, ctx, heard)
        if guess is not None and guess.tool is not None:
            correction = self._correction(words, ctx, heard, guess.confidence)
            if correction is not None:
                return correction
            if guess.confidence >= _ACT or (ctx.tool_choice == "required" and guess.confidence > 0):
                return self._start(guess.tool, words, ctx, heard=heard, sure=True)
            if guess.score >= 2 and not guess.tool.is_handoff:
                request = _Request(guess.tool, _fill(guess.tool, words, ctx), heard=heard)
                request.offered, request.tool_sure = True, False
                self._pending = request
                return Decision(text=f"Would you like me to {capability(guess.tool)}?")
        elif guess is not None:
            correction = self._correction(words, ctx, heard, 0.0)
            if correction is not None:
                return correction
        return self._small_talk(words, ctx)

    def _answer_yes_no(
        self, pending: _Request, words: list[str], ctx: PolicyContext, heard: bool
    ) -> Decision | None:
        """The caller's answer to a read-back, an offer or a "did you say"."""
        said = set(words)
        found = _fill(pending.tool, words, ctx, asked=_only_number(pending.tool))
        new = {
            k: s
            for k, s in found.items()
            if k not in pending.slots or pending.slots[k].value != s.value
        }
        yes = bool(said & YES) and not said & NO
        no = bool(said & NO) or "cancel" in said
        if new and (no or not yes or _CORRECTION.search(" ".join(words))):
            for key, slot in new.items():
                pending.slots[key] = Slot(slot.value, max(slot.confidence, _CERTAIN))
            pending.confirming, pending.checking, pending.offered = False, None, False
            pending.heard = pending.heard or heard
            return self._next_step(pending, ctx, reconfirm=True)
        if yes:
            if pending.confirming:
                self._pending = None
                return self._call(pending)
            if pending.checking:
                key = pending.checking
                pending.slots[key] = Slot(pending.slots[key].value, 1.0)
                pending.checking = None
            pending.offered, pending.tool_sure = False, True
            return self._next_step(pending, ctx)
        if no:
            if pending.checking:
                key, pending.checking = pending.checking, None
                pending.slots.pop(key, None)
                pending.asked = key
                self._pending = pending
                return Decision(text=f"Sorry about that. {question(pending.tool, key)}")
            if pending.offered:
                self._pending = None
                return Decision(text="Alright. What would you like to do?")
            pending.confirming = False
            pending.asked = None
            self._pending = pending
            return Decision(text="Okay, I haven't done it. What would you like to change?")
        return None

    def _correction(
        self, words: list[str], ctx: PolicyContext, heard: bool, clarity: float
    ) -> Decision | None:
        """ "actually make it Wednesday": replace a slot of the open request or last call."""
        joined = " ".join(words)
        if not _CORRECTION.search(joined) or clarity >= 1.0:
            return None
        base = self._pending or self._last_call
        if base is None or not _available(base.tool, ctx):
            return None
        found = _fill(base.tool, words, ctx, asked=_only_number(base.tool))
        changed = {
            k: s for k, s in found.items() if k not in base.slots or base.slots[k].value != s.value
        }
        if not changed:
            return None
        request = _Request(base.tool, dict(base.slots), heard=base.heard or heard)
        for key, slot in changed.items():
            request.slots[key] = Slot(slot.value, max(slot.confidence, _CERTAIN))
        return self._next_step(request, ctx, reconfirm=base is self._last_call)

    def _start(
        self, tool: ToolSpec, words: list[str], ctx: PolicyContext, *, heard: bool, sure: bool
    ) -> Decision:
        request = _Request(tool, _fill(tool, words, ctx), tool_sure=sure, heard=heard)
        return self._next_step(request, ctx)

    def _continue(
        self, pending: _Request, words: list[str], ctx: PolicyContext, heard: bool
    ) -> Decision:
        asked = pending.asked
        found = _fill(pending.tool, words, ctx, asked=asked)
        pending.heard = pending.heard or heard
        for key, slot in found.items():
            if key == asked or key not in pending.slots or _CORRECTION.search(" ".join(words)):
                pending.slots[key] = slot
        if asked is not None and asked not in pending.slots:
            self._pending = pending
            other = [k for k in found if k != asked]
            got = f"Got it, {say_value(found[other[0]].value)}. " if other else "Sorry, "
            return Decision(text=got + question(pending.tool, asked))
        return self._next_step(pending, ctx)

    def _next_step(
        self, request: _Request, ctx: PolicyContext, *, reconfirm: bool = False
    ) -> Decision:
        tool = request.tool
        request.asked = None
        lookup = self._lookup_first(request, ctx)
        if lookup is not None:
            return lookup
        required = tool.parameters.get("required") or []
        missing = [r for r in required if r not in request.slots]
        if missing:
            request.asked = missing[0]
            self._pending = request
            return Decision(text=question(tool, missing[0]))
        changing = is_changing(tool)
        unsure = sorted((s.confidence, k) for k, s in request.slots.items())
        if not changing and unsure and unsure[0][0] < _ACT and not tool.is_handoff:
            key = unsure[0][1]
            request.checking = key
            self._pending = request
            value = say_value(request.slots[key].value)
            return Decision(text=f"Did you say {humanize(key)} {value}?")
        certain = request.tool_sure and all(
            s.confidence >= _CERTAIN for s in request.slots.values()
        )
        wants = _wants_confirmation(ctx) and bool(request.slots) and not tool.is_handoff
        if wants or (changing and (reconfirm or request.heard or not certain)):
            request.confirming = True
            self._pending = request
            return Decision(
                text=f"Just to confirm: {describe_call(tool, request.arguments())}. "
                "Shall I go ahead?"
            )
        self._pending = None
        return self._call(request)

    def _call(self, request: _Request) -> Decision:
        if not request.tool.is_handoff:
            self._last_call = request
        return Decision(tool_calls=(ToolCall(request.tool.name, request.arguments()),))

    def _lookup_first(self, request: _Request, ctx: PolicyContext) -> Decision | None:
        """Run the lookup the instructions name before this changing tool, once."""
        if not is_changing(request.tool):
            return None
        named = [m.group(1) for m in _LOOKUP_BEFORE.finditer(ctx.instructions)]
        if request.tool.name not in named:
            return None
        for name in named[: named.index(request.tool.name)]:
            lookup = next((t for t in ctx.tools if t.name == name), None)
            if lookup is None or is_changing(lookup) or name in request.looked_up:
                continue
            required = lookup.parameters.get("required") or []
            args = {k: s.value for k, s in request.slots.items() if k in properties(lookup)}
            if not required or any(r not in args for r in required):
                continue
            request.looked_up.add(name)
            self._pending = request
            self._lookup_call = name
            return Decision(tool_calls=(ToolCall(name, args),))
        return None

    # -- what to say ---------------------------------------------------------------------

    def _small_talk(self, words: list[str], ctx: PolicyContext) -> Decision:
        said = set(words)
        joined = " ".join(words)
        if _HOW_ARE_YOU.search(joined):
            return Decision(text="I'm doing well, thank you! How can I help you today?")
        if said & {"thanks", "thank", "cheers"}:
            return Decision(text="You're welcome! Is there anything else I can do for you?")
        if said & {"bye", "goodbye"} or "that's all" in joined or "that is all" in joined:
            return Decision(text="Goodbye, and have a nice day!")
        if said & GREETING:
            return Decision(text=self._greeting(ctx))
        if said & (YES | NO) and len(words) <= 3:
            return Decision(text="Okay. What else can I do for you?")
        return Decision(
            text=self._capabilities(ctx, prefix="Sorry, I'm not sure I can help with that. I can")
        )

    def _greeting(self, ctx: PolicyContext, *, short: bool = False) -> str:
        m = re.search(
            r"\b(?:[Yy]ou are|[Yy]our name is|[Tt]his is)\s+([A-Z][a-z]+)\b", ctx.instructions
        )
        hello = f"Hello, this is {m.group(1)}." if m else "Hello!"
        if short or not ctx.tools:
            return f"{hello} How can I help you?"
        return self._capabilities(ctx, prefix=f"{hello} I can")

    def _capabilities(self, ctx: PolicyContext, *, prefix: str) -> str:
        can = capabilities(ctx.tools)
        if not can:
            return f"{prefix.removesuffix(' I can')} How can I help you?".strip()
        return f"{prefix} {can}. What would you like to do?"


def _heard(turn: Turn) -> bool:
    return bool(getattr(turn, "heard", False))


def _available(tool: ToolSpec, ctx: PolicyContext) -> bool:
    return any(t.name == tool.name for t in ctx.tools)


def _only_number(tool: ToolSpec) -> str | None:
    """The tool's one numeric parameter: "make it three hundred" can only mean it."""
    numbers = [k for k, s in properties(tool).items() if slot_kind(k, s) == "number"]
    return numbers[0] if len(numbers) == 1 else None


def _forced_tool(ctx: PolicyContext) -> ToolSpec | None:
    forced = ctx.tool_choice
    if isinstance(forced, dict) and forced.get("name"):
        return next((t for t in ctx.tools if t.name == forced["name"]), None)
    return None


def _fill(
    tool: ToolSpec, words: list[str], ctx: PolicyContext, *, asked: str | None = None
) -> dict[str, Slot]:
    """Argument values for `tool` found in `words`; `asked` also takes a bare answer."""
    out: dict[str, Slot] = {}
    props = properties(tool)
    enum_sets = [tuple(s.get("enum") or ()) for s in props.values()]
    for key, schema in props.items():
        values = tuple(schema.get("enum") or ())
        if values and enum_sets.count(values) > 1 and key != asked:
            slot = extract_shared_enum(key, list(values), words)
        else:
            slot = extract(key, schema, words, ctx.today, asked=key == asked)
        if slot is None and key == asked:
            value = _answer_as_value(key, schema, words)
            slot = Slot(value, 0.9) if value is not None else None
        if slot is not None:
            out[key] = slot
    return out


def _answer_as_value(key: str, schema: dict[str, Any], words: list[str]) -> Any:
    """A short free answer ("Lisbon", "it's for Maria") as the asked-for string value."""
    if schema.get("type") not in (None, "string") or schema.get("enum"):
        return None
    if slot_kind(key, schema) in ("date", "time", "datetime", "digits"):
        return None  # a date that did not parse is not a date: ask again
    text = " ".join(words)
    cleaned = re.sub(
        r"^(?:(?:it's|it is|that's|that is|um|uh|er|well|oh|the|for|in|to|yes|yeah|"
        r"my \w+ is|it's called|i'd like|i want|please)\s+)+",
        "",
        text,
    ).strip(" .!?")
    cleaned = re.sub(r"\s+please$", "", cleaned)
    if not cleaned or len(cleaned.split()) > 8 or set(cleaned.split()) <= (YES | NO):
        return None
    if slot_kind(key, schema) == "city":
        m = re.search(r"\b(?:to|in|at|from|near)\s+(.+)$", cleaned)
        cleaned = m.group(1) if m else cleaned
    if slot_kind(key, schema) in ("name", "city"):
        if len(cleaned.split()) > 3:
            return None  # a sentence, not a name: ask again
        return " ".join(w.capitalize() for w in cleaned.split())
    return cleaned


def _wants_confirmation(ctx: PolicyContext) -> bool:
    return bool(re.search(r"\bconfirm\b", ctx.instructions, re.IGNORECASE))


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
