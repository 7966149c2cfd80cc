"""`RealtimeSession`: one live conversation between a caller and an agent graph.

Theory of operation. The session owns one model connection at a time (a new one after each
reconnect), the active agent, the history, the response slot and the playback bookkeeping.
Server events arrive synchronously from the connection's reader task and are dispatched by
a class -> handler table; each handler updates state and appends session events to a deque
that `async for event in session` drains. Work that waits (tools, approvals, guardrail
checks, reconnects) runs in tasks the session tracks and cancels on close.

Rules kept here (realtime-protocol.md §6):
* One `response.create` in flight. Requests queue; `response.done` starts the next one. A
  `conversation_already_has_active_response` for our own create re-queues it.
* Every function call gets exactly one `function_call_output`; when no call of the
  conversation is open any more, one `response.create` follows (after `response.done`).
  Tool calls, approvals and filler speech live in `tool_calls.py`.
* Barge-in: `speech_started` while agent audio is unplayed emits `audio_interrupted` and
  truncates the item at the played position (from the `RealtimePlaybackTracker`, clamped
  to the audio received); when the server does not cancel by itself we send
  `response.cancel`. `interrupt()` always cancels and truncates.
* Output guardrails run every `debounce_length` transcript characters (`guardrail_runner`).
* Reconnect on abnormal closes with backoff; the new session gets the config again, the
  conversation as text items, and the caller audio buffered meanwhile (bounded).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from agentgraph.errors import ConnectionClosed, InvalidState
from agentgraph.models import OpenAIRealtimeWebSocketModel, RealtimeConnection
from agentgraph.protocol import ServerEvent, UnknownEvent
from agentgraph.protocol import events as wire
from agentgraph.realtime import events as se
from agentgraph.realtime.agent import RealtimeAgent
from agentgraph.realtime.agent_audio import AgentAudio
from agentgraph.realtime.call_tools import CallControl
from agentgraph.realtime.config import RunSettings
from agentgraph.realtime.guardrail_runner import GuardrailRunner
from agentgraph.realtime.history import History
from agentgraph.realtime.playback import RealtimePlaybackTracker
from agentgraph.realtime.reconnect import Reconnector
from agentgraph.realtime.state import ConversationState, Trigger, transition
from agentgraph.realtime.tool_calls import ToolCalls

__all__ = ["RealtimeSession"]

logger = logging.getLogger(__name__)

_HARMLESS_ERRORS = frozenset({"response_cancel_not_active"})


class _Done:
    """A finished awaitable: lets `session.send_audio(...)` be awaited or not (SDK style)."""

    __slots__ = ()

    def __await__(self) -> Any:
        return
        yield  # pragma: no cover - makes this a generator


_DONE = _Done()


class RealtimeSession:
    """A running conversation; create it with `RealtimeRunner.run()`, use it with `async with`.

    Attributes:
        call_control: set by a phone transport; `end_call`/`transfer_call` use it.
        history: the conversation so far (see `history_items()` for snapshots).
        state: the conversation state (idle, user_speaking, thinking, responding, ...).
    """

    def __init__(
        self,
        *,
        agent: RealtimeAgent,
        settings: RunSettings,
        model: OpenAIRealtimeWebSocketModel,
        url: str | None,
        api_key: str | None,
        headers: dict[str, str] | None,
        call_id: str | None = None,
        playback_tracker: RealtimePlaybackTracker | None = None,
        context: Any = None,
    ) -> None:
        self.settings = settings
        self.model = model
        self.call_id = call_id
        self.context = context
        self.call_control: CallControl | None = None
        self.history = History()
        self.state = ConversationState.IDLE
        self._agent = agent
        self._url = url
        self._api_key = api_key
        self._headers = headers
        self._tracker = playback_tracker or RealtimePlaybackTracker()
        self._tracker.set_audio_format(settings.model.output_format)
        self._conn: RealtimeConnection | None = None
        self._events: collections.deque[se.RealtimeSessionEvent] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._closed = False
        self._started = False
        # response slot
        self._response_active = False
        self._pending: collections.deque[dict[str, Any] | None] = collections.deque()
        self._last_create: tuple[str, dict[str, Any] | None] | None = None
        self._create_seq = 0
        self._item_seq = 0
        self.audio = AgentAudio(
            self,
            self._tracker,
            reports=playback_tracker is not None,
            bytes_per_ms=settings.model.output_format.bytes_per_ms,
        )
        self.replayed_items: set[str] = set()
        self._send_buffer = bytearray()
        self._send_threshold = (
            settings.audio_send_interval_ms * settings.model.input_format.bytes_per_ms
        )
        self.tools = ToolCalls(self)
        self.guardrails = GuardrailRunner(self)
        self.reconnector = Reconnector(self)
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
            wire.ResponseOutputItemDone: self.tools.on_output_item_done,
            wire.ResponseOutputAudioDelta: self._on_audio_delta,
            wire.ResponseOutputAudioDone: self._on_audio_done,
            wire.ResponseOutputAudioTranscriptDelta: self._on_transcript_delta,
            wire.ResponseOutputTextDelta: self._on_transcript_delta,
            wire.ResponseOutputAudioTranscriptDone: self._on_transcript_done,
            wire.ResponseOutputTextDone: self._on_transcript_done,
            wire.ResponseFunctionCallArgumentsDone: self.tools.on_arguments_done,
            wire.ConversationItemTruncated: self._on_truncated,
        }

    # ------------------------------------------------------------------ public API

    @property
    def current_agent(self) -> RealtimeAgent:
        """The agent handling the conversation now."""
        return self._agent

    @property
    def playback_tracker(self) -> RealtimePlaybackTracker:
        """Where the transport reports played audio."""
        return self._tracker

    @property
    def connected(self) -> bool:
        """True while a model connection is open."""
        return self._conn is not None and self._conn.is_open

    def history_items(self) -> list[Any]:
        """A snapshot of the conversation (`HistoryItem`s, oldest first)."""
        return self.history.items()

    async def __aenter__(self) -> RealtimeSession:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __aiter__(self) -> RealtimeSession:
        return self

    async def __anext__(self) -> se.RealtimeSessionEvent:
        while not self._events:
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._events.popleft()

    async def connect(self) -> None:
        """Open the model connection and configure the session for the starting agent.

        Raises:
            ConnectionClosed: the server could not be reached or refused us.
        """
        if self._started:
            raise InvalidState("the session is already started")
        self._started = True
        self._emit(se.RealtimeConnectionEvent(status="connecting"))
        try:
            await self.open_connection(first=True)
        except ConnectionClosed:
            self._closed = True
            self._emit(se.RealtimeConnectionEvent(status="closed", reason="connect failed"))
            raise
        self._emit(se.RealtimeConnectionEvent(status="connected"))
        self._emit(se.RealtimeAgentStartEvent(agent=self._agent))

    def send_audio(self, audio: bytes, *, commit: bool = False) -> _Done:
        """Send caller audio (in the input format). Awaiting the result is optional.

        Args:
            audio: raw audio bytes (pcm16 24 kHz mono, or G.711 as configured).
            commit: end the caller's turn now (manual turns): commit and ask for a response.
        """
        conn = self._conn
        if self._send_threshold:
            self._send_buffer += audio
            if len(self._send_buffer) < self._send_threshold and not commit:
                return _DONE
            audio = bytes(self._send_buffer)
            self._send_buffer.clear()
        if conn is not None and conn.is_open and not self.reconnector.active:
            if audio:
                conn.send_audio(audio)
        elif not self._closed:
            self.reconnector.buffer_audio(audio)
        if commit:
            self._send(wire.InputAudioBufferCommit())
            self.request_response()
        return _DONE

    def send_message(self, text: str) -> _Done:
        """Add a caller text message and ask for a response. Awaiting is optional."""
        if self._closed:
            raise InvalidState("cannot send a message: the session is closed")
        self._item_seq += 1
        item_id = f"item_ag{self._item_seq}"
        self._add_history(item_id, "message", "user", text=text)
        self._send(
            wire.ConversationItemCreate(
                item={
                    "id": item_id,
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": text}],
                }
            )
        )
        if not self.tools.take_caller_reply(text):
            self.request_response()
        return _DONE

    def receive_dtmf(self, digits: str) -> _Done:
        """Keypad digits from the caller's phone: a `dtmf` event, and words for the model.

        The GA protocol has no client event for DTMF, so the model hears the digits as a
        short caller message (which also asks for a response). Awaiting is optional.
        """
        self._emit(se.RealtimeDtmfEvent(digits=digits))
        return self.send_message(f"[The caller pressed {digits} on the phone keypad.]")

    async def generate_response(self, response: dict[str, Any] | None = None) -> None:
        """Ask the model to respond now (queued behind an active response)."""
        self.request_response(response)

    async def interrupt(self) -> None:
        """Stop the agent now: cancel the response and truncate what was not heard."""
        if self._response_active:
            self._send(wire.ResponseCancel())
        self._pending.clear()
        self.audio.cut(force=True)
        self._move(Trigger.INTERRUPT)

    async def approve_tool_call(self, call_id: str, *, always: bool = False) -> bool:
        """Approve a call that raised `tool_approval_required`.

        Returns:
            False if that call is no longer waiting (decided already or timed out).
        """
        return self.tools.resolve_approval(call_id, True, None)

    async def reject_tool_call(self, call_id: str, message: str | None = None) -> bool:
        """Reject a pending call; `message` reaches the model as the tool output.

        Returns:
            False if that call is no longer waiting (decided already or timed out).
        """
        return self.tools.resolve_approval(call_id, False, message)

    async def update_agent(self, agent: RealtimeAgent) -> None:
        """Switch the active agent (instructions and tools) without a handoff call."""
        old = self._agent
        self._agent = agent
        await self.send_session_update()
        self._emit(se.RealtimeAgentEndEvent(agent=old))
        self._emit(se.RealtimeAgentStartEvent(agent=agent))

    async def reconnect(self) -> None:
        """Start a fresh model session now, keeping the conversation (history replay)."""
        await self.reconnector.reconnect_now()

    async def close(self) -> None:
        """End the session: close the connection, cancel tool tasks, end iteration."""
        if self._closed and not self._tasks:
            return
        self._closing = True
        self.reconnector.cancel_rollover()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._conn is not None:
            await self._conn.close()
        if not self._closed:
            self._emit(se.RealtimeAgentEndEvent(agent=self._agent))
            self._finish("closed")

    # ------------------------------------------------------------------ internals used by parts

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """Run `coro` as a tracked task (cancelled on close; errors become error events)."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            logger.error("realtime: internal task failed: %r", exc)
            self._emit(
                se.RealtimeErrorEvent(error={"type": "internal_error", "message": repr(exc)})
            )

    def _emit(self, event: se.RealtimeSessionEvent) -> None:
        self._events.append(event)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _finish(self, reason: str) -> None:
        self._closed = True
        self.reconnector.cancel_rollover()
        self._emit(se.RealtimeConnectionEvent(status="closed", reason=reason))

    def _send(self, event: wire.ClientEvent) -> bool:
        """Send if connected; returns False when the event could not be sent."""
        conn = self._conn
        if conn is None or not conn.is_open or self.reconnector.active:
            return False
        try:
            conn.send(event)
        except InvalidState:
            return False
        return True

    def _move(self, trigger: Trigger) -> ConversationState:
        self.state = transition(self.state, trigger)
        return self.state

    def _add_history(self, item_id: str, kind: Any, role: Any = None, **fields: Any) -> None:
        snapshot = self.history.add(item_id, kind, role, agent_name=self._agent.name, **fields)
        if snapshot is not None:
            self._emit(se.RealtimeHistoryAddedEvent(item=snapshot))

    async def open_connection(self, *, first: bool) -> None:
        """Connect a new websocket and send the session config (used by reconnects too)."""
        settings = self.settings.model
        url = self.model.resolve_url(self._url, model=settings.model_name, call_id=self.call_id)
        holder: list[RealtimeConnection] = []

        def on_close(code: int | None, reason: str) -> None:
            if holder and holder[0] is self._conn:
                self._on_connection_closed(code, reason)

        conn = self.model.connection(
            url,
            on_event=self._on_wire_event,
            on_close=on_close,
            api_key=self._api_key,
            headers=self._headers,
        )
        holder.append(conn)
        await conn.connect()
        self._conn = conn
        self._response_active = False
        conn.send(wire.SessionUpdate(session=await self._session_config(include_voice=True)))

    async def send_session_update(self) -> None:
        """`session.update` for the active agent: instructions and tools change; voice and
        formats stay (the voice is left out: it cannot change once audio exists)."""
        self._send(wire.SessionUpdate(session=await self._session_config(include_voice=False)))

    async def _session_config(self, *, include_voice: bool) -> dict[str, Any]:
        agent = self._agent
        session = self.settings.model.session_wire(
            instructions=await agent.get_system_prompt(self.context),
            tools=agent.tools_wire(),
            turn_detection=agent.turn_detection,
            include_model=not self.model.attaches_to_call,
        )
        output = session["audio"]["output"]
        voice = getattr(self.model, "voice", None)
        if include_voice and voice and "voice" not in output:
            output["voice"] = voice
        if not include_voice:
            output.pop("voice", None)
        return session

    def reset_audio_state(self) -> None:
        """Forget the playing item (a new model session has none)."""
        self.audio.reset()

    def set_agent(self, agent: RealtimeAgent) -> None:
        """Make `agent` active (the handoff machinery sends the update and events)."""
        self._agent = agent

    # ------------------------------------------------------------------ responses

    def request_response(self, response: dict[str, Any] | None = None) -> None:
        """Queue a `response.create`; it goes out when no response is active."""
        if not (response is None and self._pending and self._pending[-1] is None):
            self._pending.append(response)
        if self.state is not ConversationState.RESPONDING:
            self._move(Trigger.RESPONSE_REQUESTED)
        self.start_next_response()

    def start_next_response(self) -> None:
        """Send the next queued `response.create` if the slot is free."""
        if self._response_active or not self._pending or self.tools.blocking_response():
            return
        conn = self._conn
        if conn is None or not conn.is_open or self.reconnector.active:
            return
        params = self._pending.popleft()
        self._create_seq += 1
        event_id = f"agr_{self._create_seq}"
        self._last_create = (event_id, params)
        self._response_active = True
        self._send(wire.ResponseCreate(response=params, event_id=event_id))

    # ------------------------------------------------------------------ wire events

    def _on_wire_event(self, event: ServerEvent | UnknownEvent) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)
        if self.settings.raw_model_events:
            self._emit(se.RealtimeRawModelEvent(data=event))

    def _on_connection_closed(self, code: int | None, reason: str) -> None:
        if self._closing or self._closed:
            return
        conn = self._conn
        self.reset_audio_state()
        if self.reconnector.active:
            return  # reconnect_now() closed the old socket on purpose
        if conn is not None and conn.protocol.should_reconnect:
            self.reconnector.start(f"closed with code {code}: {reason}".strip(": "))
            return
        if code != 1000:  # 1000: the call ended normally (e.g. the caller hung up)
            self._emit(
                se.RealtimeErrorEvent(
                    error={"type": "connection_closed", "code": code, "message": reason or "closed"}
                )
            )
        self._emit(se.RealtimeAgentEndEvent(agent=self._agent))
        self._finish(f"closed by server (code {code})")

    def _on_session_created(self, event: wire.SessionCreated) -> None:
        self.reconnector.on_session_created(event.session.get("expires_at"))

    def is_quiet(self) -> bool:
        """Nobody speaks, no response is active and no tool call is open."""
        return (
            self.state is ConversationState.IDLE
            and not self._response_active
            and not self.tools.has_open_calls()
        )

    def _on_error(self, event: wire.ErrorEvent) -> None:
        error = event.error
        code = error.get("code")
        if code in _HARMLESS_ERRORS:
            return
        if (
            code == "conversation_already_has_active_response"
            and self._last_create
            and error.get("event_id") == self._last_create[0]
        ):
            # Our create lost a race with a server (VAD) response: retry after that one.
            self._pending.appendleft(self._last_create[1])
            self._last_create = None
            self._response_active = True
            return
        self._emit(se.RealtimeErrorEvent(error=error))

    def _on_speech_started(self, event: wire.InputAudioBufferSpeechStarted) -> None:
        before = self.state
        self._move(Trigger.SPEECH_STARTED)
        self._emit(
            se.RealtimeSpeechStartedEvent(
                item_id=event.item_id, audio_start_ms=event.audio_start_ms
            )
        )
        if before is ConversationState.RESPONDING and not self.settings.model.server_interrupts:
            self._send(wire.ResponseCancel())  # the server will not cancel by itself
        self.audio.cut(force=False)

    def _on_dtmf_received(self, event: wire.InputAudioBufferDtmfEventReceived) -> None:
        # OpenAI's SIP connector reports keys itself; the model already has the call audio.
        self._emit(se.RealtimeDtmfEvent(digits=event.event))

    def _on_speech_stopped(self, event: wire.InputAudioBufferSpeechStopped) -> None:
        self._move(Trigger.SPEECH_STOPPED)
        self._emit(
            se.RealtimeSpeechStoppedEvent(item_id=event.item_id, audio_end_ms=event.audio_end_ms)
        )

    def _on_item_added(self, event: wire.ConversationItemAdded) -> None:
        item = event.item
        item_id = item.get("id") or ""
        if item_id in self.replayed_items:
            return
        kind = item.get("type")
        if kind == "message":
            text = _item_text(item)
            self._add_history(item_id, "message", item.get("role"), text=text or None)
        elif kind == "function_call":
            self._add_history(
                item_id,
                "function_call",
                name=item.get("name", ""),
                call_id=item.get("call_id", ""),
                arguments=item.get("arguments", ""),
            )
        elif kind == "function_call_output":
            self._add_history(
                item_id,
                "function_call_output",
                call_id=item.get("call_id", ""),
                output=item.get("output", ""),
            )

    def _on_item_done(self, event: wire.ConversationItemDone) -> None:
        item = event.item
        if item.get("id") in self.replayed_items:
            return
        if item.get("id") not in self.history:
            self._on_item_added(event)  # type: ignore[arg-type]
            return
        if item.get("type") == "message" and item.get("role") == "user":
            text = _item_text(item)
            if text:
                self.history.set_text(item["id"], text)

    def _on_input_transcript_delta(self, event: wire.InputAudioTranscriptionDelta) -> None:
        self.history.append_text(event.item_id, event.delta)
        self._emit(se.RealtimeInputTranscriptDeltaEvent(item_id=event.item_id, delta=event.delta))

    def _on_input_transcript_done(self, event: wire.InputAudioTranscriptionCompleted) -> None:
        self.history.set_text(event.item_id, event.transcript)
        self._emit(
            se.RealtimeInputTranscriptDoneEvent(item_id=event.item_id, transcript=event.transcript)
        )
        self.tools.take_caller_reply(event.transcript)

    def _on_response_created(self, event: wire.ResponseCreated) -> None:
        self._response_active = True
        self._move(Trigger.RESPONSE_CREATED)

    def _on_response_done(self, event: wire.ResponseDone) -> None:
        self._response_active = False
        self._last_create = None
        self._move(Trigger.RESPONSE_DONE)
        self.tools.on_response_done(event)
        self.start_next_response()
        self.reconnector.maybe_roll_over()

    def _on_output_item_added(self, event: wire.ResponseOutputItemAdded) -> None:
        item = event.item
        if item.get("type") == "function_call":
            self.tools.on_call_item(item)

    def _on_audio_delta(self, event: wire.ResponseOutputAudioDelta) -> None:
        if self.audio.on_delta(event):
            self._emit(
                se.RealtimeAudioEvent(
                    event.delta, event.item_id, event.content_index, event.response_id
                )
            )

    def _on_audio_done(self, event: wire.ResponseOutputAudioDone) -> None:
        if self.audio.on_done(event.item_id):
            self._emit(
                se.RealtimeAudioDoneEvent(item_id=event.item_id, content_index=event.content_index)
            )

    def _on_transcript_delta(
        self,
        event: wire.ResponseOutputAudioTranscriptDelta | wire.ResponseOutputTextDelta,
    ) -> None:
        if event.item_id in self.audio.muted:
            return
        self.history.append_text(event.item_id, event.delta)
        self._emit(
            se.RealtimeTranscriptDeltaEvent(
                item_id=event.item_id, delta=event.delta, response_id=event.response_id
            )
        )
        self.guardrails.on_delta(event.item_id, len(event.delta))

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
        self._emit(se.RealtimeTranscriptDoneEvent(item_id=event.item_id, transcript=text))
        self.guardrails.on_done(event.item_id)

    def _on_truncated(self, event: wire.ConversationItemTruncated) -> None:
        self.history.mark_interrupted(event.item_id)

    # ------------------------------------------------------------------ guardrail support

    def stop_for_guardrail(self, item_id: str) -> None:
        """Cut the agent off mid-answer: stop playback, truncate, cancel the response."""
        if self._response_active:
            self._send(wire.ResponseCancel())
        self.audio.cut_item(item_id)

    def add_guidance(self, text: str) -> None:
        """Add a system message (guardrail guidance, results after a reconnect)."""
        self._item_seq += 1
        item_id = f"item_ag{self._item_seq}"
        self._send(
            wire.ConversationItemCreate(
                item={
                    "id": item_id,
                    "type": "message",
                    "role": "system",
                    "content": [{"type": "input_text", "text": text}],
                }
            )
        )


def _item_text(item: dict[str, Any]) -> str:
    parts = []
    for content in item.get("content") or ():
        if not isinstance(content, dict):
            continue
        value = content.get("text") or content.get("transcript")
        if isinstance(value, str):
            parts.append(value)
    return "".join(parts)
