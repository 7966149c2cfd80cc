"""The codec: fast audio paths agree with the generic path; bad input is a ProtocolError."""

from __future__ import annotations

import base64
import json

import pytest

from agentgraph.errors import ProtocolError
from agentgraph.protocol import (
    MAX_LOG_SIZE,
    decode_client_event,
    decode_server_event,
    encode_audio_append,
    encode_audio_delta,
    encode_event,
    loads_object,
    truncate_for_log,
)
from agentgraph.protocol import events as ev

PCM = bytes(range(256)) * 4  # 1024 bytes, every byte value


def test_append_fast_path_is_exact_json() -> None:
    text = encode_audio_append(PCM)
    assert json.loads(text) == {
        "type": "input_audio_buffer.append",
        "audio": base64.b64encode(PCM).decode(),
    }
    assert encode_audio_append(b"\x00\x01") == (
        '{"type":"input_audio_buffer.append","audio":"AAE="}'
    )
    assert encode_event(ev.InputAudioBufferAppend(PCM)) == text
    assert decode_client_event(text) == ev.InputAudioBufferAppend(PCM)


def test_append_with_event_id_uses_generic_path() -> None:
    text = encode_event(ev.InputAudioBufferAppend(b"\x01\x02", event_id="cli_1"))
    assert json.loads(text) == {
        "type": "input_audio_buffer.append",
        "audio": "AQI=",
        "event_id": "cli_1",
    }
    assert decode_client_event(text) == ev.InputAudioBufferAppend(b"\x01\x02", "cli_1")


@pytest.mark.parametrize("event_id", [None, "event_7"])
def test_delta_fast_path_matches_generic_encoding(event_id: str | None) -> None:
    event = ev.ResponseOutputAudioDelta("resp_1", 'item_"q"', 1, 2, PCM, event_id)
    text = encode_event(event)
    assert json.loads(text) == {**event.to_wire()}
    assert decode_server_event(text) == event
    direct = encode_audio_delta(
        PCM,
        response_id="resp_1",
        item_id='item_"q"',
        output_index=1,
        content_index=2,
        event_id=event_id,
    )
    assert direct == text


def test_delta_decode_with_missing_fields() -> None:
    assert decode_server_event('{"type":"response.output_audio.delta"}') == (
        ev.ResponseOutputAudioDelta()
    )
    assert decode_server_event('{"type":"response.audio.delta","delta":"AAE="}') == (
        ev.ResponseOutputAudioDelta(delta=b"\x00\x01")
    )


def test_encode_plain_dict() -> None:
    assert encode_event({"type": "response.cancel"}) == '{"type":"response.cancel"}'
    assert encode_event({"type": "x", "text": "é"}) == '{"type":"x","text":"é"}'


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        ("[1, 2]", "must be a JSON object, not list"),
        ('{"event_id": "x"}', "The 'type' field is missing."),
        ('{"type": 5}', "The 'type' field is missing."),
    ],
)
def test_malformed_messages_raise_protocol_error(message: str | bytes, error: str) -> None:
    with pytest.raises(ProtocolError, match=error.replace("(", r"\(").replace(".", r"\.")):
        loads_object(message)
    with pytest.raises(ProtocolError):
        decode_server_event(message)
    with pytest.raises(ProtocolError):
        decode_client_event(message)


def test_bad_base64_audio_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="'delta' is not valid base64"):
        decode_server_event('{"type":"response.output_audio.delta","delta":"abc"}')
    with pytest.raises(ProtocolError, match="'delta' is not valid base64"):
        decode_server_event('{"type":"response.output_audio.delta","delta":12}')
    with pytest.raises(ProtocolError, match="'audio' is not valid base64"):
        decode_client_event('{"type":"input_audio_buffer.append","audio":"abc"}')
    with pytest.raises(ProtocolError, match="'audio' is not valid base64"):
        decode_client_event('{"type":"input_audio_buffer.append","audio":["x"]}')


def test_empty_audio_is_allowed() -> None:
    assert decode_client_event('{"type":"input_audio_buffer.append"}') == (
        ev.InputAudioBufferAppend(b"")
    )


def test_truncate_for_log() -> None:
    assert truncate_for_log("short") == "short"
    long = "x" * (MAX_LOG_SIZE + 50)
    assert truncate_for_log(long) == "x" * MAX_LOG_SIZE + f"...({MAX_LOG_SIZE + 50} chars)"
    assert truncate_for_log(b"\xffab", limit=10) == "\ufffdab"
