"""Output guardrails: checks on what the agent says, run on its transcript as it grows.

The session runs each guardrail every `debounce_length` characters of agent transcript
(at sentence ends, and once more on the final transcript). A trip truncates the audio,
cancels the response, emits `guardrail_tripped` and has the agent say the guardrail's
`message` (never its `output_info`). A guardrail that raises blocks the reply (fail closed)
unless `on_error="allow"`.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, overload

__all__ = [
    "GuardrailFunctionOutput",
    "RealtimeOutputGuardrail",
    "output_guardrail",
]


@dataclass(frozen=True, slots=True)
class GuardrailFunctionOutput:
    """What a guardrail function returns.

    Attributes:
        output_info: anything worth logging about the check (never spoken to the caller).
        tripwire_triggered: True stops the response.
    """

    output_info: Any
    tripwire_triggered: bool


GuardrailFunction = Callable[
    [Any, Any, str], GuardrailFunctionOutput | Awaitable[GuardrailFunctionOutput]
]


@dataclass(frozen=True, slots=True)
class RealtimeOutputGuardrail:
    """A check run on the agent's transcript: `guardrail_function(context, agent, text)`.

    Attributes:
        guardrail_function: sync or async `(context, agent, text) -> GuardrailFunctionOutput`.
        name: shown in events and logs (default: the function's name).
        debounce_length: run again after this many new transcript characters.
        message: what the agent says instead of a blocked reply, e.g. "I can't quote prices".
        on_error: `"block"` (default: a guardrail that raises blocks the reply) or `"allow"`.
        hold_back_ms: delay agent audio by this much while this guardrail is active, so a
            check can cut a reply before the caller hears it (for models whose transcript
            trails their audio, e.g. gpt-realtime: ~500-1500 ms; default 0 adds no latency).
    """

    guardrail_function: GuardrailFunction
    name: str | None = None
    debounce_length: int = 100
    message: str | None = None
    on_error: Literal["block", "allow"] = "block"
    hold_back_ms: int = 0

    def __post_init__(self) -> None:
        if self.debounce_length < 1:
            raise ValueError("debounce_length must be at least 1")
        if self.on_error not in ("block", "allow"):
            raise ValueError(f"on_error must be 'block' or 'allow', not {self.on_error!r}")
        if self.hold_back_ms < 0:
            raise ValueError("hold_back_ms must not be negative")

    def get_name(self) -> str:
        """The guardrail's display name."""
        return self.name or str(getattr(self.guardrail_function, "__name__", "guardrail"))

    async def run(self, context: Any, agent: Any, text: str) -> GuardrailFunctionOutput:
        """Run the check on `text`; a sync function runs inline (checks are meant to be cheap)."""
        result = self.guardrail_function(context, agent, text)
        if inspect.isawaitable(result):
            result = await result
        if not isinstance(result, GuardrailFunctionOutput):
            raise TypeError(
                f"guardrail {self.get_name()} returned {type(result).__name__}, "
                "expected GuardrailFunctionOutput"
            )
        return result


@overload
def output_guardrail(func: GuardrailFunction) -> RealtimeOutputGuardrail: ...


@overload
def output_guardrail(
    func: None = None,
    *,
    name: str | None = None,
    debounce_length: int = 100,
    message: str | None = None,
    on_error: Literal["block", "allow"] = "block",
) -> Callable[[GuardrailFunction], RealtimeOutputGuardrail]: ...


def output_guardrail(
    func: GuardrailFunction | None = None,
    *,
    name: str | None = None,
    debounce_length: int = 100,
    message: str | None = None,
    on_error: Literal["block", "allow"] = "block",
) -> RealtimeOutputGuardrail | Callable[[GuardrailFunction], RealtimeOutputGuardrail]:
    """Decorator: `@output_guardrail` turns a function into a `RealtimeOutputGuardrail`."""

    def wrap(f: GuardrailFunction) -> RealtimeOutputGuardrail:
        return RealtimeOutputGuardrail(
            f, name=name, debounce_length=debounce_length, message=message, on_error=on_error
        )

    return wrap if func is None else wrap(func)
