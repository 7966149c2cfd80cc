"""The embedded engine's server side of the Realtime GA protocol, sans-I/O.

Theory of operation. One `EngineProtocol` per websocket connection. The shell feeds every
text frame to `receive(message, now)`, writes `data_to_send()`, re-arms one timer at
`next_deadline()` and calls `handle_timeout(now)` when it fires. When a response needs
words, the core emits a `PolicyRequest` (drained with `events_received()`); the shell asks
the dialogue policy (possibly over the network, for `chat`) and hands the answer back with
`receive_decision(response_id, decision, now)`. Everything else is decided here:

* the session object and `session.update` merge/validation (`session_config.py`);
* the conversation: an ordered list of items with create (append, `root`, after an id),
  retrieve (with audio), truncate (assistant audio only, within the audio sent) and delete;
* responses: one active default-conversation response
  (`conversation_already_has_active_response`), out-of-band ones beside it, cancel, and
  the event order of realtime-protocol.md §6 (produced by `responses.ResponseStream`);
* input audio: the buffer with the 100 ms commit rule, and voice turns through a
  `Listener` (VAD + ASR, `listener.py`) when turn detection is on: speech_started/stopped on
  the cumulative input timeline, commit, transcription events, auto response and barge-in.

Bad input from the client never raises: it becomes an `error` event carrying the client's
`event_id`, and the session stays open.
"""

from __future__ import annotations

import binascii
import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from agentgraph.audio import AudioFormat, alaw_to_pcm16, resample_pcm16, ulaw_to_pcm16
from agentgraph.engine.items import item_turn, public_item, validate_item
from agentgraph.engine.policy.base import Decision, PolicyContext, ToolSpec
from agentgraph.engine.responses import ResponseStream, Synthesizer
from agentgraph.engine.session_config import (
    SessionError,
    default_session,
    merge_session_update,
)
from agentgraph.errors import ProtocolError
from agentgraph.protocol import decode_client_event, encode_event
from agentgraph.protocol import events as ev

__all__ = [
    "EngineProtocol",
    "Listener",
    "ListenerEvent",
    "PolicyRequest",
    "SpeechStarted",
    "SpeechStopped",
]

MAX_INPUT_BUFFER_MS = 5 * 60 * 1000  # audio kept for one uncommitted turn
MIN_COMMIT_MS = 100
MAX_ITEMS = 4096


@dataclass(frozen=True, slots=True)
class PolicyRequest:
    """The core needs the policy's decision for response `response_id`."""

    response_id: str
    context: PolicyContext


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """The listener heard speech begin at `audio_start_ms` (prefix padding included)."""

    audio_start_ms: int


@dataclass(frozen=True, slots=True)
class SpeechStopped:
    """Speech ended at `audio_end_ms`; `transcript` is what the recognizer heard."""

    audio_end_ms: int
    transcript: str


ListenerEvent = SpeechStarted | SpeechStopped


class Listener(Protocol):
    """VAD + speech recognition over the session's input audio (see `listener.py`)."""

    def configure(self, session: dict[str, Any]) -> None: ...
    def feed(self, pcm16_24k: bytes) -> list[ListenerEvent]: ...
    def transcribe(self, pcm16_24k: bytes) -> str: ...
    def reset(self) -> None: ...


class EngineProtocol:
    """The server core for one Realtime connection.

    Args:
        model: the `model` query parameter (or the call's model for `call_id`).
        id_prefix: random text that makes this session's ids unique (injected randomness).
        now: the loop time at connect.
        today: the caller's calendar date, for "tomorrow" in slot filling.
        expires_at: unix seconds for `session.expires_at`.
        synthesizer: builds a synthesizer for (voice, speed).
        listener: VAD + ASR for voice input; None makes the engine text-only.
        accepted: for a SIP call's `?call_id=` socket, the session config the call was
            accepted with (already validated); `session.created` reflects it.
    """

    def __init__(
        self,
        *,
        model: str,
        id_prefix: str,
        now: float,
        today: dt.date,
        expires_at: int,
        synthesizer: Callable[[Any, float], Synthesizer],
        listener: Listener | None = None,
        realtime_factor: float = 4.0,
        burst_ms: float = 600.0,
        accepted: dict[str, Any] | None = None,
    ) -> None:
        self._prefix = id_prefix
        self._counter = 0
        self._today = today
        self._make_synth = synthesizer
        self._listener = listener
        self._realtime_factor = realtime_factor
        self._burst_ms = burst_ms
        self._out: list[str] = []
        self._events: list[PolicyRequest] = []
        self.session = default_session(
            session_id=f"sess_{id_prefix}", model=model, expires_at=expires_at
        )
        if accepted is not None:
            self.session = merge_session_update(self.session, accepted, voice_locked=False)
        self._voice_locked = False
        self._items: list[dict[str, Any]] = []
        self._audio: dict[str, bytearray] = {}
        self._responses: dict[str, ResponseStream] = {}
        self._default_response: str | None = None
        self._input = bytearray()  # input audio since the last commit, in the input format
        self._input_total_bytes = 0
        self._speech_item: str | None = None
        self._speech_start_byte = 0
        self._idle_deadline: float | None = None
        self._last_speech_end_ms = 0
        self.closed = False
        if listener is not None:
            listener.configure(self.session)
        self._emit(ev.SessionCreated(self.session))

    # -- sans-I/O API ------------------------------------------------------------------

    def data_to_send(self) -> list[str]:
        """Text frames to write, in order. Call after every `receive*`/`handle_timeout`."""
        out, self._out = self._out, []
        return out

    def events_received(self) -> list[PolicyRequest]:
        """Work for the shell (policy requests). A second call returns []."""
        out, self._events = self._events, []
        return out

    def next_deadline(self) -> float | None:
        """The earliest time `handle_timeout` has something to do."""
        deadlines = [d for r in self._responses.values() if (d := r.next_deadline()) is not None]
        if self._idle_deadline is not None:
            deadlines.append(self._idle_deadline)
        return min(deadlines) if deadlines else None

    def handle_timeout(self, now: float) -> None:
        """Release paced audio, finish responses and fire the idle timeout."""
        for response in list(self._responses.values()):
            response.handle_timeout(now)
        self._drop_finished(now)
        if self._idle_deadline is not None and now >= self._idle_deadline:
            self._idle_deadline = None
            self._on_idle_timeout(now)

    def receive_decision(self, response_id: str, decision: Decision, now: float) -> None:
        """Give the policy's answer for `response_id` (ignored if it was cancelled)."""
        response = self._responses.get(response_id)
        if response is None:
            return
        response.receive_decision(decision, now)
        self._drop_finished(now)

    def receive_text(self, response_id: str, text: str, now: float) -> None:
        """Early words for `response_id` from a streaming policy (ignored if cancelled)."""
        response = self._responses.get(response_id)
        if response is not None:
            response.receive_text(text, now)

    def receive(self, message: str | bytes, now: float) -> None:
        """Handle one client text frame. Never raises for bad client input."""
        try:
            event = decode_client_event(message)
        except ProtocolError as exc:
            self._error("invalid_event", str(exc), None, None)
            return
        handler = self._HANDLERS.get(type(event))
        if handler is None:
            kind = getattr(event, "type", "")
            self._error(
                "invalid_event",
                f"Invalid value: '{kind}'. Unsupported event type.",
                "type",
                _event_id(event),
            )
            return
        try:
            handler(self, event, now)
        except SessionError as exc:
            self._error(exc.code, exc.message, exc.param, _event_id(event))
        self._drop_finished(now)

    # -- sink for ResponseStream -------------------------------------------------------

    def emit(self, event: ev.ServerEvent) -> None:
        self._emit(event)

    def emit_raw(self, text: str) -> None:
        self._voice_locked = True
        self._out.append(text)

    def new_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}_{self._prefix}{self._counter:05d}"

    def add_output_item(self, response: ResponseStream, item: dict[str, Any]) -> str | None:
        if not response.conversation:
            return None
        previous = self._items[-1]["id"] if self._items else None
        self._items.append(item)
        self._emit(ev.ConversationItemAdded(public_item(item), previous))
        return previous

    def item_finished(self, response: ResponseStream, item: dict[str, Any]) -> str | None:
        if not response.conversation:
            return None
        previous = self._previous_id(item["id"])
        self._emit(ev.ConversationItemDone(public_item(item), previous))
        return previous

    def store_audio(self, item_id: str, audio: bytes) -> None:
        self._audio.setdefault(item_id, bytearray()).extend(audio)

    # -- handlers ----------------------------------------------------------------------

    def _on_session_update(self, event: ev.SessionUpdate, now: float) -> None:
        self.session = merge_session_update(
            self.session, event.session, voice_locked=self._voice_locked
        )
        if self._listener is not None:
            self._listener.configure(self.session)
        if self._turn_detection() is None:
            self._speech_item = None
        self._emit(ev.SessionUpdated(self.session))

    def _on_append(self, event: ev.InputAudioBufferAppend, now: float) -> None:
        audio = event.audio
        if not audio:
            return
        if len(audio) % 2 and self._input_format() is AudioFormat.PCM16:
            raise SessionError(
                "invalid_value",
                f"Invalid value: audio/pcm input holds 16-bit samples; got {len(audio)} bytes.",
                "audio",
            )
        self._input.extend(audio)
        self._input_total_bytes += len(audio)
        limit = MAX_INPUT_BUFFER_MS * self._input_format().bytes_per_ms
        if len(self._input) > limit:
            drop = len(self._input) - limit
            del self._input[:drop]
            self._speech_start_byte = max(0, self._speech_start_byte - drop)
        if self._listener is None or self._turn_detection() is None:
            return
        for heard in self._listener.feed(_to_pcm24(audio, self._input_format())):
            if isinstance(heard, SpeechStarted):
                self._on_speech_started(heard, now)
            else:
                self._on_speech_stopped(heard, now)

    def _on_commit(self, event: ev.InputAudioBufferCommit, now: float) -> None:
        fmt = self._input_format()
        ms = len(self._input) / fmt.bytes_per_ms
        if ms < MIN_COMMIT_MS:
            raise SessionError(
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"100ms of audio, but buffer only has {ms:.2f}ms of audio.",
            )
        audio = bytes(self._input)
        self._input.clear()
        item_id = self._speech_item or self.new_id("item")
        self._speech_item = None
        if self._listener is not None:
            self._listener.reset()
        transcript = self._listener.transcribe(_to_pcm24(audio, fmt)) if self._listener else ""
        self._commit_user_audio(item_id, audio, transcript)

    def _on_clear(self, event: ev.InputAudioBufferClear, now: float) -> None:
        self._input.clear()
        self._speech_item = None
        if self._listener is not None:
            self._listener.reset()
        self._emit(ev.InputAudioBufferCleared())

    def _on_item_create(self, event: ev.ConversationItemCreate, now: float) -> None:
        item = validate_item(event.item)
        if item.get("id") is None:
            item["id"] = self.new_id("item")
        if any(i["id"] == item["id"] for i in self._items):
            raise SessionError(
                "invalid_value", f"Item with id '{item['id']}' already exists.", "item.id"
            )
        audio = b""
        if item["type"] == "message":
            for part in item["content"]:
                if part.get("type") == "input_audio" and isinstance(part.get("audio"), str):
                    try:
                        audio = binascii.a2b_base64(part.pop("audio"))
                    except (binascii.Error, ValueError):
                        raise SessionError(
                            "invalid_value", "Invalid base64 audio.", "item.content.audio"
                        ) from None
                    if part.get("transcript") is None and self._listener is not None:
                        part["transcript"] = self._listener.transcribe(
                            _to_pcm24(audio, self._input_format())
                        )
        previous = event.previous_item_id
        if previous is None:
            index = len(self._items)
        elif previous == "root":
            index = 0
        else:
            found = [i for i, it in enumerate(self._items) if it["id"] == previous]
            if not found:
                raise SessionError(
                    "invalid_value",
                    f"Invalid value: '{previous}'. previous_item_id does not exist.",
                    "previous_item_id",
                )
            index = found[0] + 1
        if len(self._items) >= MAX_ITEMS:
            del self._items[0]
            index = max(0, index - 1)
        self._items.insert(index, item)
        if audio:
            self._audio[item["id"]] = bytearray(audio)
        prev_id = self._items[index - 1]["id"] if index > 0 else None
        self._emit(ev.ConversationItemAdded(public_item(item), prev_id))
        self._emit(ev.ConversationItemDone(public_item(item), prev_id))

    def _on_item_retrieve(self, event: ev.ConversationItemRetrieve, now: float) -> None:
        item = self._find_item(event.item_id)
        public = public_item(item)
        audio = self._audio.get(item["id"])
        if audio is not None and public.get("content"):
            first = dict(public["content"][0])
            first["audio"] = binascii.b2a_base64(bytes(audio), newline=False).decode("ascii")
            public["content"] = [first, *public["content"][1:]]
        self._emit(ev.ConversationItemRetrieved(public))

    def _on_item_truncate(self, event: ev.ConversationItemTruncate, now: float) -> None:
        item = self._find_item(event.item_id)
        if item["type"] != "message" or item.get("role") != "assistant":
            raise SessionError(
                "invalid_value", "Only assistant messages can be truncated.", "item_id"
            )
        if event.content_index != 0:
            raise SessionError(
                "invalid_value", "Invalid value: content_index must be 0.", "content_index"
            )
        fmt = self._output_format()
        audio = self._audio.get(item["id"], bytearray())
        audio_ms = len(audio) // fmt.bytes_per_ms
        end_ms = event.audio_end_ms
        if not isinstance(end_ms, int) or end_ms < 0:
            raise SessionError("invalid_value", f"Invalid value: {end_ms!r}.", "audio_end_ms")
        if end_ms > audio_ms:
            raise SessionError(
                "invalid_value",
                f"Audio content of {audio_ms}ms is already shorter than {end_ms}ms",
                "audio_end_ms",
            )
        del audio[end_ms * fmt.bytes_per_ms :]
        for part in item.get("content", []):
            if "transcript" in part:
                part["transcript"] = ""
        self._emit(ev.ConversationItemTruncated(item["id"], 0, end_ms))

    def _on_item_delete(self, event: ev.ConversationItemDelete, now: float) -> None:
        item = self._find_item(event.item_id)
        self._items.remove(item)
        self._audio.pop(item["id"], None)
        self._emit(ev.ConversationItemDeleted(item["id"]))

    def _on_response_create(self, event: ev.ResponseCreate, now: float) -> None:
        self._start_response(event.response or {}, now, event_id=event.event_id)

    def _on_response_cancel(self, event: ev.ResponseCancel, now: float) -> None:
        target = event.response_id or self._default_response
        response = self._responses.get(target) if target else None
        if response is None or not response.active:
            raise SessionError(
                "response_cancel_not_active", "Cancellation failed: no active response found"
            )
        response.cancel("client_cancelled")
        self._after_response(response, now)

    def _on_output_audio_clear(self, event: ev.OutputAudioBufferClear, now: float) -> None:
        # Only meaningful for WebRTC/SIP sideband sockets, where the server owns playback.
        response_id = self._default_response or ""
        self._emit(ev.OutputAudioBufferCleared(response_id))

    _HANDLERS: ClassVar[dict[type, Callable[[EngineProtocol, Any, float], None]]] = {
        ev.SessionUpdate: _on_session_update,
        ev.InputAudioBufferAppend: _on_append,
        ev.InputAudioBufferCommit: _on_commit,
        ev.InputAudioBufferClear: _on_clear,
        ev.ConversationItemCreate: _on_item_create,
        ev.ConversationItemRetrieve: _on_item_retrieve,
        ev.ConversationItemTruncate: _on_item_truncate,
        ev.ConversationItemDelete: _on_item_delete,
        ev.ResponseCreate: _on_response_create,
        ev.ResponseCancel: _on_response_cancel,
        ev.OutputAudioBufferClear: _on_output_audio_clear,
    }

    # -- voice turns -------------------------------------------------------------------

    def _on_speech_started(self, heard: SpeechStarted, now: float) -> None:
        self._idle_deadline = None
        self._speech_item = self.new_id("item")
        fmt = self._input_format()
        start_byte_total = heard.audio_start_ms * fmt.bytes_per_ms
        buffer_start_total = self._input_total_bytes - len(self._input)
        self._speech_start_byte = max(0, start_byte_total - buffer_start_total)
        self._emit(ev.InputAudioBufferSpeechStarted(heard.audio_start_ms, self._speech_item))
        td = self._turn_detection()
        response = self._responses.get(self._default_response or "")
        if td and td.get("interrupt_response") and response is not None and response.active:
            response.cancel("turn_detected")
            self._after_response(response, now)

    def _on_speech_stopped(self, heard: SpeechStopped, now: float) -> None:
        item_id = self._speech_item or self.new_id("item")
        self._speech_item = None
        self._last_speech_end_ms = heard.audio_end_ms
        self._emit(ev.InputAudioBufferSpeechStopped(heard.audio_end_ms, item_id))
        audio = bytes(self._input[self._speech_start_byte :])
        self._input.clear()
        self._speech_start_byte = 0
        self._commit_user_audio(item_id, audio, heard.transcript)
        td = self._turn_detection()
        if td and td.get("create_response"):
            self._start_response({}, now, event_id=None, quiet=True)

    def _on_idle_timeout(self, now: float) -> None:
        td = self._turn_detection()
        if not td or self._speech_item is not None:
            return
        end_ms = self._input_total_bytes // self._input_format().bytes_per_ms
        item_id = self.new_id("item")
        self._emit(ev.InputAudioBufferTimeoutTriggered(self._last_speech_end_ms, end_ms, item_id))
        audio = bytes(self._input)
        self._input.clear()
        self._commit_user_audio(item_id, audio, "")
        self._start_response({}, now, event_id=None, quiet=True)

    def _commit_user_audio(self, item_id: str, audio: bytes, transcript: str) -> None:
        previous = self._items[-1]["id"] if self._items else None
        self._emit(ev.InputAudioBufferCommitted(item_id, previous))
        item: dict[str, Any] = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        self._items.append(item)
        self._audio[item_id] = bytearray(audio)
        self._emit(ev.ConversationItemAdded(public_item(item), previous))
        self._emit(ev.ConversationItemDone(public_item(item), previous))
        item["content"][0]["transcript"] = transcript
        if self.session["audio"]["input"].get("transcription") is not None:
            if transcript:
                self._emit(ev.InputAudioTranscriptionDelta(item_id, 0, transcript))
            self._emit(
                ev.InputAudioTranscriptionCompleted(
                    item_id,
                    0,
                    transcript,
                    {
                        "type": "duration",
                        "seconds": round(
                            len(audio) / max(1, self._input_format().bytes_per_ms) / 1000, 3
                        ),
                    },
                )
            )

    # -- responses ---------------------------------------------------------------------

    def _start_response(
        self, options: dict[str, Any], now: float, *, event_id: str | None, quiet: bool = False
    ) -> None:
        if not isinstance(options, dict):
            raise SessionError(
                "invalid_value", "Invalid value: 'response' must be an object.", "response"
            )
        conversation = options.get("conversation", "auto") != "none"
        active = self._responses.get(self._default_response or "")
        if conversation and active is not None and active.active:
            if quiet:
                active.cancel("turn_detected")
                self._after_response(active, now)
            else:
                raise SessionError(
                    "conversation_already_has_active_response",
                    f"Conversation already has an active response in progress: {active.id}. "
                    "Wait until the response is finished before creating a new one.",
                )
        session = self.session
        modalities = options.get("output_modalities", session["output_modalities"])
        if modalities not in (["audio"], ["text"]):
            raise SessionError(
                "invalid_value",
                f"Invalid value: {modalities!r}. Supported values are: ['audio'], ['text'].",
                "response.output_modalities",
            )
        out_audio = (options.get("audio") or {}).get("output") or {}
        try:
            fmt = AudioFormat.from_wire(
                out_audio.get("format", session["audio"]["output"]["format"])
            )
        except ValueError:
            raise SessionError(
                "invalid_value",
                "Invalid value for the output format.",
                "response.audio.output.format",
            ) from None
        voice = out_audio.get("voice", session["audio"]["output"]["voice"])
        speed = float(session["audio"]["output"].get("speed", 1.0))
        metadata = options.get("metadata")
        if metadata is not None and (not isinstance(metadata, dict) or len(metadata) > 16):
            raise SessionError(
                "invalid_value",
                "Invalid value: metadata allows at most 16 string pairs.",
                "response.metadata",
            )
        response = ResponseStream(
            id=self.new_id("resp"),
            sink=self,
            created_at=now,
            modalities=list(modalities),
            fmt=fmt,
            voice=voice,
            conversation=conversation,
            synthesizer=lambda: self._make_synth(voice, speed),
            metadata=metadata,
            max_output_tokens=options.get("max_output_tokens", session["max_output_tokens"]),
            realtime_factor=self._realtime_factor,
            burst_ms=self._burst_ms,
        )
        context = self._context(options)
        response.input_words = sum(len(t.text.split()) for t in context.history)
        self._responses[response.id] = response
        if conversation:
            self._default_response = response.id
        self._idle_deadline = None
        self._emit(ev.ResponseCreated(response.wire()))
        self._events.append(PolicyRequest(response.id, context))

    def _context(self, options: dict[str, Any]) -> PolicyContext:
        tools_raw = options.get("tools", self.session["tools"])
        tools = tuple(
            ToolSpec(t["name"], str(t.get("description") or ""), t.get("parameters") or {})
            for t in tools_raw
            if isinstance(t, dict) and t.get("type", "function") == "function" and t.get("name")
        )
        items = self._items
        if isinstance(options.get("input"), list):
            items = []
            for entry in options["input"]:
                if isinstance(entry, dict) and entry.get("type") == "item_reference":
                    items.extend(i for i in self._items if i["id"] == entry.get("id"))
                elif isinstance(entry, dict):
                    items.append(entry)
        instructions = options.get("instructions")
        return PolicyContext(
            instructions=str(self.session.get("instructions") or ""),
            tools=tools,
            history=tuple(t for i in items if (t := item_turn(i)) is not None),
            today=self._today,
            tool_choice=options.get("tool_choice", self.session["tool_choice"]),
            response_instructions=instructions if isinstance(instructions, str) else None,
            response_metadata=options.get("metadata"),
        )

    def _after_response(self, response: ResponseStream, now: float) -> None:
        if response.active:
            return
        self._responses.pop(response.id, None)
        if self._default_response == response.id:
            self._default_response = None
        self._emit(
            ev.RateLimitsUpdated(
                [
                    {"name": "requests", "limit": 10000, "remaining": 9999, "reset_seconds": 0.006},
                    {
                        "name": "tokens",
                        "limit": 1000000,
                        "remaining": 999000,
                        "reset_seconds": 0.06,
                    },
                ]
            )
        )
        td = self._turn_detection()
        idle = td.get("idle_timeout_ms") if td else None
        if response.conversation and isinstance(idle, int) and idle > 0:
            self._idle_deadline = now + response.audio_ms / 1000.0 + idle / 1000.0

    def _drop_finished(self, now: float) -> None:
        for response in [r for r in self._responses.values() if not r.active]:
            self._after_response(response, now)

    # -- helpers -----------------------------------------------------------------------

    def _emit(self, event: ev.ServerEvent) -> None:
        self._counter += 1
        self._out.append(
            encode_event(_with_event_id(event, f"event_{self._prefix}{self._counter:05d}"))
        )

    def _error(self, code: str, message: str, param: str | None, event_id: str | None) -> None:
        self._emit(
            ev.ErrorEvent(
                {
                    "type": "invalid_request_error",
                    "code": code,
                    "message": message,
                    "param": param,
                    "event_id": event_id,
                }
            )
        )

    def _find_item(self, item_id: str) -> dict[str, Any]:
        for item in self._items:
            if item["id"] == item_id:
                return item
        raise SessionError(
            "invalid_value",
            f"Invalid value: '{item_id}'. Item with that id does not exist.",
            "item_id",
        )

    def _previous_id(self, item_id: str) -> str | None:
        for index, item in enumerate(self._items):
            if item["id"] == item_id:
                return self._items[index - 1]["id"] if index > 0 else None
        return None

    def _turn_detection(self) -> dict[str, Any] | None:
        td = self.session["audio"]["input"]["turn_detection"]
        return td if isinstance(td, dict) else None

    def _input_format(self) -> AudioFormat:
        return AudioFormat.from_wire(self.session["audio"]["input"]["format"])

    def _output_format(self) -> AudioFormat:
        return AudioFormat.from_wire(self.session["audio"]["output"]["format"])


def _event_id(event: object) -> str | None:
    raw = getattr(event, "raw", None)  # UnknownEvent keeps the whole object
    value = raw.get("event_id") if isinstance(raw, dict) else getattr(event, "event_id", None)
    return value if isinstance(value, str) else None


def _with_event_id(event: ev.ServerEvent, event_id: str) -> ev.ServerEvent:
    return dataclasses.replace(event, event_id=event_id)  # type: ignore[type-var]


def _to_pcm24(audio: bytes, fmt: AudioFormat) -> bytes:
    if fmt is AudioFormat.PCM16:
        return audio
    pcm8 = ulaw_to_pcm16(audio) if fmt is AudioFormat.G711_ULAW else alaw_to_pcm16(audio)
    return resample_pcm16(pcm8, 8000, 24000)
