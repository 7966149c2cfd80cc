"""The OpenAI Realtime GA wire vocabulary: one frozen dataclass per client and server event.

This is the only module that spells wire names such as `response.output_audio.delta`
(realtime-protocol.md §3 and §4). Field names are the wire's field names. Nested objects
(`session`, `item`, `response`, `part`, `error`) stay plain dicts: the client and the engine
read the few keys they need, and unknown keys from newer servers pass through untouched.

Decoding is one table, `EVENT_TYPES` (server events) and `CLIENT_EVENT_TYPES`; a type we do
not know becomes `UnknownEvent(type, raw)` so a newer peer never crashes us. Missing fields
take their defaults (no per-event validation; the codec stays cheap). Audio fields
(`input_audio_buffer.append.audio`, `response.output_audio.delta.delta`) are `bytes` here:
base64 is decoded once, in `codec.py`. Encoding is `event.to_wire()`.
"""

from __future__ import annotations

import binascii
import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "BETA_ALIASES",
    "CLIENT_EVENT_TYPES",
    "EVENT_TYPES",
    "ClientEvent",
    "ConversationCreated",
    "ConversationItemAdded",
    "ConversationItemCreate",
    "ConversationItemCreated",
    "ConversationItemDelete",
    "ConversationItemDeleted",
    "ConversationItemDone",
    "ConversationItemRetrieve",
    "ConversationItemRetrieved",
    "ConversationItemTruncate",
    "ConversationItemTruncated",
    "ErrorEvent",
    "InputAudioBufferAppend",
    "InputAudioBufferClear",
    "InputAudioBufferCleared",
    "InputAudioBufferCommit",
    "InputAudioBufferCommitted",
    "InputAudioBufferDtmfEventReceived",
    "InputAudioBufferSpeechStarted",
    "InputAudioBufferSpeechStopped",
    "InputAudioBufferTimeoutTriggered",
    "InputAudioTranscriptionCompleted",
    "InputAudioTranscriptionDelta",
    "InputAudioTranscriptionFailed",
    "InputAudioTranscriptionSegment",
    "OutputAudioBufferClear",
    "OutputAudioBufferCleared",
    "OutputAudioBufferStarted",
    "OutputAudioBufferStopped",
    "RateLimitsUpdated",
    "ResponseCancel",
    "ResponseContentPartAdded",
    "ResponseContentPartDone",
    "ResponseCreate",
    "ResponseCreated",
    "ResponseDone",
    "ResponseFunctionCallArgumentsDelta",
    "ResponseFunctionCallArgumentsDone",
    "ResponseOutputAudioDelta",
    "ResponseOutputAudioDone",
    "ResponseOutputAudioTranscriptDelta",
    "ResponseOutputAudioTranscriptDone",
    "ResponseOutputItemAdded",
    "ResponseOutputItemDone",
    "ResponseOutputTextDelta",
    "ResponseOutputTextDone",
    "ServerEvent",
    "SessionCreated",
    "SessionUpdate",
    "SessionUpdated",
    "UnknownEvent",
    "WireEvent",
    "event_from_wire",
]


def _b64(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


class _WireBase:
    """Shared encode/decode for wire events (methods only; no data, no slots)."""

    __slots__ = ()
    type: ClassVar[str]
    #: (name, is_bytes) per field, filled in by `_register`.
    _wire_fields: ClassVar[tuple[tuple[str, bool], ...]] = ()

    def to_wire(self) -> dict[str, Any]:
        """The JSON object for this event (bytes as base64; unset optional fields left out)."""
        out: dict[str, Any] = {"type": self.type}
        for name, is_bytes in self._wire_fields:
            value = getattr(self, name)
            if value is None:
                continue
            out[name] = _b64(value) if is_bytes else value
        return out

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Any:
        """Build the event from a decoded JSON object (base64 fields decoded to bytes)."""
        kwargs: dict[str, Any] = {}
        for name, is_bytes in cls._wire_fields:
            if name in data:
                value = data[name]
                if is_bytes and isinstance(value, str):
                    value = binascii.a2b_base64(value)
                kwargs[name] = value
        return cls(**kwargs)


class ClientEvent(_WireBase):
    """An event the client sends (realtime-protocol.md §3)."""

    __slots__ = ()


class ServerEvent(_WireBase):
    """An event the server sends (realtime-protocol.md §4)."""

    __slots__ = ()


EVENT_TYPES: dict[str, type[ServerEvent]] = {}
CLIENT_EVENT_TYPES: dict[str, type[ClientEvent]] = {}
#: beta event names (realtime-protocol.md §5) decoded as their GA equivalents.
BETA_ALIASES: dict[str, str] = {
    "response.text.delta": "response.output_text.delta",
    "response.text.done": "response.output_text.done",
    "response.audio.delta": "response.output_audio.delta",
    "response.audio.done": "response.output_audio.done",
    "response.audio_transcript.delta": "response.output_audio_transcript.delta",
    "response.audio_transcript.done": "response.output_audio_transcript.done",
}


def _register(wire_type: str) -> Any:
    def wrap(cls: Any) -> Any:
        cls.type = wire_type
        cls._wire_fields = tuple(
            (f.name, f.type in ("bytes", "bytes | None")) for f in dataclasses.fields(cls)
        )
        table: dict[str, Any] = EVENT_TYPES if issubclass(cls, ServerEvent) else CLIENT_EVENT_TYPES
        table[wire_type] = cls
        return cls

    return wrap


# ---------------------------------------------------------------- client events (§3)


@_register("session.update")
@dataclass(frozen=True, slots=True)
class SessionUpdate(ClientEvent):
    session: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None


@_register("input_audio_buffer.append")
@dataclass(frozen=True, slots=True)
class InputAudioBufferAppend(ClientEvent):
    audio: bytes = b""
    event_id: str | None = None


@_register("input_audio_buffer.commit")
@dataclass(frozen=True, slots=True)
class InputAudioBufferCommit(ClientEvent):
    event_id: str | None = None


@_register("input_audio_buffer.clear")
@dataclass(frozen=True, slots=True)
class InputAudioBufferClear(ClientEvent):
    event_id: str | None = None


@_register("conversation.item.create")
@dataclass(frozen=True, slots=True)
class ConversationItemCreate(ClientEvent):
    item: dict[str, Any] = field(default_factory=dict)
    previous_item_id: str | None = None
    event_id: str | None = None


@_register("conversation.item.retrieve")
@dataclass(frozen=True, slots=True)
class ConversationItemRetrieve(ClientEvent):
    item_id: str = ""
    event_id: str | None = None


@_register("conversation.item.truncate")
@dataclass(frozen=True, slots=True)
class ConversationItemTruncate(ClientEvent):
    item_id: str = ""
    content_index: int = 0
    audio_end_ms: int = 0
    event_id: str | None = None


@_register("conversation.item.delete")
@dataclass(frozen=True, slots=True)
class ConversationItemDelete(ClientEvent):
    item_id: str = ""
    event_id: str | None = None


@_register("response.create")
@dataclass(frozen=True, slots=True)
class ResponseCreate(ClientEvent):
    response: dict[str, Any] | None = None
    event_id: str | None = None


@_register("response.cancel")
@dataclass(frozen=True, slots=True)
class ResponseCancel(ClientEvent):
    response_id: str | None = None
    event_id: str | None = None


@_register("output_audio_buffer.clear")
@dataclass(frozen=True, slots=True)
class OutputAudioBufferClear(ClientEvent):
    event_id: str | None = None


# ---------------------------------------------------------------- server events (§4)


@_register("error")
@dataclass(frozen=True, slots=True)
class ErrorEvent(ServerEvent):
    error: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None


@_register("session.created")
@dataclass(frozen=True, slots=True)
class SessionCreated(ServerEvent):
    session: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None


@_register("session.updated")
@dataclass(frozen=True, slots=True)
class SessionUpdated(ServerEvent):
    session: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None


@_register("conversation.created")
@dataclass(frozen=True, slots=True)
class ConversationCreated(ServerEvent):
    conversation: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None


@_register("rate_limits.updated")
@dataclass(frozen=True, slots=True)
class RateLimitsUpdated(ServerEvent):
    rate_limits: list[dict[str, Any]] = field(default_factory=list)
    event_id: str | None = None


@_register("conversation.item.added")
@dataclass(frozen=True, slots=True)
class ConversationItemAdded(ServerEvent):
    item: dict[str, Any] = field(default_factory=dict)
    previous_item_id: str | None = None
    event_id: str | None = None


@_register("conversation.item.done")
@dataclass(frozen=True, slots=True)
class ConversationItemDone(ServerEvent):
    item: dict[str, Any] = field(default_factory=dict)
    previous_item_id: str | None = None
    event_id: str | None = None


@_register("conversation.item.created")
@dataclass(frozen=True, slots=True)
class ConversationItemCreated(ServerEvent):
    """Beta's item event; GA servers send added/done instead, but the SDK union keeps it."""

    item: dict[str, Any] = field(default_factory=dict)
    previous_item_id: str | None = None
    event_id: str | None = None


@_register("conversation.item.retrieved")
@dataclass(frozen=True, slots=True)
class ConversationItemRetrieved(ServerEvent):
    item: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None


@_register("conversation.item.truncated")
@dataclass(frozen=True, slots=True)
class ConversationItemTruncated(ServerEvent):
    item_id: str = ""
    content_index: int = 0
    audio_end_ms: int = 0
    event_id: str | None = None


@_register("conversation.item.deleted")
@dataclass(frozen=True, slots=True)
class ConversationItemDeleted(ServerEvent):
    item_id: str = ""
    event_id: str | None = None


@_register("conversation.item.input_audio_transcription.delta")
@dataclass(frozen=True, slots=True)
class InputAudioTranscriptionDelta(ServerEvent):
    item_id: str = ""
    content_index: int | None = None
    delta: str = ""
    logprobs: list[dict[str, Any]] | None = None
    event_id: str | None = None


@_register("conversation.item.input_audio_transcription.completed")
@dataclass(frozen=True, slots=True)
class InputAudioTranscriptionCompleted(ServerEvent):
    item_id: str = ""
    content_index: int = 0
    transcript: str = ""
    usage: dict[str, Any] | None = None
    logprobs: list[dict[str, Any]] | None = None
    event_id: str | None = None


@_register("conversation.item.input_audio_transcription.failed")
@dataclass(frozen=True, slots=True)
class InputAudioTranscriptionFailed(ServerEvent):
    item_id: str = ""
    content_index: int = 0
    error: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None


@_register("conversation.item.input_audio_transcription.segment")
@dataclass(frozen=True, slots=True)
class InputAudioTranscriptionSegment(ServerEvent):
    item_id: str = ""
    content_index: int = 0
    id: str = ""
    speaker: str = ""
    start: float = 0.0
    end: float = 0.0
    text: str = ""
    event_id: str | None = None


@_register("input_audio_buffer.committed")
@dataclass(frozen=True, slots=True)
class InputAudioBufferCommitted(ServerEvent):
    item_id: str = ""
    previous_item_id: str | None = None
    event_id: str | None = None


@_register("input_audio_buffer.cleared")
@dataclass(frozen=True, slots=True)
class InputAudioBufferCleared(ServerEvent):
    event_id: str | None = None


@_register("input_audio_buffer.speech_started")
@dataclass(frozen=True, slots=True)
class InputAudioBufferSpeechStarted(ServerEvent):
    audio_start_ms: int = 0
    item_id: str = ""
    event_id: str | None = None


@_register("input_audio_buffer.speech_stopped")
@dataclass(frozen=True, slots=True)
class InputAudioBufferSpeechStopped(ServerEvent):
    audio_end_ms: int = 0
    item_id: str = ""
    event_id: str | None = None


@_register("input_audio_buffer.timeout_triggered")
@dataclass(frozen=True, slots=True)
class InputAudioBufferTimeoutTriggered(ServerEvent):
    audio_start_ms: int = 0
    audio_end_ms: int = 0
    item_id: str = ""
    event_id: str | None = None


@_register("input_audio_buffer.dtmf_event_received")
@dataclass(frozen=True, slots=True)
class InputAudioBufferDtmfEventReceived(ServerEvent):
    event: str = ""
    received_at: int = 0
    event_id: str | None = None


@_register("response.created")
@dataclass(frozen=True, slots=True)
class ResponseCreated(ServerEvent):
    response: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None


@_register("response.done")
@dataclass(frozen=True, slots=True)
class ResponseDone(ServerEvent):
    response: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None


@_register("response.output_item.added")
@dataclass(frozen=True, slots=True)
class ResponseOutputItemAdded(ServerEvent):
    response_id: str = ""
    output_index: int = 0
    item: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None


@_register("response.output_item.done")
@dataclass(frozen=True, slots=True)
class ResponseOutputItemDone(ServerEvent):
    response_id: str = ""
    output_index: int = 0
    item: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None


@_register("response.content_part.added")
@dataclass(frozen=True, slots=True)
class ResponseContentPartAdded(ServerEvent):
    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    part: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None


@_register("response.content_part.done")
@dataclass(frozen=True, slots=True)
class ResponseContentPartDone(ServerEvent):
    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    part: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None


@_register("response.output_text.delta")
@dataclass(frozen=True, slots=True)
class ResponseOutputTextDelta(ServerEvent):
    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    delta: str = ""
    event_id: str | None = None


@_register("response.output_text.done")
@dataclass(frozen=True, slots=True)
class ResponseOutputTextDone(ServerEvent):
    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    text: str = ""
    event_id: str | None = None


@_register("response.output_audio.delta")
@dataclass(frozen=True, slots=True)
class ResponseOutputAudioDelta(ServerEvent):
    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    delta: bytes = b""
    event_id: str | None = None


@_register("response.output_audio.done")
@dataclass(frozen=True, slots=True)
class ResponseOutputAudioDone(ServerEvent):
    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    event_id: str | None = None


@_register("response.output_audio_transcript.delta")
@dataclass(frozen=True, slots=True)
class ResponseOutputAudioTranscriptDelta(ServerEvent):
    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    delta: str = ""
    event_id: str | None = None


@_register("response.output_audio_transcript.done")
@dataclass(frozen=True, slots=True)
class ResponseOutputAudioTranscriptDone(ServerEvent):
    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    transcript: str = ""
    event_id: str | None = None


@_register("response.function_call_arguments.delta")
@dataclass(frozen=True, slots=True)
class ResponseFunctionCallArgumentsDelta(ServerEvent):
    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    call_id: str = ""
    delta: str = ""
    event_id: str | None = None


@_register("response.function_call_arguments.done")
@dataclass(frozen=True, slots=True)
class ResponseFunctionCallArgumentsDone(ServerEvent):
    """`name` is [newer]; take it from `response.output_item.added` when absent."""

    response_id: str = ""
    item_id: str = ""
    output_index: int = 0
    call_id: str = ""
    arguments: str = ""
    name: str | None = None
    event_id: str | None = None


@_register("output_audio_buffer.started")
@dataclass(frozen=True, slots=True)
class OutputAudioBufferStarted(ServerEvent):
    response_id: str = ""
    event_id: str | None = None


@_register("output_audio_buffer.stopped")
@dataclass(frozen=True, slots=True)
class OutputAudioBufferStopped(ServerEvent):
    response_id: str = ""
    event_id: str | None = None


@_register("output_audio_buffer.cleared")
@dataclass(frozen=True, slots=True)
class OutputAudioBufferCleared(ServerEvent):
    response_id: str = ""
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class UnknownEvent:
    """An event type this version does not know; `raw` is the whole decoded object."""

    type: str
    raw: dict[str, Any]

    def to_wire(self) -> dict[str, Any]:
        """The original object (re-encoding passes it through unchanged)."""
        return self.raw


WireEvent = ClientEvent | ServerEvent | UnknownEvent


def event_from_wire(data: dict[str, Any], *, server: bool = True) -> WireEvent:
    """Build an event from a decoded JSON object using the decode tables.

    Args:
        data: a JSON object with a `type` string.
        server: decode as a server event (True) or as a client event (False).
    """
    kind = data.get("type")
    if not isinstance(kind, str):
        return UnknownEvent("", data)
    table: dict[str, Any] = EVENT_TYPES if server else CLIENT_EVENT_TYPES
    cls = table.get(kind)
    if cls is None and server:
        alias = BETA_ALIASES.get(kind)
        if alias is not None:
            cls = table[alias]
    if cls is None:
        return UnknownEvent(kind, data)
    event: WireEvent = cls.from_wire(data)
    return event
