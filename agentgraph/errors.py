"""The exceptions agentgraph raises, in one tree.

```
AgentGraphError          base of everything we raise on purpose; has exit_code and format()
  SpecError              the user's YAML is wrong: carries findings with locations, exit 1
  UsageError             bad CLI invocation or missing optional piece: exit 2
  PluginError            an entry point or import string is missing or broken
  ConnectionClosed       the peer went away (code, reason)
  ProtocolError          the peer broke the wire rules
  InvalidState           the API was misused (also a RuntimeError)
```

The CLI catches `AgentGraphError` in one place, prints `err.format()` to stderr and exits
with `err.exit_code`. Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

__all__ = [
    "AgentGraphError",
    "ConnectionClosed",
    "InvalidState",
    "PluginError",
    "ProtocolError",
    "SpecError",
    "UsageError",
]


class AgentGraphError(Exception):
    """Base class: an error meant for the person running agentgraph."""

    exit_code: int = 1

    def format(self) -> str:
        """The text the CLI prints: one line, or a block for findings."""
        return f"error: {self}"


class _FindingLike(Protocol):
    @property
    def severity(self) -> str: ...

    def format(self) -> str: ...


class SpecError(AgentGraphError):
    """The graph file is wrong; `findings` holds every problem found, errors and warnings.

    The findings are `agentgraph.spec.Finding` values (typed structurally here so this
    module stays at the bottom of the import graph).
    """

    exit_code = 1

    def __init__(self, findings: Sequence[_FindingLike]) -> None:
        self.findings = tuple(findings)
        errors = sum(1 for f in self.findings if f.severity == "error")
        super().__init__(f"{errors} error(s) in graph")

    def format(self) -> str:
        """Every finding, compiler style, then a one-line summary."""
        errors = sum(1 for f in self.findings if f.severity == "error")
        warnings = len(self.findings) - errors
        body = "\n".join(f.format() for f in self.findings)
        summary = f"{errors} error(s), {warnings} warning(s)"
        return f"{body}\n{summary}" if body else summary


class UsageError(AgentGraphError):
    """Bad command-line use, or an optional piece that is not installed."""

    exit_code = 2


class PluginError(AgentGraphError):
    """A tool or guardrail reference could not be imported or does not fit."""


class ConnectionClosed(AgentGraphError):
    """The peer closed the connection; `code` and `reason` say how."""

    def __init__(self, code: int | None, reason: str = "") -> None:
        super().__init__(f"connection closed (code {code}){': ' + reason if reason else ''}")
        self.code = code
        self.reason = reason


class ProtocolError(AgentGraphError):
    """The peer sent something the protocol does not allow."""


class InvalidState(AgentGraphError, RuntimeError):
    """The API was called at a moment it cannot be (e.g. audio before connect)."""
