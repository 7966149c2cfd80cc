"""`SessionProtocol`: the sans-I/O core of a realtime session (RealtimeSession is its shell).

Theory of operation. Inputs are server events, app calls and the outcomes of the I/O the
core asked for, each with `now` (loop time, seconds). Outputs are drained by the shell in
this order after every input (STYLE.md §b):

* `events_to_send()`: wire events for the model connection;
* `actions_to_run()`: I/O requests (`host.py`: run a tool or a guardrail, compute a
  session config, connect); the shell feeds their outcomes back with `receive_*`;
* `next_deadline()`: when to call `handle_timeout(now)` (approval timeouts, filler speech,
  reconnect backoff and session-expiry rollover are deadlines);
* `events`: session events, a deque the shell's iterator pops.

The core never awaits, reads a clock or touches a socket; its parts (tool calls,
approvals, guardrails, reconnect, agent audio, responses) use it through `SessionHost`.

Rules kept here (realtime-protocol.md §6):
* One `response.create` in flight (`responses.py`; the `ResponseSlot` of `state.py`).
* Barge-in: `speech_started` over unplayed agent audio emits `audio_interrupted`, truncates
  at the played position, and cancels when the server will not. `interrupt()` always does.
* A rejected `session.update` (an error echoing its `event_id`) ends the session with an
  error: it never runs without the instructions and tools it was given.
* Manual turns: `generate_response()` commits the caller's buffered audio first.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

from agentgraph.protocol import ServerEvent, UnknownEvent
from agentgraph.protocol import events as wire
from agentgraph.realtime import events as se
from agentgraph.realtime.agent import RealtimeAgent
from agentgraph.realtime.agent_audio import AgentAudio
from agentgraph.realtime.config import RunSettings
from agentgraph.realtime.guardrail_runner import GuardrailRunner
from agentgraph.realtime.guardrails import GuardrailFunctionOutput
from agentgraph.realtime.history import History, wire_item_text
from agentgraph.realtime.host import (
    Action,
    CloseSession,
    Deadlines,
    RunGuardrail,
)
from agentgraph.realtime.playback import RealtimePlaybackTracker
from agentgraph.realtime.reconnect import Reconnector
from agentgraph.realtime.responses import ResponseQueue
from agentgraph.realtime.state import ConversationState, Trigger, transition
from agentgraph.realtime.tool_calls import ToolCalls

__all__ = ["SessionProtocol"]

_HARMLESS_ERRORS = frozenset({"response_cancel_not_active"})


class SessionProtocol:
    """The rules of one conversation, without I/O.

    Args:
        agent: the starting agent.
        settings: the normalised run config.
        tracker: where the transport reports played audio (read for truncation).
        reports_playback: the transport reports playback (else received audio counts as
            played, like the reference SDK).
        wall_offset_s: wall-clock minus loop time (for the server's `expires_at`).
    """

    def __init__(
        self,
        *,
        agent: RealtimeAgent,
        settings: RunSettings,
        tracker: RealtimePlaybackTracker,
        reports_playback: bool,
        wall_offset_s: float = 0.0,
    ) -> None:
        self.settings = settings
        self.history = History()
        self.state = ConversationState.IDLE
        self.deadlines = Deadlines()
        self.events: collections.deque[se.RealtimeSessionEvent] = collections.deque()
        self.manual_turns = settings.model.manual_turns
        self._agent = agent
        self._now = 0.0
        self._to_send: list[wire.ClientEvent] = []
        self._actions: list[Action] = []
        self._connected = False
        self._ended = False
        self._item_seq = 0
        self._update_seq = 0
        self._updates: dict[str, str] = {}  # session.update event_id -> agent name
        self._uncommitted = False
        self.replayed_items: set[str] = set()
        self.audio = AgentAudio(
            self,
            tracker,
            reports=reports_playback,
            bytes_per_ms=settings.model.output_format.bytes_per_ms,
        )
        self.audio.guarded = bool(agent.output_guardrails or settings.output_guardrails)
        self.tools = ToolCalls(self)
        self.responses = ResponseQueue(
            self, blocks=self.tools.blocks, on_sent=self.tools.approvals.on_create_sent
        )
        self.guardrails = GuardrailRunner(self, self.audio)
        self.reconnector = Reconnector(self, wall_offset_s=wall_offset_s)
        self._handlers: dict[type, Callable[[Any], None]] = {
            wire.ErrorEvent: self._on_error,
            wire.SessionCreated: self._on_session_created,
            wire.InputAudioBufferSpeechStarted: self._on_speech_started,
            wire.InputAudioBufferSpeechStopped: self._on_speech_stopped,
            wire.InputAudioBufferDtmfEventReceived: self._on_dtmf_received,
            wire.ConversationItemAdded: self._on_item_added,
            wire.ConversationItemCreated: self._on_item_added,
            wire.ConversationItemDone: self._on_item_done,
            wire.InputAudioTranscriptionDelta: self._on_input_transcript_delta,
            wire.InputAudioTranscriptionCompleted: self._on_input_transcript_done,
            wire.ResponseCreated: self._on_response_created,
            wire.ResponseDone: self._on_response_done,
            wire.ResponseOutputItemAdded: self._on_output_item_added,
            wire.ResponseOutputItemDone: self._on_output_item_done,
            wire.ResponseOutputAudioDelta: self._on_audio_delta,
            wire.ResponseOutputAudioDone: self._on_audio_done,
            wire.ResponseOutputAudioTranscriptDelta: self._on_transcript_delta,
            wire.ResponseOutputTextDelta: self._on_transcript_delta,
            wire.ResponseOutputAudioTranscriptDone: self._on_transcript_done,
            wire.ResponseOutputTextDone: self._on_transcript_done,
            wire.ResponseFunctionCallArgumentsDone: self._on_arguments_done,
            wire.ConversationItemTruncated: self._on_truncated,
        }

    # ------------------------------------------------------------------ SessionHost

    @property
    def agent(self) -> RealtimeAgent:
        """The agent handling the conversation now."""
        return self._agent

    @property
    def generation(self) -> int:
        """Counts model sessions (a reconnect starts a new one)."""
        return self.reconnector.generation

    @property
    def now(self) -> float:
        """The time of the input being handled."""
        return self._now

    @property
    def can_send(self) -> bool:
        """A configured model connection is open (not reconnecting, not ended)."""
        return self._connected and not self.reconnector.active and not self._ended

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def response_active(self) -> bool:
        """A response is requested or running on the server (the `ResponseSlot`)."""
        return self.responses.active

    def emit(self, event: se.RealtimeSessionEvent) -> None:
        self.events.append(event)

    def send(self, event: wire.ClientEvent) -> bool:
        """Queue a wire event if connected; returns False when it could not be sent."""
        if not self.can_send:
            return False
        self._to_send.append(event)
        return True

    def act(self, action: Action) -> None:
        self._actions.append(action)

    def set_agent(self, agent: RealtimeAgent) -> None:
        self._agent = agent
        self.audio.guarded = bool(agent.output_guardrails or self.settings.output_guardrails)

    def finish(self, reason: str) -> None:
        """The session has ended: say so once, forget every deadline."""
        if self._ended:
            return
        self._ended = True
        self._connected = False
        self.deadlines.at.clear()
        self.deadlines.changed = True
        self.emit(se.RealtimeConnectionEvent(status="closed", reason=reason))

    def is_quiet(self) -> bool:
        """Nobody speaks, no response is active and no tool call is open."""
        return (
            self.state is ConversationState.IDLE
            and not self.response_active
            and not self.tools.has_open_calls()
        )

    def add_guidance(self, text: str) -> None:
        """Add a system message (guardrail guidance, results after a reconnect)."""
        self._send_message("system", text)

    def _send_message(self, role: str, text: str) -> str:
        self._item_seq += 1
        item_id = f"item_ag{self._item_seq}"
        content = [{"type": "input_text", "text": text}]
        self.send(
            wire.ConversationItemCreate(
                item={"id": item_id, "type": "message", "role": role, "content": content}
            )
        )
        return item_id

    def cancel_response(self) -> None:
        if self.response_active:
            self.send(wire.ResponseCancel())

    # ------------------------------------------------------------------ outputs

    def events_to_send(self) -> list[wire.ClientEvent]:
        """Wire events to write now, in order; a second call returns [] (do not mutate)."""
        out = self._to_send
        if out:
            self._to_send = []
        return out

    def actions_to_run(self) -> list[Action]:
        """I/O the shell must perform, in order; a second call returns [] (do not mutate)."""
        out = self._actions
        if out:
            self._actions = []
        return out

    def next_deadline(self) -> float | None:
        """When `handle_timeout` is due next (loop time), or None."""
        self.deadlines.changed = False
        return self.deadlines.next()

    def handle_timeout(self, now: float) -> None:
        """Act on every deadline that has passed."""
        self._now = now
        for key in self.deadlines.due(now):  # each part acts on its own keys only
            self.tools.approvals.handle_deadline(key)
            self.tools.handle_deadline(key, now)
            self.reconnector.handle_deadline(key, now)
            self.audio.handle_deadline(key, now)

    # ------------------------------------------------------------------ connection

    def connection_opened(self, config: dict[str, Any], now: float, *, first: bool) -> None:
        """A model connection is open; `config` is the active agent's session config."""
        self._now = now
        self._connected = True
        self.responses.reset()
        self.audio.reset()
        self._send_update(config)
        if first:
            self.emit(se.RealtimeConnectionEvent(status="connected"))
            self.emit(se.RealtimeAgentStartEvent(agent=self._agent))
            return
        for event in self.reconnector.resume():
            if isinstance(event, wire.ConversationItemCreate):
                self.replayed_items.add(event.item.get("id", ""))
            self._to_send.append(event)
        self.tools.approvals.on_connection_reset()
        self.tools.flush_late_results()
        self.start_next_response()

    def connection_failed(self, reason: str, now: float, *, first: bool) -> None:
        """Connecting failed (the first connect, or a reconnect attempt)."""
        self._now = now
        self._connected = False
        if first:
            self.finish("connect failed")
        else:
            self.reconnector.connection_failed(reason, now)

    def connection_closed(
        self, code: int | None, reason: str, *, should_reconnect: bool, now: float
    ) -> None:
        """The model connection closed by itself (not by `close()` or a reconnect)."""
        self._now = now
        if self._ended:
            return
        self._connected = False
        self.responses.reset()
        self.audio.reset()
        if self.reconnector.active:
            return
        if should_reconnect:
            self.reconnector.start(f"closed with code {code}: {reason}".strip(": "), now)
            return
        if code != 1000:  # 1000: the call ended normally (e.g. the caller hung up)
            self.emit(
                se.RealtimeErrorEvent(
                    error={"type": "connection_closed", "code": code, "message": reason or "closed"}
                )
            )
        self.emit(se.RealtimeAgentEndEvent(agent=self._agent))
        self.finish(f"closed by server (code {code})")

    def close(self) -> None:
        """The app ends the session."""
        if not self._ended:
            self.emit(se.RealtimeAgentEndEvent(agent=self._agent))
            self.finish("closed")

    def reconnect(self, now: float) -> None:
        """`session.reconnect()`: a fresh model session now, keeping the conversation."""
        self._now = now
        self.reconnector.reconnect_now()
        self._connected = False

    def _send_update(self, config: dict[str, Any]) -> None:
        self._update_seq += 1
        event_id = f"ags_{self._update_seq}"
        self._updates[event_id] = self._agent.name
        td = (config.get("audio") or {}).get("input", {})
        if "turn_detection" in td:
            self.manual_turns = td["turn_detection"] is None
        self._to_send.append(wire.SessionUpdate(session=config, event_id=event_id))

    # ------------------------------------------------------------------ app calls

    def update_agent(self, agent: RealtimeAgent, config: dict[str, Any], now: float) -> None:
        """`update_agent()`: make `agent` active with its session `config`."""
        self._now = now
        old = self._agent
        self.set_agent(agent)
        if self.can_send:
            self._send_update(config)
        self.emit(se.RealtimeAgentEndEvent(agent=old))
        self.emit(se.RealtimeAgentStartEvent(agent=agent))

    def receive_session_config(self, token: int, config: dict[str, Any], now: float) -> None:
        """The shell computed the config an `UpdateSession` asked for (0: the app asked to
        send the active agent's config again): send it, then finish a handoff."""
        self._now = now
        if self.can_send:
            self._send_update(config)
        if token:
            self.tools.handoff_update_sent(token)

    def audio_sent(self) -> None:
        """Caller audio went to the model (manual turns commit it before a response)."""
        self._uncommitted = True

    def commit_audio(self) -> None:
        """End the caller's turn: commit the buffered audio (manual turns)."""
        self._uncommitted = False
        self.send(wire.InputAudioBufferCommit())

    def send_message(self, text: str, now: float) -> None:
        """A caller text message: added to the conversation, then a response (or, when an
        approval question was spoken, taken as the answer)."""
        self._now = now
        item_id = self._send_message("user", text)
        snapshot = self.history.add(
            item_id, "message", "user", text=text, agent_name=self.agent.name
        )
        if snapshot is not None:
            self.emit(se.RealtimeHistoryAddedEvent(item=snapshot))
        if not self.tools.approvals.on_caller_transcript(None, text):
            self.request_response()

    def generate_response(self, response: dict[str, Any] | None, now: float) -> None:
        """Ask for a response; with manual turns the caller's audio is committed first."""
        self._now = now
        if self.manual_turns and self._uncommitted:
            self.commit_audio()
        self.request_response(response)

    def interrupt(self, now: float) -> None:
        """Stop the agent now: cancel the response and truncate what was not heard."""
        self._now = now
        self.cancel_response()
        self.responses.clear()
        self.audio.cut(force=True)
        self._move(Trigger.INTERRUPT)

    def resolve_approval(
        self, call_id: str, approved: bool, message: str | None, now: float
    ) -> bool:
        """`approve_tool_call` / `reject_tool_call`."""
        self._now = now
        return self.tools.resolve_approval(call_id, approved, message)

    def receive_dtmf(self, digits: str, now: float) -> None:
        self.emit(se.RealtimeDtmfEvent(digits=digits))  # then words for the model
        self.send_message(f"[The caller pressed {digits} on the phone keypad.]", now)

    # ------------------------------------------------------------------ outcomes of actions

    def receive_approval_check(
        self, call_id: str, verdict: bool | None, needs_approval: bool, now: float
    ) -> None:
        self._now = now
        self.tools.receive_approval_check(call_id, verdict, needs_approval, now)

    def receive_tool_result(self, call_id: str, output: str, ok: bool, now: float) -> None:
        self._now = now
        self.tools.receive_tool_result(call_id, output, ok, now)

    def receive_guardrail_result(
        self,
        action: RunGuardrail,
        result: GuardrailFunctionOutput | None,
        error: BaseException | None,
        now: float,
    ) -> None:
        self._now = now
        self.guardrails.receive_result(action, result, error)

    # ------------------------------------------------------------------ responses

    def request_response(self, response: dict[str, Any] | None = None) -> None:
        """Queue a `response.create`; it goes out when no response is active."""
        if self.state is not ConversationState.RESPONDING:
            self._move(Trigger.RESPONSE_REQUESTED)
        self.responses.request(response)

    def start_next_response(self) -> None:
        """Send the next queued `response.create` if the slot is free."""
        self.responses.start_next()

    # ------------------------------------------------------------------ wire events

    def receive_event(self, event: ServerEvent | UnknownEvent, now: float) -> None:
        """A decoded server event from the current connection."""
        self._now = now
        if self._ended:
            return  # e.g. after a rejected session.update, until the socket is closed
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)
        if self.settings.raw_model_events:
            self.emit(se.RealtimeRawModelEvent(data=event))

    def _move(self, trigger: Trigger) -> ConversationState:
        self.state = transition(self.state, trigger)
        return self.state

    def _on_session_created(self, event: wire.SessionCreated) -> None:
        self.reconnector.on_session_created(event.session.get("expires_at"), self._now)

    def _on_error(self, event: wire.ErrorEvent) -> None:
        error = event.error
        code = error.get("code")
        if code in _HARMLESS_ERRORS:
            return
        event_id = error.get("event_id")
        if code == "conversation_already_has_active_response" and self.responses.lost_race(
            event_id
        ):
            return  # our create lost a race with a server (VAD) response: it goes after
        if isinstance(event_id, str) and event_id in self._updates:
            agent_name = self._updates[event_id]
            message = error.get("message") or "rejected"
            self.emit(
                se.RealtimeErrorEvent(
                    error={
                        **error,
                        "type": "session_update_rejected",
                        "message": (
                            f"the model rejected the session configuration of agent "
                            f"{agent_name!r}: {message}; the session ends rather than run "
                            "without its instructions and tools"
                        ),
                    }
                )
            )
            self.emit(se.RealtimeAgentEndEvent(agent=self._agent))
            self.finish("session configuration rejected")
            self.act(CloseSession("session configuration rejected"))
            return
        self.emit(se.RealtimeErrorEvent(error=error))

    def _on_speech_started(self, event: wire.InputAudioBufferSpeechStarted) -> None:
        before = self.state
        self._move(Trigger.SPEECH_STARTED)
        self.emit(
            se.RealtimeSpeechStartedEvent(
                item_id=event.item_id, audio_start_ms=event.audio_start_ms
            )
        )
        if before is ConversationState.RESPONDING and not self.settings.model.server_interrupts:
            self.send(wire.ResponseCancel())  # the server will not cancel by itself
        self.audio.cut(force=False)
        self.tools.approvals.on_caller_speech_started(event.item_id)

    def _on_dtmf_received(self, event: wire.InputAudioBufferDtmfEventReceived) -> None:
        # OpenAI's SIP connector reports keys itself; the model already has the call audio.
        self.emit(se.RealtimeDtmfEvent(digits=event.event))

    def _on_speech_stopped(self, event: wire.InputAudioBufferSpeechStopped) -> None:
        self._move(Trigger.SPEECH_STOPPED)
        self.emit(
            se.RealtimeSpeechStoppedEvent(item_id=event.item_id, audio_end_ms=event.audio_end_ms)
        )

    def _on_item_added(self, event: wire.ConversationItemAdded) -> None:
        if event.item.get("id") in self.replayed_items:
            return
        snapshot = self.history.add_wire_item(event.item, self._agent.name)
        if snapshot is not None:
            self.emit(se.RealtimeHistoryAddedEvent(item=snapshot))

    def _on_item_done(self, event: wire.ConversationItemDone) -> None:
        item = event.item
        if item.get("id") in self.replayed_items:
            return
        if item.get("id") not in self.history:
            self._on_item_added(event)  # type: ignore[arg-type]
            return
        if item.get("type") == "message" and item.get("role") == "user":
            text = wire_item_text(item)
            if text:
                self.history.set_text(item["id"], text)

    def _on_input_transcript_delta(self, event: wire.InputAudioTranscriptionDelta) -> None:
        self.history.append_text(event.item_id, event.delta)
        self.emit(se.RealtimeInputTranscriptDeltaEvent(item_id=event.item_id, delta=event.delta))

    def _on_input_transcript_done(self, event: wire.InputAudioTranscriptionCompleted) -> None:
        self.history.set_text(event.item_id, event.transcript)
        self.emit(
            se.RealtimeInputTranscriptDoneEvent(item_id=event.item_id, transcript=event.transcript)
        )
        self.tools.approvals.on_caller_transcript(event.item_id, event.transcript)

    def _on_response_created(self, event: wire.ResponseCreated) -> None:
        response = event.response
        metadata = self.responses.created(response)
        self._move(Trigger.RESPONSE_CREATED)
        response_id = str(response.get("id", ""))
        self.tools.approvals.on_response_created(response_id, metadata)
        self.emit(se.RealtimeResponseStartedEvent(response_id=response_id))

    def _on_response_done(self, event: wire.ResponseDone) -> None:
        response = event.response
        self.responses.done()
        self._move(Trigger.RESPONSE_DONE)
        response_id = str(response.get("id", ""))
        status = str(response.get("status", ""))
        self.emit(se.RealtimeResponseDoneEvent(response_id=response_id, status=status))
        self.tools.on_response_done(event, self._now)
        self.tools.approvals.on_response_done(response_id, status)
        self.start_next_response()
        self.reconnector.maybe_roll_over()

    def _on_output_item_added(self, event: wire.ResponseOutputItemAdded) -> None:
        item = event.item
        if item.get("type") == "function_call":
            self.tools.on_call_item(item, self._now)

    def _on_output_item_done(self, event: wire.ResponseOutputItemDone) -> None:
        self.tools.on_output_item_done(event, self._now)

    def _on_arguments_done(self, event: wire.ResponseFunctionCallArgumentsDone) -> None:
        self.tools.on_arguments_done(event, self._now)

    def _on_audio_delta(self, event: wire.ResponseOutputAudioDelta) -> None:
        self.audio.on_delta(event)

    def _on_audio_done(self, event: wire.ResponseOutputAudioDone) -> None:
        self.audio.on_done(event)

    def _on_transcript_delta(
        self,
        event: wire.ResponseOutputAudioTranscriptDelta | wire.ResponseOutputTextDelta,
    ) -> None:
        if event.item_id in self.audio.muted:
            return
        self.history.append_text(event.item_id, event.delta)
        self.emit(
            se.RealtimeTranscriptDeltaEvent(
                item_id=event.item_id, delta=event.delta, response_id=event.response_id
            )
        )
        self.guardrails.on_delta(event.item_id, event.delta)

    def _on_transcript_done(
        self,
        event: wire.ResponseOutputAudioTranscriptDone | wire.ResponseOutputTextDone,
    ) -> None:
        text = (
            event.transcript
            if isinstance(event, wire.ResponseOutputAudioTranscriptDone)
            else event.text
        )
        if event.item_id in self.audio.muted:
            return
        self.history.set_text(event.item_id, text)
        if self.guardrails.on_done(event.item_id, text):
            self.emit(se.RealtimeTranscriptDoneEvent(item_id=event.item_id, transcript=text))

    def _on_truncated(self, event: wire.ConversationItemTruncated) -> None:
        self.history.mark_interrupted(event.item_id)
