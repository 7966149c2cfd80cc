"""Pass 2: cross-references, approval conditions against parameters, and warnings."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentgraph.spec import Finding, handoff_tool_name, validate_file, validate_text

HEAD = "version: 1\nname: t\n"


def findings(text: str, **kw: object) -> list[Finding]:
    return list(validate_text(HEAD + text, env={}, **kw).findings)  # type: ignore[arg-type]


def codes(text: str, **kw: object) -> list[str]:
    return [f.code for f in findings(text, **kw)]


def test_examples_validate_without_findings() -> None:
    examples = sorted((Path(__file__).resolve().parents[2] / "examples" / "graphs").glob("*.yaml"))
    names = {p.name for p in examples}
    assert {
        "weather.yaml",
        "booking.yaml",
        "triage.yaml",
        "guardrail.yaml",
        "sip_front_desk.yaml",
    } <= names
    for path in examples:
        if path.name.endswith(".tests.yaml"):
            continue
        result = validate_file(path, env={})
        assert result.findings == (), (path, [f.format() for f in result.findings])
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("# yaml-language-server: $schema=")
        assert lines[1].startswith("# ") and len(lines[1]) > 10  # one-line purpose


def test_start_defaults_to_first_agent_and_must_exist() -> None:
    spec = validate_text(
        HEAD + "agents: {b: {instructions: x}, a: {instructions: y}}\n", env={}
    ).spec
    assert spec is not None and spec.start == "b"
    (f,) = findings("start: c\nagents: {a: {instructions: y}}\n")
    assert f.code == "AG201" and f.pos is not None and f.pos.line == 3


def test_handoff_tool_name_collides_with_a_tool() -> None:
    text = """\
tools:
  transfer_to_b: {entry_point: x}
agents:
  a: {instructions: x, tools: [transfer_to_b], handoffs: [b]}
  b: {instructions: y, handoffs: [a]}
"""
    (f,) = findings(text)
    assert f.code == "AG205"
    assert f.path == "$.agents.a.handoffs[0]"
    assert handoff_tool_name("Billing Desk") == "transfer_to_billing_desk"


def test_handoff_tool_name_matches_the_runtime() -> None:
    from agentgraph.realtime import transfer_tool_name

    for name in ("booking", "Billing Desk", "front-desk", "a.b"):
        assert handoff_tool_name(name) == transfer_tool_name(name)


def test_handoff_mapping_form_and_unknown_target() -> None:
    text = """\
agents:
  a: {instructions: x, handoffs: [{to: bx, description: Books.}]}
  b: {instructions: y, handoffs: [a]}
"""
    (f,) = findings(text)
    assert (f.code, f.path) == ("AG202", "$.agents.a.handoffs[0].to")
    assert "did you mean 'b'?" in f.hints


def test_tool_needs_exactly_one_source() -> None:
    assert codes("tools: {t: {timeout_s: 3}}\nagents: {a: {instructions: x, tools: [t]}}\n") == [
        "AG104"
    ]
    assert codes(
        "tools: {t: {ref: 'a:b', entry_point: c}}\nagents: {a: {instructions: x, tools: [t]}}\n"
    ) == ["AG103"]


@pytest.mark.parametrize(
    ("when", "column", "message"),
    [
        ("time <", 47, "expected a name, a number or a quoted string but found the end"),
        ("time = '09:00'", 46, "use '==' to compare"),
        ("hour > 17 hour", 51, "unexpected 'hour'"),
    ],
)
def test_condition_syntax_errors_point_inside_the_string(
    when: str, column: int, message: str
) -> None:
    text = f"""\
tools:
  t: {{entry_point: x, approval: {{when: "{when}"}}}}
agents: {{a: {{instructions: x, tools: [t]}}}}
"""
    (f,) = findings(text)
    assert f.code == "AG206"
    assert f.pos is not None and (f.pos.line, f.pos.col) == (4, column)
    assert message in f.message


BOOK = """\
tools:
  book:
    entry_point: book_appointment
    approval: {when: "hour > 17 or time < '09:00'", message: "Book {date} at {tiem}?"}
agents: {a: {instructions: x, tools: [book]}}
"""


def test_condition_names_checked_only_when_parameters_are_known() -> None:
    assert codes(BOOK) == []
    found = findings(BOOK, tool_params={"book": {"date", "time", "name"}})
    assert [(f.code, f.path) for f in found] == [
        ("AG207", "$.tools.book.approval.when"),
        ("AG207", "$.tools.book.approval.message"),
    ]
    assert "'hour'" in found[0].message
    assert found[0].pos is not None and found[0].pos.col == 23
    assert "did you mean 'time'?" in found[1].hints


def test_builtin_transfer_call_parameters_are_known() -> None:
    text = """\
tools:
  transfer: {builtin: transfer_call, approval: {message: "Transfer to {targt}?"}}
agents: {a: {instructions: x, tools: [transfer]}}
"""
    (f,) = findings(text)
    assert f.code == "AG207" and "did you mean 'target'?" in f.hints


def test_per_agent_session_settings_are_explained() -> None:
    (f,) = findings("agents: {a: {instructions: x, voice: ash}}\n")
    assert f.code == "AG110" and "session-wide" in f.message
    (f,) = findings("agents: {a: {instructions: x, model: gpt}}\n")
    assert f.code == "AG110"


def test_prompt_files_and_variables(tmp_path: Path) -> None:
    (tmp_path / "p.md").write_text("Welcome to {{clinic}}, {{ city }}.", encoding="utf-8")
    text = "variables: {clinic: Bright, city: Lisbon}\nagents: {a: {instructions: {file: p.md}}}\n"
    spec = validate_text(HEAD + text, env={}, base_dir=tmp_path).spec
    assert spec is not None and spec.instructions["a"] == "Welcome to Bright, Lisbon."
    assert codes("agents: {a: {instructions: 'Hi {{who}}'}}\n") == ["AG209"]
    assert codes("agents: {a: {instructions: {file: none.md}}}\n", base_dir=tmp_path) == ["AG108"]


def test_sip_routes_and_networks() -> None:
    text = """\
agents: {a: {instructions: x}}
sip:
  allow: [10.0.0.0/8, not-a-net]
  routes: {"100": a, "200": b}
  listen: 127.0.0.1:99999
"""
    assert sorted(codes(text)) == ["AG107", "AG107", "AG208"]
    assert codes("agents: {a: {instructions: x}}\nsip: {listen: localhost}\n") == ["AG107"]


def test_warnings_for_graph_shape() -> None:
    text = """\
tools: {t: {entry_point: x}, unused: {entry_point: y}}
guardrails: {g: {match: {keywords: [price]}}}
agents:
  a: {instructions: x, handoffs: [b, a], tools: [t]}
  b: {instructions: y}
  c: {instructions: z, handoffs: [a]}
"""
    found = findings(text)
    assert all(f.severity == "warning" for f in found)
    assert [(f.code, f.path) for f in found] == [
        ("AG304", "$.tools.unused"),
        ("AG305", "$.guardrails.g"),
        ("AG303", "$.agents.a.handoffs[1]"),
        ("AG302", "$.agents.b"),
        ("AG301", "$.agents.c"),
    ]
    assert validate_text(HEAD + text, env={}).spec is not None  # warnings do not fail


def test_end_call_counts_as_an_ending_and_sip_routes_make_agents_reachable() -> None:
    text = """\
agents:
  a: {instructions: x, handoffs: [b]}
  b: {instructions: y, tools: [{builtin: end_call}]}
  c: {instructions: z, handoffs: [a]}
sip: {routes: {"300": c}}
"""
    assert codes(text) == []


def test_literal_secret_warns_env_secret_does_not() -> None:
    assert codes("model: {api_key: sk-literal}\nagents: {a: {instructions: x}}\n") == ["AG112"]
    text = "model: {api_key: '${KEY}'}\nagents: {a: {instructions: x}}\n"
    assert [f.code for f in validate_text(HEAD + text, env={"KEY": "sk-from-env"}).findings] == []


def test_guardrail_kinds() -> None:
    assert codes(
        "guardrails: {g: {message: hi}}\nagents: {a: {instructions: x, guardrails: [g]}}\n"
    ) == ["AG104"]
    assert codes(
        "guardrails: {g: {match: {}}}\nagents: {a: {instructions: x, guardrails: [g]}}\n"
    ) == ["AG104"]


def test_turn_detection_spellings() -> None:
    spec = validate_text(
        HEAD + "turn_detection: {type: vad}\nagents: {a: {instructions: x}}\n", env={}
    ).spec
    assert spec is not None
    assert codes("agents: {a: {instructions: x, turn_detection: {type: none}}}\n") == ["AG103"]
    assert codes("turn_detection: {eagerness: low}\nagents: {a: {instructions: x}}\n") == ["AG104"]


def test_check_only_keys_and_manual_turns() -> None:
    assert codes(
        "guardrails: {g: {match: {keywords: [x]}, model: m}}\n"
        "agents: {a: {instructions: x, guardrails: [g]}}\n"
    ) == ["AG103"]
    assert (
        codes(
            "guardrails: {g: {check: Be kind., model: m, base_url: 'http://h/v1'}}\n"
            "agents: {a: {instructions: x, guardrails: [g]}}\n"
        )
        == []
    )
    spec = validate_text(
        HEAD + "turn_detection: none\nagents: {a: {instructions: x}}\n", env={}
    ).spec
    assert spec is not None and spec.graph.turn_detection == "none"
    (f,) = findings("turn_detection: nonee\nagents: {a: {instructions: x}}\n")
    assert f.code == "AG103" and f.hints == (
        "did you mean 'none'?",
        "or a mapping such as {type: none | semantic_vad | server_vad | vad}",
    )
