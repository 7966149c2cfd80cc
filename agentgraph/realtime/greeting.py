"""`Greeting`: what an agent says first, before the caller says anything.

    RealtimeAgent(name="Desk", instructions="...", greeting="Hello, Acme dental, how can I help?")
    RealtimeAgent(name="Desk", greeting=Greeting(instructions="Greet the caller by name."))
    RealtimeRunner(agent, config={"greeting": "Hello!"})   # the graph-wide default

A plain string is text to say word for word; `Greeting(instructions=...)` lets the model
compose the first response. The session asks for that response as soon as it is connected
(for a phone call: as soon as the call is answered), with tools off, through an ordinary
`response.create` -- so it works the same on gpt-realtime and on the embedded engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Greeting", "GreetingLike", "normalize_greeting"]


@dataclass(frozen=True, slots=True)
class Greeting:
    """The first response of a session.

    Attributes:
        text: said word for word.
        instructions: guidance for the model's first response (it composes the words).
    """

    text: str | None = None
    instructions: str | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.text, self.instructions) if v is not None]
        if len(given) != 1 or not isinstance(given[0], str) or not given[0].strip():
            raise ValueError(
                "a greeting needs exactly one of text='...' (said word for word) or "
                "instructions='...' (the model composes it), as a non-empty string"
            )

    def response(self) -> dict[str, Any]:
        """The `response` object of the `response.create` that speaks the greeting."""
        if self.text is not None:
            # "Say exactly: ..." is also the form the embedded engine speaks verbatim.
            instructions = f"Say exactly: {self.text.strip()}"
        else:
            instructions = str(self.instructions).strip()
        return {"instructions": instructions, "tool_choice": "none"}


GreetingLike = Greeting | str | Mapping[str, Any] | None
"""What `greeting=` accepts: a `Greeting`, text, `{"text": ...}`/`{"instructions": ...}`."""


def normalize_greeting(value: GreetingLike) -> Greeting | None:
    """A `Greeting` (or None) from any accepted form.

    Raises:
        ValueError: empty text, both or neither of text/instructions, or an unknown key.
    """
    if value is None or isinstance(value, Greeting):
        return value
    if isinstance(value, str):
        return Greeting(text=value)
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {"text", "instructions"})
        if unknown:
            raise ValueError(
                f"unknown greeting key {unknown[0]!r}: use 'text' (said word for word) "
                "or 'instructions' (the model composes it)"
            )
        return Greeting(text=value.get("text"), instructions=value.get("instructions"))
    raise ValueError(f"a greeting is text, Greeting(...) or a mapping, not {type(value).__name__}")
