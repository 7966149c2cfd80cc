"""The loader: positions, strict scalars, duplicate keys, ${ENV}, no code from tags."""

from __future__ import annotations

import json
from pathlib import Path

from agentgraph.spec import validate_text
from agentgraph.spec.loader import compose_document

BASE = """\
version: 1
name: {name}
agents:
  a:
    instructions: Hello.
"""


def codes(text: str, env: dict[str, str] | None = None) -> list[str]:
    return [f.code for f in validate_text(text, env=env or {}).findings]


def test_positions_of_values_and_keys() -> None:
    doc = compose_document("a:\n  bb: [x, {c: 3}]\n", file="f.yaml", env={})
    assert doc.positions[("a", "bb", 1, "c")].line == 2
    assert doc.positions[("a", "bb", 1, "c")].col == 15
    assert doc.key_positions[("a", "bb")].col == 3
    assert doc.data == {"a": {"bb": ["x", {"c": "3"}]}}  # scalars stay text until typed


def test_norway_problem_strings_stay_strings() -> None:
    text = BASE.format(name="no") + "transcription: {model: x, language: no}\n"
    result = validate_text(text, env={})
    assert result.spec is not None
    assert result.spec.name == "no"
    assert result.spec.graph.transcription is not None
    assert result.spec.graph.transcription.language == "no"
    assert validate_text(BASE.format(name="0123"), env={}).spec.name == "0123"  # type: ignore[union-attr]
    assert validate_text(BASE.format(name="off"), env={}).spec.name == "off"  # type: ignore[union-attr]


def test_numbers_and_booleans_where_the_schema_wants_them() -> None:
    text = BASE.format(name="x") + (
        "turn_detection: {type: server_vad, threshold: 0.7, silence_duration_ms: 800,\n"
        "                 create_response: false}\n"
    )
    spec = validate_text(text, env={}).spec
    assert spec is not None
    td = spec.graph.turn_detection
    assert td is not None and td.model_dump()["threshold"] == 0.7
    assert td.model_dump()["silence_duration_ms"] == 800
    assert td.model_dump()["create_response"] is False


def test_yaml_1_1_booleans_are_not_booleans() -> None:
    text = BASE.format(name="x") + "turn_detection: {type: server_vad, create_response: no}\n"
    result = validate_text(text, env={})
    assert [f.code for f in result.findings] == ["AG102"]
    assert "expected true or false, got a string (no)" in result.findings[0].message


def test_quoted_number_stays_a_string_and_fails_where_a_number_is_wanted() -> None:
    text = BASE.format(name="x") + "turn_detection: {type: server_vad, threshold: '0.5'}\n"
    assert codes(text) == ["AG102"]


def test_duplicate_keys_are_errors_with_both_lines() -> None:
    text = BASE.format(name="x") + "name: again\n"
    result = validate_text(text, env={})
    (finding,) = result.findings
    assert finding.code == "AG105"
    assert finding.pos is not None and finding.pos.line == 6
    assert "first defined on line 2" in finding.message


def test_env_substitution_with_default_and_redaction() -> None:
    text = BASE.format(name="${BOT_NAME}") + "model: {name: '${MODEL:-gpt-realtime}'}\n"
    spec = validate_text(text, env={"BOT_NAME": "SecretBot"}).spec
    assert spec is not None
    assert spec.name == "SecretBot"
    assert spec.graph.model.name == "gpt-realtime"
    assert spec.redact("hello SecretBot") == "hello SecretBot"  # a name, not a secret
    listed = validate_text(text + "secrets: [BOT_NAME]\n", env={"BOT_NAME": "SecretBot"}).spec
    assert listed is not None and listed.redact("hello SecretBot") == "hello ***"


def test_env_values_are_redacted_in_findings() -> None:
    text = BASE.format(name="x") + "voice: ${VOICE_TOKEN}\n"
    result = validate_text(text, env={"VOICE_TOKEN": "hunter2-voice"})
    (finding,) = result.findings
    assert finding.code == "AG103"
    assert "hunter2" not in finding.format()
    assert "hunter2" not in json.dumps(finding.to_json())
    assert "'***' is not allowed" in finding.format()


def test_unset_variable_names_the_variable_and_where() -> None:
    text = BASE.format(name="${NOT_SET_ANYWHERE}")
    (finding,) = validate_text(text, env={}).findings
    assert finding.code == "AG106"
    assert "NOT_SET_ANYWHERE" in finding.message
    assert finding.path == "$.name"
    assert finding.pos is not None and (finding.pos.line, finding.pos.col) == (2, 7)


def test_dollar_escape_and_malformed_reference() -> None:
    spec = validate_text(BASE.format(name="'costs $${PRICE}'"), env={}).spec
    assert spec is not None and spec.name == "costs ${PRICE}"
    assert codes(BASE.format(name="'${1BAD}'")) == ["AG106"]


def test_tags_never_run_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = BASE.format(name=f"!!python/object/apply:os.system ['touch {marker}']")
    assert "AG111" in codes(text)
    assert not marker.exists()


def test_syntax_error_is_one_finding_with_a_position() -> None:
    result = validate_text("version: 1\nname: [unclosed\nagents: {}\n", env={})
    (finding,) = result.findings
    assert finding.code == "AG100"
    assert finding.pos is not None and finding.pos.line >= 2


def test_merge_keys_work() -> None:
    text = """\
version: 1
name: merged
tools:
  t: &base {entry_point: x, timeout_s: 5}
  u: {<<: *base, timeout_s: 9}
agents:
  a: {instructions: hi, tools: [t, u]}
"""
    spec = validate_text(text, env={}).spec
    assert spec is not None
    assert spec.tools["u"].entry_point == "x" and spec.tools["u"].timeout_s == 9


def test_empty_and_non_mapping_documents() -> None:
    assert codes("") == ["AG102"]
    assert codes("- a\n- b\n") == ["AG102"]


def test_secrets_stay_out_of_reprs() -> None:
    text = (
        BASE.format(name="x") + "model: {api_key: '${KEY}'}\n"
        "sip: {openai: {webhook_secret: '${HOOK}'}}\n"
    )
    spec = validate_text(text, env={"KEY": "sk-very-secret", "HOOK": "whsec_abcdef"}).spec
    assert spec is not None and spec.graph.model.api_key == "sk-very-secret"
    assert "sk-very-secret" not in repr(spec) and "whsec_abcdef" not in repr(spec)
