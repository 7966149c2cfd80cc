"""Conversation test files (`*.tests.yaml`): their language, loaded as strictly as graphs.

The same pipeline as a graph: compose with positions (bounded aliases and nesting,
`${ENV}`), type plain scalars by the schema, JSON Schema pass (unknown keys such as
`expcet:` with "did you mean", wrong types, every finding at once, file:line:col), then
the checks a schema cannot say (a turn is `user:` or `audio:`, audio files exist).
`agentgraph.app.testcases` turns a valid file into runnable test cases.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agentgraph.spec.files import FileProblem, read_text_file
from agentgraph.spec.findings import Finding, did_you_mean
from agentgraph.spec.loader import Document, PathKey, compose_document
from agentgraph.spec.schemacheck import coerce, schema_findings

__all__ = [
    "EXPECTATIONS",
    "TestsFile",
    "TestsValidation",
    "tests_schema",
    "validate_tests_file",
    "validate_tests_text",
]

MAX_TESTS_BYTES = 5_000_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolCallExpectation(_Model):
    """A tool call the model must make (args: a subset of its arguments)."""

    name: str = Field(description="The tool's name.")
    args: dict[str, Any] = Field(
        default_factory=dict,
        description="Arguments it must have (others may be there too).",
        examples=[{"city": "Tokyo"}],
    )


class Expectations(_Model):
    """What must happen in the agent's answer to one turn (any of these keys)."""

    tool_call: str | ToolCallExpectation | None = Field(
        None, description="A tool the model calls: its name, or {name, args}."
    )
    no_tool_call: bool | None = Field(None, description="true: no tool runs in this turn.")
    handoff: str | None = Field(None, description="The agent the conversation moves to.")
    approval_requested: bool | str | None = Field(
        None, description="An approval is asked (true, or the tool's name); false: none."
    )
    guardrail_tripped: bool | str | None = Field(
        None, description="A guardrail trips (true, or its name); false: none."
    )
    says: str | int | float | None = Field(
        None, description="Words the agent's reply contains (case-insensitive)."
    )
    within_ms: Annotated[int | float, Field(ge=0)] | None = Field(
        None, description="The reply starts within this many milliseconds."
    )


EXPECTATIONS = tuple(Expectations.model_fields)
ExpectationName = Literal[
    "tool_call",
    "no_tool_call",
    "handoff",
    "approval_requested",
    "guardrail_tripped",
    "says",
    "within_ms",
]


class SpokenTurn(_Model):
    """Caller audio made by the engine's speech synthesis."""

    say: str = Field(description="The words to speak.")


class TurnSpec(_Model):
    """One caller turn: `user:` text or `audio:` (a WAV file or {say: ...}), and what
    must happen in the agent's answer."""

    user: str | None = Field(None, description="What the caller types.", examples=["Monday"])
    audio: str | SpokenTurn | None = Field(
        None,
        description="A WAV file (relative to this file), or {say: text} spoken by the engine.",
        examples=[{"say": "What is the weather in Paris?"}],
    )
    expect: list[ExpectationName | Expectations] | Expectations = Field(
        default_factory=list,
        description="What must happen in the answer, one key per item.",
        examples=[[{"says": "Tokyo"}, {"within_ms": 5000}]],
    )


class TestSpec(_Model):
    """A named scripted conversation."""

    __test__ = False  # not a pytest class

    name: str = Field(description="Shown in the results and JUnit.")
    mocks: dict[str, Any] = Field(
        default_factory=dict, description="tool name -> the output it returns instead of running."
    )
    operator: Literal["approve", "reject"] = Field(
        "reject", description="How the operator answers approval requests."
    )
    turns: list[TurnSpec] = Field(min_length=1, description="The caller's turns, in order.")


class TestsFile(_Model):
    """A conversation tests file (`*.tests.yaml`)."""

    __test__ = False

    model_config = ConfigDict(extra="forbid", frozen=True, title="agentgraph conversation tests")

    graph: str | None = Field(None, description="The graph under test, relative to this file.")
    tests: list[TestSpec] = Field(min_length=1, description="The tests of this file.")


@cache
def tests_schema() -> dict[str, Any]:
    """The JSON Schema of tests files (cached; treat it as read-only)."""
    schema = TestsFile.model_json_schema()
    # An expectation is exactly one key: `- says: x`, not `- {says: x, handoff: y}`.
    defs = schema["$defs"]
    defs["Expectations"] = {**defs["Expectations"], "minProperties": 1}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


@dataclass(frozen=True)
class TestsValidation:
    """The parsed file (None on errors), every finding, and the document (positions)."""

    __test__ = False

    tests: TestsFile | None
    findings: tuple[Finding, ...]
    document: Document

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")


def _sorted(findings: list[Finding]) -> tuple[Finding, ...]:
    return tuple(
        sorted(findings, key=lambda f: (f.pos.line, f.pos.col, f.code) if f.pos else (0, 0, f.code))
    )


def validate_tests_text(
    text: str, *, file: str = "<tests>", base_dir: Path | None = None, env: Any = None
) -> TestsValidation:
    """Validate tests-file YAML text; never raises for bad input."""
    doc = compose_document(text, file=file, env=os.environ if env is None else env)
    if any(f.code == "AG100" for f in doc.findings) or (doc.data is None and doc.findings):
        return TestsValidation(None, _sorted(doc.findings), doc)
    if not isinstance(doc.data, dict):
        doc.add(
            "AG102",
            "a tests file must be a mapping with tests: (a list of tests)",
            (),
            hints=("e.g. graph: booking.yaml, then tests: [- name: ..., turns: [...]]",),
        )
        return TestsValidation(None, _sorted(doc.findings), doc)
    schema = tests_schema()
    data = coerce(doc, schema)
    schema_findings(doc, data, schema)
    if any(f.severity == "error" for f in doc.findings):
        return TestsValidation(None, _sorted(doc.findings), doc)
    parsed = TestsFile.model_validate(data)
    _check(doc, parsed, base_dir or Path.cwd())
    _check_names(doc, parsed, base_dir or Path.cwd())
    ok = not any(f.severity == "error" for f in doc.findings)
    return TestsValidation(parsed if ok else None, _sorted(doc.findings), doc)


def _check(doc: Document, parsed: TestsFile, base_dir: Path) -> None:
    for i, test in enumerate(parsed.tests):
        for j, turn in enumerate(test.turns):
            path = ("tests", i, "turns", j)
            if (turn.user is None) == (turn.audio is None):
                doc.add(
                    "AG104" if turn.user is None else "AG103",
                    "a turn is `user: text` or `audio: file.wav` (one of them)",
                    path,
                    hints=("write audio: {say: text} to have the engine speak the words",),
                )
            if isinstance(turn.audio, str):
                wav = base_dir / turn.audio
                if not wav.is_file():
                    doc.add(
                        "AG108",
                        f"audio file not found: {turn.audio}",
                        (*path, "audio"),
                        hints=("the path is relative to the folder of the tests file",),
                    )
            expect = turn.expect if isinstance(turn.expect, list) else []
            for k, item in enumerate(expect):
                if isinstance(item, Expectations) and len(item.model_fields_set) > 1:
                    doc.add(
                        "AG107",
                        "each expectation is one key; write them as separate list items",
                        (*path, "expect", k),
                    )


def _check_names(doc: Document, parsed: TestsFile, base_dir: Path) -> None:
    """Warnings, with "did you mean", for names the graph under test does not have."""
    from agentgraph.spec.api import validate_file  # api does not import this module
    from agentgraph.spec.semantic import handoff_tool_name

    if parsed.graph is None:
        return
    result = validate_file(base_dir / parsed.graph)
    if result.spec is None:
        if any(f.code == "AG001" for f in result.findings):
            doc.add(
                "AG001",
                f"graph file cannot be read: {parsed.graph}",
                ("graph",),
                severity="warning",  # `agentgraph test --graph` may name another
                hints=("the path is relative to the folder of the tests file",),
            )
        return  # a broken graph reports its own findings when validated or run
    graph = result.spec.graph
    builtins = {t.builtin for a in graph.agents.values() for t in a.tools if not isinstance(t, str)}
    tools = set(graph.tools) | builtins
    targets = {e if isinstance(e, str) else e.to for a in graph.agents.values() for e in a.handoffs}
    callable_names = tools | {handoff_tool_name(a) for a in targets}
    known = {
        "tool_call": (callable_names, "AG203", "tool"),
        "approval_requested": (tools, "AG203", "tool"),
        "handoff": (set(graph.agents), "AG202", "agent"),
        "guardrail_tripped": (set(graph.guardrails), "AG204", "guardrail"),
    }

    def warn(
        code: str, what: str, name: str, path: PathKey, choices: set[str], key: bool = False
    ) -> None:
        doc.add(
            code,
            f"the graph has no {what} '{name}'",
            path,
            key=key,
            severity="warning",
            hints=did_you_mean(name, choices, what=f"{what}s"),
        )

    for i, test in enumerate(parsed.tests):
        for name in test.mocks:
            if name not in tools:
                warn("AG203", "tool", name, ("tests", i, "mocks", name), tools, key=True)
        for j, turn in enumerate(test.turns):
            base: PathKey = ("tests", i, "turns", j, "expect")
            items = (
                [((*base, k), item) for k, item in enumerate(turn.expect)]
                if isinstance(turn.expect, list)
                else [(base, turn.expect)]
            )
            for path, item in items:
                if not isinstance(item, Expectations):
                    continue
                for key, (choices, code, what) in known.items():
                    value = getattr(item, key)
                    name = value.name if isinstance(value, ToolCallExpectation) else value
                    if isinstance(name, str) and name not in choices:
                        where: PathKey = (*path, key)
                        if isinstance(value, ToolCallExpectation):
                            where = (*where, "name")
                        warn(code, what, name, where, choices)


def validate_tests_file(path: str | os.PathLike[str], *, env: Any = None) -> TestsValidation:
    """Read and validate a tests file; an unreadable file is an AG001 finding."""
    name = os.fspath(path)
    try:
        text = read_text_file(name, limit=MAX_TESTS_BYTES)
    except FileProblem as exc:
        finding = Finding("AG001", f"cannot read tests file: {exc}", name)
        return TestsValidation(None, (finding,), Document(file=name, lines=[]))
    return validate_tests_text(text, file=name, base_dir=Path(name).parent, env=env)
