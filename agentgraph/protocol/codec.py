"""JSON encoding and decoding of wire events, with a fast path for audio.

Audio is 40–50 events per second per direction per session, so the two audio events skip
the generic machinery: `input_audio_buffer.append` and `response.output_audio.delta` are
decoded with `json.loads` + dict access + `binascii.a2b_base64` and encoded with one string
concatenation (base64 never needs JSON escaping). Everything else goes through the
`EVENT_TYPES` table. Nothing here validates field types: that is the reader's job, once.

Errors: text that is not a JSON object with a string `type` raises `ProtocolError`; the
protocol cores catch it and turn it into an error event (never a crash).
"""

from __future__ import annotations

import binascii
import json
from typing import Any

from agentgraph.errors import ProtocolError
from agentgraph.protocol.events import (
    ClientEvent,
    InputAudioBufferAppend,
    ResponseOutputAudioDelta,
    ServerEvent,
    UnknownEvent,
    WireEvent,
    event_from_wire,
)

__all__ = [
    "MAX_LOG_SIZE",
    "decode_client_event",
    "decode_server_event",
    "encode_audio_append",
    "encode_audio_delta",
    "encode_event",
    "loads_object",
    "truncate_for_log",
]

MAX_LOG_SIZE = 200
_APPEND = "input_audio_buffer.append"
_DELTA = "response.output_audio.delta"
_DELTAS = frozenset({_DELTA, "response.audio.delta"})
_a2b = binascii.a2b_base64
_b2a = binascii.b2a_base64
_loads = json.loads
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def truncate_for_log(text: str | bytes, limit: int = MAX_LOG_SIZE) -> str:
    """A log-safe prefix of a payload (never log whole events: audio, secrets)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + f"...({len(text)} chars)"


def loads_object(message: str | bytes) -> dict[str, Any]:
    """Parse one message into a JSON object with a string `type`.

    Raises:
        ProtocolError: not JSON, not an object, or no string `type`.
    """
    try:
        data = _loads(message)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"event is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"event must be a JSON object, not {type(data).__name__}")
    if not isinstance(data.get("type"), str):
        raise ProtocolError("The 'type' field is missing.")
    return data


def _bad_audio(field: str) -> ProtocolError:
    return ProtocolError(f"'{field}' is not valid base64 audio")


def decode_server_event(message: str | bytes) -> ServerEvent | UnknownEvent:
    """Decode a server event (client side).

    Raises:
        ProtocolError: malformed JSON, no `type`, or undecodable audio.
    """
    data = loads_object(message)
    kind = data["type"]
    if kind in _DELTAS:
        try:
            audio = _a2b(data.get("delta") or b"")
        except (binascii.Error, TypeError, ValueError):
            raise _bad_audio("delta") from None
        return ResponseOutputAudioDelta(
            data.get("response_id", ""),
            data.get("item_id", ""),
            data.get("output_index", 0),
            data.get("content_index", 0),
            audio,
            data.get("event_id"),
        )
    event = event_from_wire(data, server=True)
    assert not isinstance(event, ClientEvent)
    return event


def decode_client_event(message: str | bytes) -> ClientEvent | UnknownEvent:
    """Decode a client event (server side, e.g. the embedded engine).

    Raises:
        ProtocolError: malformed JSON, no `type`, or undecodable audio.
    """
    data = loads_object(message)
    if data["type"] == _APPEND:
        try:
            audio = _a2b(data.get("audio") or b"")
        except (binascii.Error, TypeError, ValueError):
            raise _bad_audio("audio") from None
        return InputAudioBufferAppend(audio, data.get("event_id"))
    event = event_from_wire(data, server=False)
    assert not isinstance(event, ServerEvent)
    return event


def encode_audio_append(audio: bytes | bytearray | memoryview) -> str:
    """`input_audio_buffer.append` for `audio`, built without json.dumps (hot path)."""
    return (
        '{"type":"input_audio_buffer.append","audio":"'
        + _b2a(audio, newline=False).decode("ascii")
        + '"}'
    )


def encode_audio_delta(
    audio: bytes | bytearray | memoryview,
    *,
    response_id: str,
    item_id: str,
    output_index: int = 0,
    content_index: int = 0,
    event_id: str | None = None,
) -> str:
    """`response.output_audio.delta` built without dumping the audio through json (hot path)."""
    head = {
        "type": _DELTA,
        "response_id": response_id,
        "item_id": item_id,
        "output_index": output_index,
        "content_index": content_index,
    }
    if event_id is not None:
        head["event_id"] = event_id
    return _dumps(head)[:-1] + ',"delta":"' + _b2a(audio, newline=False).decode("ascii") + '"}'


def encode_event(event: WireEvent | dict[str, Any]) -> str:
    """Encode any event (or an already-built JSON object) as one JSON text frame."""
    if type(event) is InputAudioBufferAppend and event.event_id is None:
        return encode_audio_append(event.audio)
    if type(event) is ResponseOutputAudioDelta:
        return encode_audio_delta(
            event.delta,
            response_id=event.response_id,
            item_id=event.item_id,
            output_index=event.output_index,
            content_index=event.content_index,
            event_id=event.event_id,
        )
    if isinstance(event, dict):
        return _dumps(event)
    return _dumps(event.to_wire())
