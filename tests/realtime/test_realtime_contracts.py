"""Contract objects: function_tool schemas, config normalisation, handoffs, state table."""

from __future__ import annotations

import asyncio
from typing import Literal

import pytest
from pydantic import BaseModel

from agentgraph.audio import AudioFormat
from agentgraph.errors import InvalidState
from agentgraph.realtime import (
    SESSION_EVENT_TYPES,
    ApprovalPolicy,
    ModelSettingsError,
    RealtimeAgent,
    RealtimePlaybackTracker,
    ToolContext,
    function_tool,
    handoff,
    normalize_model_settings,
    normalize_run_config,
    transfer_tool_name,
)
from agentgraph.realtime.approval import is_affirmative, is_negative
from agentgraph.realtime.history import History
from agentgraph.realtime.state import TRANSITIONS, ConversationState, Trigger, mermaid, transition
from agentgraph.realtime.tool import parse_google_docstring, tool_output_to_str

CTX = ToolContext(None, None, "call_1")


class Slot(BaseModel):
    date: str
    time: str


def test_schema_from_signature_hints_and_google_docstring() -> None:
    async def book(slot: Slot, party: int = 2, kind: Literal["cut", "color"] = "cut") -> str:
        """Book a hair appointment.

        Longer explanation that is not part of the args.

        Args:
            slot: when to come,
                on one line or two.
            party: how many people.
            kind: what to do.

        Returns:
            A confirmation.
        """
        return f"{slot.date} {slot.time} {party} {kind}"

    tool = function_tool(book, name_override="book_hair", timeout_s=3)
    assert tool.name == "book_hair" and tool.timeout_s == 3
    assert tool.description.startswith("Book a hair appointment.")
    assert "Returns" not in tool.description
    schema = tool.params_json_schema
    assert schema["required"] == ["slot"] and schema["additionalProperties"] is False
    assert schema["properties"]["slot"]["description"] == "when to come, on one line or two."
    assert schema["properties"]["kind"]["enum"] == ["cut", "color"]
    assert schema["properties"]["party"] == {
        "default": 2,
        "description": "how many people.",
        "type": "integer",
    }
    out = asyncio.run(
        tool.on_invoke_tool(CTX, '{"slot": {"date": "Mon", "time": "9"}, "kind": "color"}')
    )
    assert out == "Mon 9 2 color"
    bad = asyncio.run(tool.on_invoke_tool(CTX, '{"slot": {"date": "Mon"}, "kind": "perm"}'))
    assert bad.startswith("Invalid arguments for tool book_hair: ")
    assert "slot.time: Field required" in bad and "kind: Input should be 'cut' or 'color'" in bad


def test_decorator_forms_and_output_conversion() -> None:
    @function_tool
    def plain() -> None:
        """Nothing."""

    @function_tool(needs_approval=True, description_override="Custom")
    def flagged(x: int) -> Slot:
        return Slot(date=str(x), time="t")

    assert plain.name == "plain" and flagged.description == "Custom"
    assert asyncio.run(plain.on_invoke_tool(CTX, "")) is None
    assert tool_output_to_str(None) == "done"
    assert tool_output_to_str(Slot(date="d", time="t")) == '{"date":"d","time":"t"}'
    assert tool_output_to_str({"a": [1]}) == '{"a": [1]}'
    assert tool_output_to_str(object).startswith('"<class')
    assert asyncio.run(flagged.requires_approval({"x": 1})) is True
    assert asyncio.run(plain.requires_approval({})) is False


def test_approval_predicates() -> None:
    async def needs(args: dict[str, object]) -> bool:
        return args.get("amount", 0) > 10  # type: ignore[operator]

    tool = function_tool(lambda amount: amount, name_override="pay", needs_approval=needs)
    assert asyncio.run(tool.requires_approval({"amount": 50})) is True
    assert asyncio.run(tool.requires_approval({"amount": 5})) is False
    failing = ApprovalPolicy(when=lambda a: a["missing"] > 1)  # type: ignore[index]
    assert failing.applies({}) is True  # a broken predicate fails safe
    assert (
        ApprovalPolicy(message="Book {date} at {time}?").render_message("book", {"date": "Mon"})
        == "Book Mon at {time}?"
    )
    assert ApprovalPolicy().render_message("book_table", {}) == "May I run book table?"
    with pytest.raises(ValueError, match="by must be"):
        ApprovalPolicy(by="boss")  # type: ignore[arg-type]
    assert is_affirmative("Yes, go ahead") and not is_affirmative("no, don't")
    assert is_negative("No thanks") and not is_affirmative("hmm")


def test_docstring_parser_edge_cases() -> None:
    assert parse_google_docstring(None) == ("", {})
    desc, params = parse_google_docstring("""Summary.

    Args:
        a (int): first.
        *args: rest.
    Raises:
        ValueError: never.
    """)
    assert desc == "Summary." and params == {"a": "first.", "args": "rest."}


def test_handoff_names_and_agent_tools() -> None:
    billing = RealtimeAgent(name="Billing Desk", handoff_description="Money questions.")
    assert transfer_tool_name("Billing Desk") == "transfer_to_billing_desk"
    h = handoff(billing)
    assert h.tool_name == "transfer_to_billing_desk"
    assert h.tool_description.endswith("Money questions.")
    custom = handoff(billing, tool_name_override="go_billing", tool_description_override="d")
    agent = RealtimeAgent(name="t", handoffs=(billing, custom))  # type: ignore[arg-type]
    assert [t["name"] for t in agent.tools_wire()] == ["transfer_to_billing_desk", "go_billing"]
    dup = RealtimeAgent(name="d", handoffs=[billing, billing])
    with pytest.raises(ValueError, match="two tools named 'transfer_to_billing_desk'"):
        dup.tools_wire()
    with pytest.raises(ValueError, match="non-empty name"):
        RealtimeAgent(name=" ")
    assert agent.clone(name="u").name == "u"
    dynamic = RealtimeAgent(name="x", instructions=lambda ctx, a: f"I am {a.name}")
    assert asyncio.run(dynamic.get_system_prompt()) == "I am x"


def test_flat_and_ga_settings_normalise_to_the_same_wire() -> None:
    flat = normalize_model_settings(
        {
            "model_name": "gpt-realtime",
            "voice": "marin",
            "modalities": ["text", "audio"],
            "input_audio_format": "g711_ulaw",
            "output_audio_format": "g711_ulaw",
            "input_audio_transcription": {"model": "gpt-4o-mini-transcribe"},
            "turn_detection": {"type": "vad", "silence_duration_ms": 500},
            "speed": 1.1,
        }
    )
    ga = normalize_model_settings(
        {
            "model": "gpt-realtime",
            "output_modalities": ["audio"],
            "audio": {
                "input": {
                    "format": {"type": "audio/pcmu"},
                    "transcription": {"model": "gpt-4o-mini-transcribe"},
                    "turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
                },
                "output": {"format": {"type": "audio/pcmu"}, "voice": "marin", "speed": 1.1},
            },
        }
    )
    assert flat == ga
    assert flat.input_format is AudioFormat.G711_ULAW
    wire = flat.session_wire(instructions="i", tools=[])
    assert wire["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert wire["audio"]["output"]["speed"] == 1.1
    manual = normalize_model_settings({"turn_detection": None})
    assert manual.manual_turns and not manual.server_interrupts
    wire = manual.session_wire(instructions="", tools=[])
    assert wire["audio"]["input"]["turn_detection"] is None
    assert (
        "turn_detection"
        not in normalize_model_settings({}).session_wire(instructions="", tools=[])["audio"][
            "input"
        ]
    )
    assert normalize_model_settings({"turn_detection": "semantic_vad"}).turn_detection == {
        "type": "semantic_vad"
    }


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"voice": "alloyy"}, "unknown voice 'alloyy' (did you mean 'alloy'?)"),
        ({"input_audio_format": "pcm8"}, "unknown input audio format 'pcm8'"),
        ({"modalities": ["video"]}, "unknown modality 'video'"),
        ({"turn_detection": {"type": "magic"}}, "unknown turn_detection type 'magic'"),
        ({"turn_detection": {"type": "semantic_vad", "eagerness": "fast"}}, "eagerness 'fast'"),
        ({"vioce": "ash"}, "unknown model setting 'vioce' (did you mean 'voice'?)"),
        ({"speed": 3}, "speed must be between 0.25 and 1.5"),
    ],
)
def test_bad_settings_are_clear_errors(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ModelSettingsError) as info:
        normalize_model_settings(settings)
    assert message in str(info.value)


def test_run_config() -> None:
    run = normalize_run_config({"tool_filler_after_s": 1.5, "reconnect_max_attempts": 3})
    assert run.tool_filler_after_s == 1.5 and run.reconnect_max_attempts == 3
    with pytest.raises(ModelSettingsError, match="did you mean 'model_settings'"):
        normalize_run_config({"model_setings": {}})
    with pytest.raises(ModelSettingsError, match="tool_filler_after_s"):
        normalize_run_config({"tool_filler_after_s": -1})


def test_state_table_is_complete_and_barge_in_is_a_transition() -> None:
    for state in ConversationState:
        for trigger in Trigger:
            assert (state, trigger) in TRANSITIONS
    assert transition(ConversationState.RESPONDING, Trigger.SPEECH_STARTED) is (
        ConversationState.INTERRUPTED
    )
    assert "responding --> interrupted: speech_started" in mermaid()
    TRANSITIONS.pop((ConversationState.IDLE, Trigger.INTERRUPT))
    try:
        with pytest.raises(InvalidState, match="cannot handle interrupt in state idle"):
            transition(ConversationState.IDLE, Trigger.INTERRUPT)
    finally:
        TRANSITIONS[(ConversationState.IDLE, Trigger.INTERRUPT)] = ConversationState.IDLE


def test_history_deltas_do_not_copy() -> None:
    history = History()
    history.add("a1", "message", "assistant")
    for _ in range(20_000):
        history.append_text("a1", "ab")
    assert history.text_of("a1") == "ab" * 20_000
    history.set_text("a1", "final")
    history.append_text("a1", "ignored after done")
    assert history.items()[0].text == "final"
    assert history.add("a1", "message", "assistant") is None
    assert history.transcript() == [("assistant", "final")]


def test_playback_tracker_and_event_table() -> None:
    tracker = RealtimePlaybackTracker(AudioFormat.G711_ULAW)
    tracker.on_play_bytes("i1", 0, b"\x00" * 160)
    tracker.on_play_ms("i1", 0, 5)
    assert tracker.get_state().played_ms == 25.0
    tracker.on_play_ms("i2", 0, 1)
    assert tracker.get_state().item_id == "i2" and tracker.get_state().played_ms == 1
    # DESIGN.md's seed vocabulary, plus `dtmf` for phone keypads.
    assert set(SESSION_EVENT_TYPES) == {
        "agent_start",
        "agent_end",
        "audio_delta",
        "audio_done",
        "audio_interrupted",
        "transcript_delta",
        "transcript_done",
        "input_transcript_delta",
        "input_transcript_done",
        "speech_started",
        "speech_stopped",
        "dtmf",
        "tool_start",
        "tool_end",
        "tool_approval_required",
        "approval_asked",
        "approval_decided",
        "response_started",
        "response_done",
        "handoff",
        "guardrail_tripped",
        "history_added",
        "connection",
        "error",
        "raw_model_event",
    }
