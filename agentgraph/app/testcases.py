"""Conversation test files (`*.tests.yaml`): loading them and judging one turn.

The format is described in `agentgraph.app.testing`; this module holds the pure parts:
the test-case types, `load_tests` (the file is checked by `agentgraph.spec.testfile` as
strictly as a graph: every finding at once, at file:line:col, with "did you mean"), and
`check_turn`, which compares a turn's session events with its expectations.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentgraph.app.eventdata import display_name
from agentgraph.errors import SpecError
from agentgraph.spec.testfile import EXPECTATIONS, SpokenTurn, TurnSpec, validate_tests_file

__all__ = [
    "TestCase",
    "TestReport",
    "TestResult",
    "TestsFileError",
    "Turn",
    "check_turn",
    "load_tests",
]


@dataclass
class Turn:
    """One caller turn and what must happen in the agent's answer."""

    user: str | None = None
    audio: Path | None = None
    say: str | None = None
    expect: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class TestCase:
    """A named scripted conversation."""

    __test__ = False  # not a pytest class

    name: str
    turns: list[Turn]
    mocks: dict[str, str] = field(default_factory=dict)
    operator_approves: bool = False


@dataclass
class TestResult:
    """The outcome of one test."""

    __test__ = False

    name: str
    failures: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    transcript: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class TestReport:
    """All results of one tests file."""

    __test__ = False

    file: Path
    graph: Path
    results: list[TestResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.passed for r in self.results) and bool(self.results)

    def summary_line(self) -> str:
        passed = sum(r.passed for r in self.results)
        failed = len(self.results) - passed
        total = sum(r.duration_s for r in self.results)
        return f"{passed} passed, {failed} failed in {total:.1f} s ({self.file})"

    def write_junit(self, path: Path) -> None:
        """Write JUnit XML (one testsuite, one testcase per test) for CI."""
        suite = ET.Element(
            "testsuite",
            {
                "name": str(self.file),
                "tests": str(len(self.results)),
                "failures": str(sum(not r.passed for r in self.results)),
                "errors": "0",
                "time": f"{sum(r.duration_s for r in self.results):.3f}",
            },
        )
        for result in self.results:
            case = ET.SubElement(
                suite,
                "testcase",
                {
                    "classname": self.file.stem,
                    "name": result.name,
                    "time": f"{result.duration_s:.3f}",
                },
            )
            if result.failures:
                failure = ET.SubElement(case, "failure", {"message": result.failures[0]})
                failure.text = "\n".join(result.failures)
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(result.transcript)
        root = ET.Element("testsuites")
        root.append(suite)
        path.parent.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


class TestsFileError(SpecError):
    """A tests file has findings; printed like a graph's (file:line:col, hints)."""

    __test__ = False

    def __str__(self) -> str:
        return self.format()


def load_tests(path: Path) -> tuple[Path | None, list[TestCase]]:
    """Load a tests file as strictly as a graph; returns (graph path or None, tests).

    Raises:
        TestsFileError: every finding (unknown keys with "did you mean", wrong types,
            missing audio files), each at its file:line:col.
    """
    result = validate_tests_file(path)
    if result.tests is None:
        raise TestsFileError(result.findings)
    parsed = result.tests
    graph_path = (path.parent / parsed.graph) if parsed.graph else None
    tests = [
        TestCase(
            test.name,
            [_turn(path, turn) for turn in test.turns],
            {str(k): _as_output(v) for k, v in test.mocks.items()},
            operator_approves=test.operator == "approve",
        )
        for test in parsed.tests
    ]
    return graph_path, tests


def _as_output(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _turn(path: Path, spec: TurnSpec) -> Turn:
    items = spec.expect if isinstance(spec.expect, list) else [spec.expect]
    expect: list[tuple[str, Any]] = []
    for item in items:
        if isinstance(item, str):
            expect.append((item, True))
            continue
        for key in EXPECTATIONS:
            if key not in item.model_fields_set:
                continue
            value = getattr(item, key)
            if key == "tool_call":
                value = (
                    {"name": value}
                    if isinstance(value, str)
                    else {"name": value.name, "args": dict(value.args)}
                )
            expect.append((key, value))
    audio: Path | None = None
    say: str | None = None
    if isinstance(spec.audio, SpokenTurn):
        say = spec.audio.say
    elif spec.audio is not None:
        audio = path.parent / spec.audio
    return Turn(user=spec.user, audio=audio, say=say, expect=expect)


def _matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _matches(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, str) and isinstance(actual, str):
        return expected.strip().casefold() == actual.strip().casefold()
    if isinstance(expected, int | float) and isinstance(actual, str):
        return str(expected) == actual.strip()
    return bool(expected == actual)


def _function_calls(events: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    """Function calls the model made in these events (every call ends in one `tool_end`,
    run, rejected or failed)."""
    calls = []
    for e in events:
        if getattr(e, "type", "") != "tool_end":
            continue
        try:
            args = json.loads(e.arguments or "{}")
        except ValueError:
            args = {}
        calls.append((str(e.tool_name), args if isinstance(args, dict) else {}))
    return calls


def _approval_requests(events: list[Any], tools: dict[str, Any]) -> list[str]:
    """Tools that asked for an approval: operator requests, and calls whose policy asks
    the caller (the session then has the model put the question to the caller)."""
    return [e.tool_name for e in events if getattr(e, "type", "") == "approval_asked"]


def check_turn(
    expect: list[tuple[str, Any]],
    events: list[Any],
    latency_ms: float | None,
    tools: dict[str, Any] | None = None,
) -> list[str]:
    """The failed expectations of one turn, given its session events and latency.

    Args:
        expect: the turn's expectations.
        events: the session events of the turn (plus raw finished output items).
        latency_ms: the turn's latency, if agent audio (or text) came.
        tools: the graph's tools by name (to recognise approvals asked of the caller).
    """
    kinds = [getattr(e, "type", "") for e in events]
    calls = list(_function_calls(events))  # what the model called (run or not)
    for e in events:
        if getattr(e, "type", "") in ("tool_start", "tool_approval_required"):
            try:
                args = json.loads(e.arguments) if e.arguments else {}
            except ValueError:
                args = {}
            calls.append((e.tool_name, args))
    said = " ".join(e.transcript for e in events if getattr(e, "type", "") == "transcript_done")
    failures: list[str] = []
    for key, value in expect:
        if key == "tool_call":
            name, args = value["name"], value.get("args") or {}
            if not any(n == name and _matches(args, a) for n, a in calls):
                got = ", ".join(f"{n}({json.dumps(a)})" for n, a in calls) or "no tool call"
                failures.append(f"expected tool_call {name}({json.dumps(args)}); got {got}")
        elif key == "no_tool_call":  # no tool ran (asked-for calls that were refused are fine)
            real = [e.tool_name for e in events if getattr(e, "type", "") == "tool_start"]
            if value and real:
                failures.append(f"expected no tool call; got {', '.join(real)}")
        elif key == "handoff":
            targets = [
                display_name(e.to_agent) for e in events if getattr(e, "type", "") == "handoff"
            ]
            if value not in targets:
                failures.append(
                    f"expected handoff to {value}; got {', '.join(targets) or 'no handoff'}"
                )
        elif key == "approval_requested":
            asked = _approval_requests(events, tools or {})
            wanted = value if isinstance(value, str) else None
            if value is False and asked:
                failures.append(f"expected no approval request; got {', '.join(asked)}")
            elif value is not False and not (asked if wanted is None else wanted in asked):
                failures.append(
                    f"expected an approval request{f' for {wanted}' if wanted else ''}"
                    f"; got {', '.join(asked) or 'none'}"
                )
        elif key == "guardrail_tripped":
            tripped = [
                e.guardrail_name for e in events if getattr(e, "type", "") == "guardrail_tripped"
            ]
            wanted = value if isinstance(value, str) else None
            if value is False and tripped:
                failures.append(f"expected no guardrail trip; got {', '.join(tripped)}")
            elif value is not False and not (tripped if wanted is None else wanted in tripped):
                failures.append(
                    f"expected guardrail {wanted or ''} to trip; got "
                    f"{', '.join(tripped) or 'none'}".replace("  ", " ")
                )
        elif key == "says":
            if str(value).casefold() not in said.casefold():
                failures.append(
                    f"expected the agent to say {str(value)!r}; it said {said.strip()!r}"
                    if said.strip()
                    else f"expected the agent to say {str(value)!r}; it said nothing"
                )
        elif key == "within_ms":
            if latency_ms is None:
                failures.append(f"expected an answer within {value} ms; no agent audio/text")
            elif latency_ms > float(value):
                failures.append(f"expected an answer within {value} ms; took {latency_ms:.0f} ms")
    if "error" in kinds:
        for e in events:
            if getattr(e, "type", "") == "error":
                message = e.error.get("message") if isinstance(e.error, dict) else e.error
                failures.append(f"session error: {message}")
    return failures
