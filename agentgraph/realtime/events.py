"""Session events: what `async for event in session` yields, one frozen dataclass per type.

Match on `event.type` (a string) or on the class. Every event name lives here:

| type | when | fields |
|---|---|---|
| agent_start / agent_end | an agent takes / leaves the turn | agent |
| audio_delta | agent audio arrived (play it) | audio: bytes, item_id, content_index, response_id |
| audio_done | the item's audio is complete | item_id, content_index |
| audio_interrupted | stop playback now (barge-in, interrupt, guardrail) | item_id, content_index |
| transcript_delta / _done | agent speech as text | item_id, delta (= transcript) / transcript |
| input_transcript_delta / _done | caller speech as text | item_id, delta / transcript |
| speech_started / speech_stopped | server VAD heard the caller start / stop | item_id, audio_*_ms |
| dtmf | the caller pressed phone keys (SIP, media streams) | digits |
| tool_start / tool_end | a tool call begins / ends | agent, tool, call_id, arguments, output |
| tool_approval_required | an operator must approve | approval_id, call_id, tool_name, arguments |
| approval_asked | a question was put (caller: spoken in full) | approval_id, call_id, question |
| approval_decided | an approval ended (answer, timeout) | approval_id, approved, answered_by |
| response_started / response_done | the model started / finished a response | response_id, status |
| handoff | the active agent changed | from_agent, to_agent |
| guardrail_tripped | a guardrail blocked a reply (not said) | guardrail_name, message, text |
| history_added | an item joined the conversation | item |
| connection | connecting / connected / reconnecting / closed | status, attempt, reason |
| error | something failed; the session goes on | error (dict with message, code) |
| raw_model_event | every decoded wire event (opt-in) | data |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from agentgraph.realtime.history import HistoryItem

if TYPE_CHECKING:
    from agentgraph.realtime.agent import RealtimeAgent

__all__ = [
    "SESSION_EVENT_TYPES",
    "ConnectionStatus",
    "RealtimeAgentEndEvent",
    "RealtimeAgentStartEvent",
    "RealtimeApprovalAskedEvent",
    "RealtimeApprovalDecidedEvent",
    "RealtimeAudioDoneEvent",
    "RealtimeAudioEvent",
    "RealtimeAudioInterruptedEvent",
    "RealtimeConnectionEvent",
    "RealtimeDtmfEvent",
    "RealtimeErrorEvent",
    "RealtimeGuardrailTrippedEvent",
    "RealtimeHandoffEvent",
    "RealtimeHistoryAddedEvent",
    "RealtimeInputTranscriptDeltaEvent",
    "RealtimeInputTranscriptDoneEvent",
    "RealtimeRawModelEvent",
    "RealtimeResponseDoneEvent",
    "RealtimeResponseStartedEvent",
    "RealtimeSessionEvent",
    "RealtimeSpeechStartedEvent",
    "RealtimeSpeechStoppedEvent",
    "RealtimeToolApprovalRequiredEvent",
    "RealtimeToolEndEvent",
    "RealtimeToolStartEvent",
    "RealtimeTranscriptDeltaEvent",
    "RealtimeTranscriptDoneEvent",
]

ConnectionStatus = Literal["connecting", "connected", "reconnecting", "closed"]


@dataclass(frozen=True, slots=True)
class RealtimeAgentStartEvent:
    """An agent starts handling the conversation (session start or handoff)."""

    type: Literal["agent_start"] = field(default="agent_start", init=False)
    agent: RealtimeAgent


@dataclass(frozen=True, slots=True)
class RealtimeAgentEndEvent:
    """An agent stops handling the conversation (handoff away or session end)."""

    type: Literal["agent_end"] = field(default="agent_end", init=False)
    agent: RealtimeAgent


@dataclass(frozen=True, slots=True)
class RealtimeAudioEvent:
    """A chunk of agent audio in the session's output format: play `audio`."""

    type: Literal["audio_delta"] = field(default="audio_delta", init=False)
    audio: bytes
    item_id: str
    content_index: int = 0
    response_id: str = ""


@dataclass(frozen=True, slots=True)
class RealtimeAudioDoneEvent:
    """The model finished sending audio for this item (playback may still be going)."""

    type: Literal["audio_done"] = field(default="audio_done", init=False)
    item_id: str
    content_index: int = 0


@dataclass(frozen=True, slots=True)
class RealtimeAudioInterruptedEvent:
    """Stop playing agent audio now and drop anything queued."""

    type: Literal["audio_interrupted"] = field(default="audio_interrupted", init=False)
    item_id: str | None
    content_index: int = 0


@dataclass(frozen=True, slots=True)
class RealtimeTranscriptDeltaEvent:
    """A piece of what the agent is saying."""

    type: Literal["transcript_delta"] = field(default="transcript_delta", init=False)
    item_id: str
    delta: str
    response_id: str = ""

    @property
    def transcript(self) -> str:
        """The new piece of text (the seed's name for `delta`)."""
        return self.delta


@dataclass(frozen=True, slots=True)
class RealtimeTranscriptDoneEvent:
    """The full transcript of one agent utterance."""

    type: Literal["transcript_done"] = field(default="transcript_done", init=False)
    item_id: str
    transcript: str


@dataclass(frozen=True, slots=True)
class RealtimeInputTranscriptDeltaEvent:
    """A partial transcript of what the caller is saying."""

    type: Literal["input_transcript_delta"] = field(default="input_transcript_delta", init=False)
    item_id: str
    delta: str


@dataclass(frozen=True, slots=True)
class RealtimeInputTranscriptDoneEvent:
    """The final transcript of one caller utterance."""

    type: Literal["input_transcript_done"] = field(default="input_transcript_done", init=False)
    item_id: str
    transcript: str


@dataclass(frozen=True, slots=True)
class RealtimeSpeechStartedEvent:
    """Server VAD heard the caller start speaking (a barge-in if the agent was talking)."""

    type: Literal["speech_started"] = field(default="speech_started", init=False)
    item_id: str
    audio_start_ms: int = 0


@dataclass(frozen=True, slots=True)
class RealtimeSpeechStoppedEvent:
    """Server VAD heard the caller stop speaking."""

    type: Literal["speech_stopped"] = field(default="speech_stopped", init=False)
    item_id: str
    audio_end_ms: int = 0


@dataclass(frozen=True, slots=True)
class RealtimeToolStartEvent:
    """A tool call starts running."""

    type: Literal["tool_start"] = field(default="tool_start", init=False)
    agent: RealtimeAgent
    tool_name: str
    call_id: str
    arguments: str
    tool: Any = None  # the FunctionTool (the seed prints `event.tool.name`)


@dataclass(frozen=True, slots=True)
class RealtimeToolEndEvent:
    """A tool call ended; `output` is exactly what the model receives."""

    type: Literal["tool_end"] = field(default="tool_end", init=False)
    agent: RealtimeAgent
    tool_name: str
    call_id: str
    arguments: str
    output: str
    ok: bool = True
    tool: Any = None  # the FunctionTool (the seed prints `event.tool.name`)


@dataclass(frozen=True, slots=True)
class RealtimeToolApprovalRequiredEvent:
    """An operator must call `approve_tool_call(call_id)` or `reject_tool_call(call_id)`."""

    type: Literal["tool_approval_required"] = field(default="tool_approval_required", init=False)
    agent: RealtimeAgent
    tool_name: str
    call_id: str
    arguments: str
    message: str
    approval_id: int = 0  # answer with this id (operator consoles: `y 3`)


@dataclass(frozen=True, slots=True)
class RealtimeApprovalAskedEvent:
    """An approval question was put: spoken in full to the caller, or shown to an operator."""

    type: Literal["approval_asked"] = field(default="approval_asked", init=False)
    approval_id: int
    call_id: str
    tool_name: str
    arguments: str
    question: str
    by: str


@dataclass(frozen=True, slots=True)
class RealtimeApprovalDecidedEvent:
    """An approval ended: `answered_by` is caller, operator, app, policy or timeout."""

    type: Literal["approval_decided"] = field(default="approval_decided", init=False)
    approval_id: int
    call_id: str
    tool_name: str
    arguments: str
    question: str
    by: str
    approved: bool
    answered_by: str
    answer: str = ""


@dataclass(frozen=True, slots=True)
class RealtimeResponseStartedEvent:
    """The model started a response (ours, or the server's own after VAD)."""

    type: Literal["response_started"] = field(default="response_started", init=False)
    response_id: str = ""


@dataclass(frozen=True, slots=True)
class RealtimeResponseDoneEvent:
    """A response ended: status completed, cancelled, incomplete or failed."""

    type: Literal["response_done"] = field(default="response_done", init=False)
    response_id: str = ""
    status: str = ""


@dataclass(frozen=True, slots=True)
class RealtimeHandoffEvent:
    """The conversation moved from one agent to another."""

    type: Literal["handoff"] = field(default="handoff", init=False)
    from_agent: RealtimeAgent
    to_agent: RealtimeAgent


@dataclass(frozen=True, slots=True)
class RealtimeGuardrailTrippedEvent:
    """An output guardrail stopped the agent mid-answer."""

    type: Literal["guardrail_tripped"] = field(default="guardrail_tripped", init=False)
    guardrail_name: str
    message: str
    text: str
    output_info: Any = None
    item_id: str = ""


@dataclass(frozen=True, slots=True)
class RealtimeHistoryAddedEvent:
    """An item joined the conversation history (its text may still grow)."""

    type: Literal["history_added"] = field(default="history_added", init=False)
    item: HistoryItem


@dataclass(frozen=True, slots=True)
class RealtimeConnectionEvent:
    """The model connection changed state; `attempt` counts reconnects."""

    type: Literal["connection"] = field(default="connection", init=False)
    status: ConnectionStatus
    attempt: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RealtimeErrorEvent:
    """Something went wrong; the session keeps going unless a `connection` closed follows."""

    type: Literal["error"] = field(default="error", init=False)
    error: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RealtimeDtmfEvent:
    """The caller pressed keys on the phone keypad (RFC 4733 digits, `0-9*#A-D`)."""

    type: Literal["dtmf"] = field(default="dtmf", init=False)
    digits: str


@dataclass(frozen=True, slots=True)
class RealtimeRawModelEvent:
    """A decoded wire event from the model, for observers (`raw_model_events=True`)."""

    type: Literal["raw_model_event"] = field(default="raw_model_event", init=False)
    data: Any


RealtimeSessionEvent = (
    RealtimeAgentStartEvent
    | RealtimeAgentEndEvent
    | RealtimeAudioEvent
    | RealtimeAudioDoneEvent
    | RealtimeAudioInterruptedEvent
    | RealtimeTranscriptDeltaEvent
    | RealtimeTranscriptDoneEvent
    | RealtimeInputTranscriptDeltaEvent
    | RealtimeInputTranscriptDoneEvent
    | RealtimeSpeechStartedEvent
    | RealtimeSpeechStoppedEvent
    | RealtimeDtmfEvent
    | RealtimeToolStartEvent
    | RealtimeToolEndEvent
    | RealtimeToolApprovalRequiredEvent
    | RealtimeApprovalAskedEvent
    | RealtimeApprovalDecidedEvent
    | RealtimeResponseStartedEvent
    | RealtimeResponseDoneEvent
    | RealtimeHandoffEvent
    | RealtimeGuardrailTrippedEvent
    | RealtimeHistoryAddedEvent
    | RealtimeConnectionEvent
    | RealtimeErrorEvent
    | RealtimeRawModelEvent
)

#: type name -> class, the one table of session event names.
SESSION_EVENT_TYPES: dict[str, type[RealtimeSessionEvent]] = {
    cls.__dataclass_fields__["type"].default: cls for cls in RealtimeSessionEvent.__args__
}
