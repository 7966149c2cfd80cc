"""Approval policies: who must say yes before a tool runs, when, and with what question.

A tool with an `ApprovalPolicy` (or `needs_approval`) never runs without an approval.
`when` is evaluated on the arguments the tool will receive (validated, coerced, defaults
filled). `by="operator"` emits a `tool_approval_required` session event and waits for
`session.approve_tool_call(call_id)` / `reject_tool_call(call_id)`; `by="caller"` has the
model put the policy's `message` to the caller and takes only an answer begun after that
question was spoken in full (see `approval_book.py`). Nobody answering within `timeout_s`
counts as a rejection (`on_timeout="reject"`).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["ApprovalPolicy", "is_affirmative", "is_negative"]


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    """When a tool call needs an approval and who gives it.

    Attributes:
        when: a predicate over the call's arguments; `None` means every call.
        by: `"operator"` (the app approves via the session) or `"caller"` (asked on the call).
        message: a `str.format` template over the arguments, e.g. `"Book {date} at {time}?"`.
        timeout_s: how long to wait for an answer before `on_timeout` applies.
        on_timeout: what a missing answer means; only `"reject"` is allowed.
    """

    when: Callable[[dict[str, Any]], bool] | None = None
    by: Literal["caller", "operator"] = "operator"
    message: str | None = None
    timeout_s: float = 60.0
    on_timeout: Literal["reject"] = "reject"

    def __post_init__(self) -> None:
        if self.by not in ("caller", "operator"):
            raise ValueError(f"ApprovalPolicy.by must be 'caller' or 'operator', not {self.by!r}")
        if self.on_timeout != "reject":
            raise ValueError("ApprovalPolicy.on_timeout must be 'reject'")
        if self.timeout_s <= 0:
            raise ValueError("ApprovalPolicy.timeout_s must be positive")

    def applies(self, arguments: dict[str, Any]) -> bool:
        """Whether this call needs approval; a predicate that raises counts as yes (fail safe)."""
        if self.when is None:
            return True
        try:
            return bool(self.when(arguments))
        except Exception:
            return True

    def render_message(self, tool_name: str, arguments: dict[str, Any]) -> str:
        """The question to ask, with the arguments filled in; never raises."""
        template = self.message or f"May I run {tool_name.replace('_', ' ')}?"
        try:
            return string.Formatter().vformat(template, (), _DefaultDict(arguments))
        except (ValueError, IndexError, AttributeError, KeyError):
            return template


class _DefaultDict(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


_YES = re.compile(
    r"\b(yes|yeah|yep|yup|sure|ok|okay|correct|confirm(ed)?|go ahead|please do|do it|"
    r"absolutely|of course|right|affirmative|approved?)\b"
)
_NO = re.compile(r"\b(no|nope|nah|don'?t|do not|cancel|stop|never|negative|reject(ed)?|wait|not)\b")


def is_negative(text: str) -> bool:
    """Whether a caller's reply says no (checked before yes: "no, don't" wins)."""
    return bool(_NO.search(text.lower()))


def is_affirmative(text: str) -> bool:
    """Whether a caller's reply clearly says yes and not no."""
    lowered = text.lower()
    return bool(_YES.search(lowered)) and not _NO.search(lowered)
