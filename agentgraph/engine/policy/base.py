"""What a dialogue policy sees and decides, independent of the wire.

The server core turns the conversation (items), the session (instructions, tools) and the
`response.create` overrides into a `PolicyContext`; a policy answers with a `Decision`:
words to speak and/or function calls to make. Policies never see JSON events or audio.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = ["Decision", "Policy", "PolicyContext", "ToolCall", "ToolSpec", "Turn"]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function tool as declared in the session (`tools[]` of type function)."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def is_handoff(self) -> bool:
        return self.name.startswith("transfer_to_")


@dataclass(frozen=True, slots=True)
class Turn:
    """One conversation item reduced to what a policy needs.

    `role` is user, assistant, system, function_call or function_call_output. `heard`
    marks speech the recognizer transcribed (it may have misheard; typed text is exact).
    """

    role: Literal["user", "assistant", "system", "function_call", "function_call_output"]
    text: str = ""
    name: str = ""
    call_id: str = ""
    arguments: str = ""
    heard: bool = False  # the text is a recognizer's transcript of caller audio


@dataclass(frozen=True, slots=True)
class PolicyContext:
    """Everything a policy may use to produce one response."""

    instructions: str
    tools: tuple[ToolSpec, ...]
    history: tuple[Turn, ...]
    today: dt.date
    tool_choice: str | dict[str, Any] = "auto"
    response_instructions: str | None = None
    response_metadata: dict[str, Any] | None = None  # the client's response.metadata


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call the policy wants the client to run."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's answer: text to say (may be empty) and calls to make (may be empty)."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()


class Policy(Protocol):
    """A dialogue policy; one instance per session, so it may keep conversation state."""

    async def decide(
        self, ctx: PolicyContext, on_text: Callable[[str], None] | None = None
    ) -> Decision:
        """Produce the next response for `ctx`.

        A streaming policy may hand finished sentences to `on_text` early; the returned
        decision then holds only the text not yet given, plus the tool calls.
        """
        ...
