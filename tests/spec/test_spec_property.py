"""Property tests: whatever YAML comes in, the loader answers with findings or a graph.

Random documents and random mutations of the example graphs must never raise an uncaught
exception, and the result is always consistent: a spec with no error findings, or no spec
and at least one error finding.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentgraph.spec import ValidationResult, validate_text

EXAMPLES = sorted(
    p
    for p in (Path(__file__).resolve().parents[2] / "examples" / "graphs").glob("*.yaml")
    if not p.name.endswith(".tests.yaml")
)
TEXTS = [p.read_text(encoding="utf-8") for p in EXAMPLES]
BASE_DIR = EXAMPLES[0].parent
WORDS = [
    "agents",
    "tools",
    "handoffs",
    "version",
    "voice",
    "no",
    "off",
    "0123",
    "~",
    "null",
    "${X}",
    "${Y:-1}",
    "$${Z}",
    "[",
    "]",
    "{",
    "}",
    ":",
    "- ",
    "&a",
    "*a",
    "<<: *a",
    "!!python/object:os.system",
    "'",
    '"',
    "\t",
    "type: vad",
    'when: "a <"',
    "builtin",
    "end_call",
    "1e9",
    "-1",
    "true",
    "approval: always",
    "match: {regex: '('}",
]
# AG_PROP_EXAMPLES=3000 for a deeper local run.
SETTINGS = settings(
    max_examples=int(os.environ.get("AG_PROP_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def check(result: ValidationResult) -> None:
    errors = [f for f in result.findings if f.severity == "error"]
    if result.spec is None:
        assert errors, "no graph and no error finding"
    else:
        assert not errors
    for finding in result.findings:
        finding.format()
        finding.to_json()


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(WORDS),
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=8), st.sampled_from(WORDS)), children, max_size=5
        ),
    ),
    max_leaves=25,
)


@SETTINGS
@given(trees)
def test_random_documents(tree: object) -> None:
    text = yaml.safe_dump(tree, allow_unicode=True)
    check(validate_text(text, env={}, base_dir=BASE_DIR))


@SETTINGS
@given(st.text(max_size=200))
def test_random_text(text: str) -> None:
    check(validate_text(text, env={}, base_dir=BASE_DIR))


@st.composite
def mutated_example(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(TEXTS)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["drop", "dup", "word", "indent", "cut", "swap"]))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "word":
            words = lines[i].split(" ")
            j = draw(st.integers(0, len(words) - 1))
            words[j] = draw(st.sampled_from(WORDS))
            lines[i] = " ".join(words)
        elif op == "indent":
            lines[i] = " " * draw(st.integers(0, 6)) + lines[i].lstrip()
        elif op == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        if not lines:
            lines = [""]
    return "\n".join(lines) + "\n"


@SETTINGS
@given(
    mutated_example(),
    st.dictionaries(st.sampled_from(["X", "Y", "Z"]), st.text(max_size=6), max_size=2),
)
def test_mutated_examples(text: str, env: dict[str, str]) -> None:
    check(validate_text(text, env=env, base_dir=BASE_DIR))


def test_recursive_alias_is_a_finding() -> None:
    result = validate_text("version: 1\nname: &a [*a]\nagents: {}\n", env={})
    check(result)
