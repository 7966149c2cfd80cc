"""Wire events: every GA event round-trips through the table, and §6 transcripts decode."""

from __future__ import annotations

import dataclasses
import json

import pytest

from agentgraph.protocol import (
    BETA_ALIASES,
    CLIENT_EVENT_TYPES,
    EVENT_TYPES,
    UnknownEvent,
    decode_client_event,
    decode_server_event,
    encode_event,
    event_from_wire,
)
from agentgraph.protocol import events as ev

# realtime-protocol.md §3 and §4: the names this module must know.
GA_CLIENT = {
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.retrieve",
    "conversation.item.truncate",
    "conversation.item.delete",
    "response.create",
    "response.cancel",
    "output_audio_buffer.clear",
}
GA_SERVER = {
    "error",
    "session.created",
    "session.updated",
    "conversation.created",
    "rate_limits.updated",
    "conversation.item.added",
    "conversation.item.done",
    "conversation.item.created",
    "conversation.item.retrieved",
    "conversation.item.truncated",
    "conversation.item.deleted",
    "conversation.item.input_audio_transcription.delta",
    "conversation.item.input_audio_transcription.completed",
    "conversation.item.input_audio_transcription.failed",
    "conversation.item.input_audio_transcription.segment",
    "input_audio_buffer.committed",
    "input_audio_buffer.cleared",
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "input_audio_buffer.timeout_triggered",
    "input_audio_buffer.dtmf_event_received",
    "response.created",
    "response.done",
    "response.output_item.added",
    "response.output_item.done",
    "response.content_part.added",
    "response.content_part.done",
    "response.output_text.delta",
    "response.output_text.done",
    "response.output_audio.delta",
    "response.output_audio.done",
    "response.output_audio_transcript.delta",
    "response.output_audio_transcript.done",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "output_audio_buffer.started",
    "output_audio_buffer.stopped",
    "output_audio_buffer.cleared",
}


def test_tables_cover_the_ga_protocol_exactly() -> None:
    assert set(CLIENT_EVENT_TYPES) == GA_CLIENT
    assert set(EVENT_TYPES) == GA_SERVER
    for name, cls in {**EVENT_TYPES, **CLIENT_EVENT_TYPES}.items():
        assert cls.type == name
        assert dataclasses.is_dataclass(cls)
        assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        assert hasattr(cls, "__slots__")


def _sample(cls: type) -> object:
    """An instance with a non-default value in every field."""
    values: dict[str, object] = {}
    for f in dataclasses.fields(cls):
        kind = str(f.type)
        if kind.startswith("bytes"):
            values[f.name] = b"\x00\x01\xfe\xff" * 3
        elif kind.startswith("str"):
            values[f.name] = f"{f.name}_1"
        elif kind.startswith("int"):
            values[f.name] = 7
        elif kind.startswith("float"):
            values[f.name] = 1.5
        elif kind.startswith("list"):
            values[f.name] = [{"name": "requests", "limit": 10}]
        else:
            values[f.name] = {"id": "x", "nested": {"a": [1, 2]}}
    return cls(**values)


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_server_event_round_trip(name: str) -> None:
    event = _sample(EVENT_TYPES[name])
    text = encode_event(event)  # type: ignore[arg-type]
    assert json.loads(text)["type"] == name
    assert decode_server_event(text) == event


@pytest.mark.parametrize("name", sorted(CLIENT_EVENT_TYPES))
def test_client_event_round_trip(name: str) -> None:
    event = _sample(CLIENT_EVENT_TYPES[name])
    text = encode_event(event)  # type: ignore[arg-type]
    assert json.loads(text)["type"] == name
    assert decode_client_event(text) == event


def test_missing_fields_take_defaults_and_unknown_fields_are_ignored() -> None:
    event = decode_server_event(
        '{"type":"input_audio_buffer.speech_started","item_id":"item_U1","brand_new":1}'
    )
    assert event == ev.InputAudioBufferSpeechStarted(audio_start_ms=0, item_id="item_U1")


def test_to_wire_leaves_out_unset_optional_fields() -> None:
    assert ev.ResponseCancel().to_wire() == {"type": "response.cancel"}
    assert ev.ConversationItemCreate(item={"type": "message"}).to_wire() == {
        "type": "conversation.item.create",
        "item": {"type": "message"},
    }
    assert ev.ResponseCreate(response={"instructions": "hi"}, event_id="c1").to_wire() == {
        "type": "response.create",
        "response": {"instructions": "hi"},
        "event_id": "c1",
    }


def test_unknown_server_and_client_types_decode_to_unknown_event() -> None:
    raw = '{"type":"response.mcp_call.in_progress","item_id":"i","x":[1]}'
    event = decode_server_event(raw)
    assert event == UnknownEvent("response.mcp_call.in_progress", json.loads(raw))
    assert json.loads(encode_event(event)) == json.loads(raw)
    client = decode_client_event('{"type":"transcription_session.update","session":{}}')
    assert isinstance(client, UnknownEvent) and client.type == "transcription_session.update"


def test_event_from_wire_without_string_type_is_unknown() -> None:
    assert event_from_wire({"type": 3}) == UnknownEvent("", {"type": 3})


def test_event_from_wire_decodes_base64_fields_in_the_generic_path() -> None:
    event = event_from_wire({"type": "input_audio_buffer.append", "audio": "AAE="}, server=False)
    assert event == ev.InputAudioBufferAppend(audio=b"\x00\x01")
    delta = event_from_wire({"type": "response.output_audio.delta", "delta": b"raw"})
    assert isinstance(delta, ev.ResponseOutputAudioDelta) and delta.delta == b"raw"


@pytest.mark.parametrize(("beta", "ga"), sorted(BETA_ALIASES.items()))
def test_beta_names_decode_as_ga_events(beta: str, ga: str) -> None:
    event = decode_server_event(json.dumps({"type": beta, "item_id": "item_1", "delta": "AAE="}))
    assert type(event) is EVENT_TYPES[ga]
    assert event.item_id == "item_1"  # type: ignore[union-attr]


# realtime-protocol.md §6(a) and §6(b), as a server would send them (written for this test).
TRANSCRIPT = [
    '{"type":"input_audio_buffer.speech_started","event_id":"event_1","audio_start_ms":1180,'
    '"item_id":"item_U1"}',
    '{"type":"input_audio_buffer.speech_stopped","event_id":"event_2","audio_end_ms":2950,'
    '"item_id":"item_U1"}',
    '{"type":"input_audio_buffer.committed","event_id":"event_3","item_id":"item_U1",'
    '"previous_item_id":null}',
    '{"type":"conversation.item.added","event_id":"event_4","previous_item_id":null,"item":'
    '{"id":"item_U1","type":"message","role":"user","status":"completed","content":'
    '[{"type":"input_audio","transcript":null}]}}',
    '{"type":"response.created","event_id":"event_5","response":{"id":"resp_R1",'
    '"status":"in_progress","output":[],"usage":null}}',
    '{"type":"response.output_item.added","event_id":"event_6","response_id":"resp_R1",'
    '"output_index":0,"item":{"id":"item_A1","type":"message","role":"assistant",'
    '"status":"in_progress","content":[]}}',
    '{"type":"response.content_part.added","event_id":"event_7","response_id":"resp_R1",'
    '"item_id":"item_A1","output_index":0,"content_index":0,"part":{"type":"audio",'
    '"transcript":""}}',
    '{"type":"response.output_audio_transcript.delta","event_id":"event_8","response_id":'
    '"resp_R1","item_id":"item_A1","output_index":0,"content_index":0,"delta":"Sure"}',
    '{"type":"response.output_audio.delta","event_id":"event_9","response_id":"resp_R1",'
    '"item_id":"item_A1","output_index":0,"content_index":0,"delta":"AAABAP7/AgD9/w=="}',
    '{"type":"response.function_call_arguments.done","event_id":"event_10","response_id":'
    '"resp_R2","item_id":"item_F1","output_index":0,"call_id":"call_Zx81","name":"book_visit",'
    '"arguments":"{\\"date\\":\\"2026-09-01\\"}"}',
    '{"type":"response.done","event_id":"event_11","response":{"id":"resp_R1","status":'
    '"completed"}}',
]


def test_recorded_transcript_decodes_to_typed_events() -> None:
    decoded = [decode_server_event(line) for line in TRANSCRIPT]
    assert [type(e).__name__ for e in decoded] == [
        "InputAudioBufferSpeechStarted",
        "InputAudioBufferSpeechStopped",
        "InputAudioBufferCommitted",
        "ConversationItemAdded",
        "ResponseCreated",
        "ResponseOutputItemAdded",
        "ResponseContentPartAdded",
        "ResponseOutputAudioTranscriptDelta",
        "ResponseOutputAudioDelta",
        "ResponseFunctionCallArgumentsDone",
        "ResponseDone",
    ]
    started = decoded[0]
    assert isinstance(started, ev.InputAudioBufferSpeechStarted)
    assert (started.audio_start_ms, started.item_id, started.event_id) == (
        1180,
        "item_U1",
        "event_1",
    )
    audio = decoded[8]
    assert isinstance(audio, ev.ResponseOutputAudioDelta)
    assert audio.delta == b"\x00\x00\x01\x00\xfe\xff\x02\x00\xfd\xff"
    call = decoded[9]
    assert isinstance(call, ev.ResponseFunctionCallArgumentsDone)
    assert (call.name, json.loads(call.arguments)) == ("book_visit", {"date": "2026-09-01"})
    # Re-encoding and decoding again gives the same events (the engine's direction).
    assert [decode_server_event(encode_event(e)) for e in decoded] == decoded
