"""One response in production: the events of realtime-protocol.md §6 (a) and (b), paced.

A `ResponseStream` is created by the server core on `response.create`. It waits for the
policy's `Decision`, then emits, in order: the assistant message (output item, content
part, transcript and audio deltas sentence by sentence, the `.done` events), then one
function-call item per tool call, then `response.done`. Audio is synthesized one sentence
ahead and released in `chunk_ms` deltas no faster than `realtime_factor` times real time
after an initial `burst_ms`, so barge-in and truncation see a response that is still
running. Cancel emits the `.done` events with status `incomplete` and `response.done`
`cancelled`. Pure: time comes in as `now`, audio comes from an injected synthesizer.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from agentgraph.audio import AudioFormat
from agentgraph.engine.policy.base import Decision, ToolCall
from agentgraph.engine.tts.espeak import split_sentences
from agentgraph.protocol import encode_audio_delta
from agentgraph.protocol import events as ev

__all__ = ["ResponseSink", "ResponseStream", "Synthesizer"]


class Synthesizer(Protocol):
    """Speech for one sentence in the response's output format."""

    def synthesize(self, text: str, fmt: AudioFormat = AudioFormat.PCM16) -> bytes: ...


class ResponseSink(Protocol):
    """What a response needs from the server core."""

    def emit(self, event: ev.ServerEvent) -> None: ...
    def emit_raw(self, text: str) -> None: ...
    def new_id(self, prefix: str) -> str: ...
    def add_output_item(self, response: ResponseStream, item: dict[str, Any]) -> str | None: ...
    def item_finished(self, response: ResponseStream, item: dict[str, Any]) -> str | None: ...
    def store_audio(self, item_id: str, audio: bytes) -> None: ...


@dataclass(slots=True)
class ResponseStream:
    """State of one response from `response.created` to `response.done`."""

    id: str
    sink: ResponseSink
    created_at: float
    modalities: list[str]
    fmt: AudioFormat
    voice: Any
    conversation: bool
    synthesizer: Callable[[], Synthesizer]
    metadata: dict[str, Any] | None = None
    max_output_tokens: int | str = "inf"
    realtime_factor: float = 4.0
    burst_ms: float = 600.0
    chunk_ms: int = 100
    input_words: int = 0
    status: str = "in_progress"
    output: list[dict[str, Any]] = field(default_factory=list)
    # production state
    started_speaking_at: float | None = None
    _sentences: deque[str] = field(default_factory=deque)
    _chunks: deque[bytes] = field(default_factory=deque)
    _calls: list[ToolCall] = field(default_factory=list)
    _item: dict[str, Any] | None = None
    _transcript: list[str] = field(default_factory=list)
    _sent_ms: float = 0.0
    _audio_bytes: int = 0
    _out_words: int = 0
    _planned_words: int = 0
    _status_reason: str | None = None
    decided: bool = False

    # -- wire objects ------------------------------------------------------------------

    def wire(self, *, done: bool = False) -> dict[str, Any]:
        """The response object (§4.3) for `response.created` / `response.done`."""
        details: dict[str, Any] | None = None
        if self.status == "cancelled":
            details = {"type": "cancelled", "reason": self._status_reason}
        elif self.status == "incomplete":
            details = {"type": "incomplete", "reason": self._status_reason}
        usage = None
        if done:
            usage = {
                "total_tokens": self.input_words + self._out_words,
                "input_tokens": self.input_words,
                "output_tokens": self._out_words,
                "input_token_details": {
                    "text_tokens": self.input_words,
                    "audio_tokens": 0,
                    "image_tokens": 0,
                    "cached_tokens": 0,
                },
                "output_token_details": {"text_tokens": self._out_words, "audio_tokens": 0},
            }
        return {
            "object": "realtime.response",
            "id": self.id,
            "status": self.status,
            "status_details": details,
            "conversation_id": "conv_default" if self.conversation else None,
            "output_modalities": list(self.modalities),
            "max_output_tokens": self.max_output_tokens,
            "audio": {"output": {"format": self.fmt.wire, "voice": self.voice}},
            "metadata": self.metadata,
            "output": [dict(o) for o in self.output] if done else [],
            "usage": usage,
        }

    @property
    def audio(self) -> bool:
        return self.modalities == ["audio"]

    @property
    def active(self) -> bool:
        return self.status == "in_progress"

    # -- driving -----------------------------------------------------------------------

    def receive_text(self, text: str, now: float) -> None:
        """Speak `text` now, before the policy has finished (streaming policies)."""
        if not self.active or self.decided:
            return
        self._add_text(text, now)
        self.handle_timeout(now)

    def receive_decision(self, decision: Decision, now: float) -> None:
        """The policy's final answer: remaining text and tool calls. Call once."""
        if not self.active or self.decided:
            return
        self.decided = True
        self._calls = list(decision.tool_calls)
        self._add_text(decision.text, now)
        self.handle_timeout(now)

    def _add_text(self, text: str, now: float) -> None:
        text = text.strip()
        if not text or self._status_reason == "max_output_tokens":
            return
        if isinstance(self.max_output_tokens, int):
            budget = self.max_output_tokens - self._planned_words
            words = text.split()
            if len(words) > budget:
                text = " ".join(words[: max(0, budget)])
                self._status_reason = "max_output_tokens"
        self._planned_words += len(text.split())
        sentences = split_sentences(text)
        self._sentences.extend(sentences)
        if self._sentences and self._item is None and self.started_speaking_at is None:
            self._open_message()
            self.started_speaking_at = now
        if self.audio:
            # The transcript goes out as soon as the text is decided, ahead of the audio
            # (synthesized and paced sentence by sentence), so a client's output guardrail
            # can stop a reply before the caller hears it (issue 10: <= 1 s heard).
            for sentence in sentences:
                self._emit_transcript(sentence)

    def next_deadline(self) -> float | None:
        """When `handle_timeout` has work to do (None: waiting for the policy, or done)."""
        if not self.active:
            return None
        if not self._chunks:
            if self._sentences or self.decided:
                return self.created_at  # synthesize the next sentence or finish: now
            return None
        # The next delta may go once its end is within burst_ms + realtime_factor x elapsed.
        end_ms = self._sent_ms + len(self._chunks[0]) / self.fmt.bytes_per_ms
        start = self.started_speaking_at or self.created_at
        return start + max(0.0, end_ms - self.burst_ms) / 1000.0 / self.realtime_factor

    def handle_timeout(self, now: float) -> None:
        """Emit every delta that is due at `now`; finish the response when all is sent."""
        while self.active:
            if not self._chunks:
                if self._sentences:
                    self._speak_next_sentence()
                    continue
                if self.decided:
                    self._finish("completed" if self._status_reason is None else "incomplete")
                return
            due = self.next_deadline()
            if due is not None and due > now:
                return
            self._send_chunk()

    def cancel(self, reason: str) -> None:
        """Stop now: `.done` events for the open item, then `response.done` cancelled."""
        if not self.active:
            return
        self._status_reason = reason
        self._chunks.clear()
        self._sentences.clear()
        self._calls = []
        self._finish("cancelled")

    # -- internals ---------------------------------------------------------------------

    def _open_message(self) -> None:
        item_id = self.sink.new_id("item")
        content_type = "output_audio" if self.audio else "output_text"
        self._item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        idx = len(self.output)
        self.output.append(self._item)
        self.sink.emit(ev.ResponseOutputItemAdded(self.id, idx, dict(self._item, content=[])))
        self.sink.add_output_item(self, self._item)
        part: dict[str, Any] = (
            {"type": "audio", "transcript": ""} if self.audio else {"type": "text", "text": ""}
        )
        self._item["content"] = [
            {"type": content_type, **({"transcript": ""} if self.audio else {"text": ""})}
        ]
        self.sink.emit(ev.ResponseContentPartAdded(self.id, item_id, idx, 0, part))

    def _speak_next_sentence(self) -> None:
        assert self._item is not None
        sentence = self._sentences.popleft()
        self._out_words += len(sentence.split())
        if not self.audio:
            self._emit_transcript(sentence)
            return
        audio = self.synthesizer().synthesize(sentence, self.fmt)
        step = self.chunk_ms * self.fmt.bytes_per_ms
        for start in range(0, len(audio), step):
            self._chunks.append(audio[start : start + step])

    def _emit_transcript(self, sentence: str) -> None:
        assert self._item is not None
        piece = sentence if not self._transcript else " " + sentence
        self._transcript.append(sentence)
        idx = len(self.output) - 1
        kind = ev.ResponseOutputAudioTranscriptDelta if self.audio else ev.ResponseOutputTextDelta
        self.sink.emit(kind(self.id, self._item["id"], idx, 0, piece))

    def _send_chunk(self) -> None:
        assert self._item is not None
        chunk = self._chunks.popleft()
        self.sink.emit_raw(
            encode_audio_delta(
                chunk,
                response_id=self.id,
                item_id=self._item["id"],
                output_index=len(self.output) - 1,
                content_index=0,
                event_id=self.sink.new_id("event"),  # every server event has one (SDK types)
            )
        )
        self.sink.store_audio(self._item["id"], chunk)
        self._audio_bytes += len(chunk)
        self._sent_ms += len(chunk) / self.fmt.bytes_per_ms

    def _close_message(self, status: str) -> None:
        item = self._item
        if item is None:
            return
        self._item = None
        idx = len(self.output) - 1
        text = " ".join(self._transcript)
        item_id = item["id"]
        if self.audio:
            self.sink.emit(ev.ResponseOutputAudioDone(self.id, item_id, idx, 0))
            self.sink.emit(ev.ResponseOutputAudioTranscriptDone(self.id, item_id, idx, 0, text))
            part = {"type": "audio", "transcript": text}
            item["content"] = [{"type": "output_audio", "transcript": text}]
        else:
            self.sink.emit(ev.ResponseOutputTextDone(self.id, item_id, idx, 0, text))
            part = {"type": "text", "text": text}
            item["content"] = [{"type": "output_text", "text": text}]
        self.sink.emit(ev.ResponseContentPartDone(self.id, item_id, idx, 0, part))
        item["status"] = status
        self.sink.emit(ev.ResponseOutputItemDone(self.id, idx, dict(item)))
        self.sink.item_finished(self, item)

    def _emit_call(self, call: ToolCall) -> None:
        item_id = self.sink.new_id("item")
        call_id = self.sink.new_id("call")
        arguments = json.dumps(call.arguments, ensure_ascii=False)
        idx = len(self.output)
        item: dict[str, Any] = {
            "id": item_id,
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "call_id": call_id,
            "name": call.name,
            "arguments": "",
        }
        self.output.append(item)
        self.sink.emit(ev.ResponseOutputItemAdded(self.id, idx, dict(item)))
        self.sink.add_output_item(self, item)
        self.sink.emit(
            ev.ResponseFunctionCallArgumentsDelta(self.id, item_id, idx, call_id, arguments)
        )
        self.sink.emit(
            ev.ResponseFunctionCallArgumentsDone(
                self.id, item_id, idx, call_id, arguments, call.name
            )
        )
        item["arguments"] = arguments
        item["status"] = "completed"
        self.sink.emit(ev.ResponseOutputItemDone(self.id, idx, dict(item)))
        self.sink.item_finished(self, item)

    def _finish(self, status: str) -> None:
        self._close_message("completed" if status == "completed" else "incomplete")
        for call in self._calls:
            self._emit_call(call)
        self._calls = []
        self.status = status
        self.sink.emit(ev.ResponseDone(self.wire(done=True)))

    @property
    def audio_ms(self) -> float:
        """Audio sent so far, in ms (the idle timer waits for it to play out)."""
        return self._sent_ms
