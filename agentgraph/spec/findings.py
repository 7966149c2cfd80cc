"""Findings: what validation says about a graph file, located and formatted like a compiler.

Every finding has a stable code (documented in `CODES`), a severity, the file position
of the node it is about, the path inside the document (`$.agents.booking.tools[1]`) and
hint lines. Values that came from the environment are redacted before printing.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CODES", "Finding", "Pos", "did_you_mean", "json_path"]

# Stable codes. Never renumber; add new ones at the end of their block.
CODES: dict[str, str] = {
    "AG001": "file cannot be read",
    "AG100": "YAML syntax error",
    "AG101": "unknown key",
    "AG102": "wrong type",
    "AG103": "value not allowed",
    "AG104": "required key missing",
    "AG105": "duplicate key",
    "AG106": "environment variable not set",
    "AG107": "value out of range or badly formed",
    "AG108": "prompt file cannot be read",
    "AG109": "unsupported version",
    "AG110": "session-wide setting used per agent",
    "AG111": "YAML feature not allowed (tags, recursive aliases, non-scalar keys)",
    "AG112": "secret written literally in the graph file",
    "AG113": "voice that gpt-realtime does not offer",
    "AG114": "setting that semantic_vad does not take (dropped)",
    "AG201": "start agent does not exist",
    "AG202": "handoff target does not exist",
    "AG203": "tool does not exist",
    "AG204": "guardrail does not exist",
    "AG205": "duplicate tool name in an agent",
    "AG206": "approval condition has a syntax error",
    "AG207": "approval condition or message names an unknown parameter",
    "AG208": "SIP route target does not exist",
    "AG209": "unknown template variable in instructions",
    "AG301": "agent is unreachable",
    "AG302": "agent can never hand back or end",
    "AG303": "agent hands off to itself",
    "AG304": "tool is never used",
    "AG305": "guardrail is never used",
    "AG401": "reference cannot be imported",
    "AG402": "reference is not a usable tool or guardrail",
    "AG403": "entry point is not installed",
    "AG404": "tool parameter has no type hint",
}


@dataclass(frozen=True, slots=True)
class Pos:
    """A span in the source file, 1-based line and column (end column exclusive)."""

    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem (or warning) in a graph file.

    Args:
        code: stable code such as `AG101` (see `CODES`).
        message: what is wrong, and what to write instead.
        file: the graph file's path as given by the user.
        pos: where; None when the problem is about the whole file.
        path: the JSON path inside the document, e.g. `$.agents.booking.tools[1]`.
        hints: extra lines printed as `hint: ...`.
        severity: "error" or "warning".
        source_line: the text of the source line at `pos`, for the caret display.
    """

    code: str
    message: str
    file: str
    pos: Pos | None = None
    path: str = "$"
    hints: tuple[str, ...] = ()
    severity: str = "error"
    source_line: str | None = None
    secrets: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def _redact(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            if secret:
                text = text.replace(secret, "***")
        return text

    def format(self) -> str:
        """The compiler-style block: `file:line:col: error AG101: message (at path)`."""
        where = f"{self.file}:{self.pos.line}:{self.pos.col}" if self.pos else self.file
        at = f" (at {self.path})" if self.path != "$" else ""
        lines = [f"{where}: {self.severity} {self.code}: {self._redact(self.message)}{at}"]
        if self.pos is not None and self.source_line is not None:
            src = self._redact(self.source_line.rstrip("\n"))
            gutter = str(self.pos.line)
            lines.append(f"    {gutter} | {src}")
            start = self.pos.col - 1
            if self.pos.end_line == self.pos.line and self.pos.end_col > self.pos.col:
                width = self.pos.end_col - self.pos.col
            else:
                width = max(1, len(src) - start)
            width = max(1, min(width, max(1, len(src) - start)))
            lines.append(f"    {' ' * len(gutter)} | {' ' * start}{'^' * width}")
        lines.extend(f"  hint: {self._redact(h)}" for h in self.hints)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """A plain dict for `validate --format json` (redacted)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self._redact(self.message),
            "file": self.file,
            "line": self.pos.line if self.pos else None,
            "column": self.pos.col if self.pos else None,
            "end_line": self.pos.end_line if self.pos else None,
            "end_column": self.pos.end_col if self.pos else None,
            "path": self.path,
            "hints": [self._redact(h) for h in self.hints],
        }


def json_path(parts: Sequence[str | int]) -> str:
    """`("agents", "booking", "tools", 1)` -> `$.agents.booking.tools[1]`."""
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif part.isidentifier():
            out.append(f".{part}")
        else:
            out.append(f"[{part!r}]")
    return "".join(out)


def did_you_mean(word: str, choices: Iterable[str], *, what: str = "") -> tuple[str, ...]:
    """Hint lines: the nearest match (if any) and, for short lists, every allowed value."""
    options = sorted(set(choices))
    hints: list[str] = []
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        hints.append(f"did you mean '{close[0]}'?")
    if what and options and len(options) <= 12:
        hints.append(f"{what}: {', '.join(options)}")
    return tuple(hints)
