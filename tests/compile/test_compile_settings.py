"""Issue 11, language side: the YAML says everything the Python API can (speed, output
modalities, tool_choice, max_output_tokens, tracing, prompt, greeting), the seed's
semantic_vad settings and voices are accepted by both front ends alike, and the compiled
graph carries typed `ModelSettings`."""

from __future__ import annotations

import logging

import pytest

from agentgraph.compile import compile_graph
from agentgraph.engine.session_config import default_session, merge_session_update
from agentgraph.realtime import Greeting, ModelSettings, normalize_model_settings
from agentgraph.spec import validate_text

FULL = """\
version: 1
name: everything
model: {provider: local}
voice: cedar
speed: 1.2
modalities: [text]
tool_choice: {function: lookup}
max_output_tokens: 800
tracing: {workflow_name: front desk, group_id: site-7}
prompt: {id: pmpt_abc123, version: "4", variables: {city: Paris}}
greeting: Welcome to the front desk.
turn_detection: {type: semantic_vad, eagerness: high}
tools:
  lookup: {builtin: end_call}
agents:
  desk:
    instructions: Help.
    tools: [lookup]
    handoffs: [billing]
  billing:
    instructions: Bill.
    greeting: {instructions: Greet the caller and ask for the invoice number.}
    handoffs: [desk]
"""


def compiled(text: str):  # type: ignore[no-untyped-def]
    result = validate_text(text, env={})
    assert result.spec is not None, [f.format() for f in result.findings]
    return compile_graph(result.spec), result


def test_every_model_setting_reaches_the_session_update() -> None:
    graph, _ = compiled(FULL)
    settings = graph.model_settings
    assert isinstance(settings, ModelSettings)
    assert settings.output_modalities == ("text",) and settings.voice == "cedar"
    wire = settings.session_wire(instructions="x", tools=[])
    assert wire["audio"]["output"]["speed"] == 1.2
    assert wire["tool_choice"] == {"type": "function", "name": "lookup"}
    assert wire["max_output_tokens"] == 800
    assert wire["tracing"] == {"workflow_name": "front desk", "group_id": "site-7"}
    assert wire["prompt"] == {"id": "pmpt_abc123", "version": "4", "variables": {"city": "Paris"}}
    assert wire["output_modalities"] == ["text"]
    # the typed settings are what the flat run config normalises to: one meaning
    assert normalize_model_settings(graph.run_config["model_settings"]) == settings


def test_greetings_per_graph_and_per_agent() -> None:
    graph, _ = compiled(FULL)
    assert graph.run_config["greeting"] == Greeting(text="Welcome to the front desk.")
    assert graph.agents["billing"].greeting == Greeting(
        instructions="Greet the caller and ask for the invoice number."
    )
    assert graph.agents["desk"].greeting is None  # the graph's greeting applies


@pytest.mark.parametrize(
    ("line", "code", "message"),
    [
        ("tool_choice: {function: lokup}", "AG203", "did you mean 'lookup'?"),
        ("speed: 3", "AG107", "out of range"),
        ("max_output_tokens: 5000", "AG10", ""),
        ("modalities: [video]", "AG103", "'video' is not allowed"),
        ("prompt: {id: abc}", "AG107", ""),
        ("greeting: {text: Hi, instructions: Greet}", "AG103", "exactly one of text"),
        ("greeting: {}", "AG104", "exactly one of text"),
    ],
)
def test_bad_settings_are_findings(line: str, code: str, message: str) -> None:
    head, _, rest = FULL.partition("tools:\n")
    lines = [x for x in head.splitlines() if not x.startswith(line.split(":")[0] + ":")]
    result = validate_text("\n".join(lines) + f"\n{line}\ntools:\n" + rest, env={})
    assert result.spec is None
    text = "\n".join(f.format() for f in result.findings)
    assert any(f.code.startswith(code) for f in result.errors), text
    assert message in text


SEED_VAD = {
    "type": "semantic_vad",
    "eagerness": "high",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 200,
}


def test_seed_semantic_vad_settings_both_front_ends_agree(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("agentgraph.realtime.config._WARNED", set())  # once per process
    with caplog.at_level(logging.WARNING, logger="agentgraph.realtime"):
        python = normalize_model_settings({"turn_detection": dict(SEED_VAD)})
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "prefix_padding_ms, silence_duration_ms, threshold" in warnings[0]
    yaml_text = FULL.replace(
        "{type: semantic_vad, eagerness: high}",
        "{type: semantic_vad, eagerness: high, threshold: 0.5, prefix_padding_ms: 300, "
        "silence_duration_ms: 200}",
    )
    graph, result = compiled(yaml_text)
    (warning,) = [f for f in result.findings if f.code == "AG114"]
    assert "threshold, prefix_padding_ms, silence_duration_ms" in warning.message
    # YAML writes the defaults out; the same session either way, nothing gpt-realtime rejects
    assert graph.model_settings.turn_detection == {
        **(python.turn_detection or {}),
        "create_response": True,
        "interrupt_response": True,
    }
    assert python.turn_detection == {"type": "semantic_vad", "eagerness": "high"}


@pytest.mark.parametrize("voice", ["fable", "onyx", "nova"])
def test_seed_voices_are_accepted_everywhere_with_a_warning_for_openai(voice: str) -> None:
    assert normalize_model_settings({"voice": voice}).voice == voice
    text = FULL.replace("voice: cedar", f"voice: {voice}")
    _, local = compiled(text)
    assert not [f for f in local.findings if f.code == "AG113"]
    _, auto = compiled(text.replace("provider: local", "provider: auto"))
    (warning,) = [f for f in auto.findings if f.code == "AG113"]
    assert warning.severity == "warning" and voice in warning.message
    # the embedded engine takes the voice in a session.update
    session = default_session(session_id="s", model="m", expires_at=0)
    update = {"type": "realtime", "audio": {"output": {"voice": voice}}}
    assert (
        merge_session_update(session, update, voice_locked=False)["audio"]["output"]["voice"]
        == voice
    )


def test_the_engine_speaks_the_seed_voices_each_its_own_way() -> None:
    from agentgraph.engine.tts.espeak import EspeakSynthesizer

    audio = {
        v: EspeakSynthesizer(v).synthesize_pcm24("Hello there.") for v in ("fable", "onyx", "nova")
    }
    assert all(len(pcm) > 24000 for pcm in audio.values())  # more than half a second each
    assert len(set(audio.values())) == 3


def test_config_for_a_transport_keeps_the_settings_typed() -> None:
    from agentgraph.audio import AudioFormat
    from agentgraph.realtime import normalize_run_config

    graph, _ = compiled(FULL)
    config = graph.config_for(AudioFormat.G711_ULAW)
    assert isinstance(config["model_settings"], ModelSettings)
    assert config["greeting"] == Greeting(text="Welcome to the front desk.")
    run = normalize_run_config(config)
    assert run.model.input_format is AudioFormat.G711_ULAW
    assert run.model.output_format is AudioFormat.G711_ULAW
    assert run.model.voice == "cedar" and run.model.extra["speed"] == 1.2
    assert graph.model_settings.input_format is AudioFormat.PCM16  # unchanged
