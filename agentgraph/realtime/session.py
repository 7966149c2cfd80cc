"""`RealtimeSession`: one live conversation, the asyncio shell of `SessionProtocol`.

The shell owns the model connection (a new one after each reconnect), the tasks that run
tools and guardrails, and the one timer of the core. Every input goes the same way
(STYLE.md §b): feed the core (with `loop.time()`), write `events_to_send()`, start the
`actions_to_run()`, re-arm the timer from `next_deadline()`, wake the event iterator. All
the rules live in the core (`protocol.py`); nothing here decides anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Generator
from typing import Any

from agentgraph.errors import ConnectionClosed, InvalidState
from agentgraph.models import OpenAIRealtimeWebSocketModel, RealtimeConnection
from agentgraph.protocol import ServerEvent, UnknownEvent
from agentgraph.realtime import events as se
from agentgraph.realtime.agent import RealtimeAgent
from agentgraph.realtime.call_tools import CallControl
from agentgraph.realtime.config import RunSettings
from agentgraph.realtime.history import History
from agentgraph.realtime.host import (
    Action,
    CheckApproval,
    CloseSession,
    Connect,
    RunGuardrail,
    RunTool,
    UpdateSession,
)
from agentgraph.realtime.playback import RealtimePlaybackTracker
from agentgraph.realtime.protocol import SessionProtocol
from agentgraph.realtime.state import ConversationState
from agentgraph.realtime.tool import ToolContext, tool_output_to_str

__all__ = ["RealtimeSession"]

logger = logging.getLogger(__name__)


class _Done:
    """A finished awaitable: lets `session.send_audio(...)` be awaited or not (SDK style)."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
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
        self._url = url
        self._api_key = api_key
        self._headers = headers
        self._tracker = playback_tracker or RealtimePlaybackTracker()
        self._tracker.set_audio_format(settings.model.output_format)
        self.core = SessionProtocol(
            agent=agent,
            settings=settings,
            tracker=self._tracker,
            reports_playback=playback_tracker is not None,
            wall_offset_s=time.time() - time.monotonic(),
        )
        self._conn: RealtimeConnection | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._closing = False
        self._started = False
        self._clock = time.monotonic  # loop.time() once a loop runs (see connect)
        self._send_buffer = bytearray()
        self._send_threshold = (
            settings.audio_send_interval_ms * settings.model.input_format.bytes_per_ms
        )

    # ------------------------------------------------------------------ public API

    @property
    def current_agent(self) -> RealtimeAgent:
        """The agent handling the conversation now."""
        return self.core.agent

    @property
    def history(self) -> History:
        """The conversation so far."""
        return self.core.history

    @property
    def state(self) -> ConversationState:
        """The conversation state (idle, user_speaking, thinking, responding, ...)."""
        return self.core.state

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
        return self.core.history.items()

    async def __aenter__(self) -> RealtimeSession:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __aiter__(self) -> RealtimeSession:
        return self

    async def __anext__(self) -> se.RealtimeSessionEvent:
        events = self.core.events
        while not events:
            if self.core.ended:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return events.popleft()

    async def connect(self) -> None:
        """Open the model connection and configure the session for the starting agent.

        Raises:
            ConnectionClosed: the server could not be reached or refused us.
        """
        if self._started:
            raise InvalidState("the session is already started")
        self._started = True
        self._clock = asyncio.get_running_loop().time
        self.core.emit(se.RealtimeConnectionEvent(status="connecting"))
        self._wake()
        try:
            await self._open(first=True)
        except ConnectionClosed as exc:
            self.core.connection_failed(exc.reason, self._now(), first=True)
            self._pump()
            raise

    def send_audio(self, audio: bytes, *, commit: bool = False) -> _Done:
        """Send caller audio (in the input format). Awaiting the result is optional.

        Args:
            audio: raw audio bytes (pcm16 24 kHz mono, or G.711 as configured).
            commit: end the caller's turn now (manual turns): commit and ask for a response.
        """
        core = self.core
        if self._send_threshold:
            self._send_buffer += audio
            if len(self._send_buffer) < self._send_threshold and not commit:
                return _DONE
            audio = bytes(self._send_buffer)
            self._send_buffer.clear()
        if audio:
            conn = self._conn
            if conn is not None and core.can_send and conn.is_open:
                conn.send_audio(audio)
                core.audio_sent()
            elif not core.ended:
                core.reconnector.buffer_audio(audio)
        if commit:
            core.commit_audio()
            core.request_response()
            self._pump()
        return _DONE

    def send_message(self, text: str) -> _Done:
        """Add a caller text message and ask for a response. It is sent at once; awaiting
        the result is optional (`session.send_message(...)` and `await ...` both work)."""
        if self.core.ended:
            raise InvalidState("cannot send a message: the session is closed")
        self.core.send_message(text, self._now())
        self._pump()
        return _DONE

    def receive_dtmf(self, digits: str) -> _Done:
        """Keypad digits from the caller's phone: a `dtmf` event, and words for the model.

        The GA protocol has no client event for DTMF, so the model hears the digits as a
        short caller message (which also asks for a response). Awaiting is optional.
        """
        if self.core.ended:
            raise InvalidState("cannot send keypad digits: the session is closed")
        self.core.receive_dtmf(digits, self._now())
        self._pump()
        return _DONE

    async def generate_response(self, response: dict[str, Any] | None = None) -> None:
        """Ask the model to respond now (queued behind an active response). With turn
        detection off, the caller audio sent so far is committed first (push-to-talk)."""
        if self._send_buffer:
            self.send_audio(b"")
        self.core.generate_response(response, self._now())
        self._pump()

    async def interrupt(self) -> None:
        """Stop the agent now: cancel the response and truncate what was not heard."""
        self.core.interrupt(self._now())
        self._pump()

    async def approve_tool_call(self, call_id: str, *, always: bool = False) -> bool:
        """Approve a call that raised `tool_approval_required`.

        Returns:
            False if that call is no longer waiting (decided already or timed out).
        """
        done = self.core.resolve_approval(call_id, True, None, self._now())
        self._pump()
        return done

    async def reject_tool_call(self, call_id: str, message: str | None = None) -> bool:
        """Reject a pending call; `message` reaches the model as the tool output.

        Returns:
            False if that call is no longer waiting (decided already or timed out).
        """
        done = self.core.resolve_approval(call_id, False, message, self._now())
        self._pump()
        return done

    async def update_agent(self, agent: RealtimeAgent) -> None:
        """Switch the active agent (instructions and tools) without a handoff call."""
        config = await self._session_config(agent, include_voice=False)
        self.core.update_agent(agent, config, self._now())
        self._pump()

    async def reconnect(self) -> None:
        """Start a fresh model session now, keeping the conversation (history replay)."""
        self.core.reconnect(self._now())
        self._pump()

    async def close(self) -> None:
        """End the session: close the connection, cancel tool tasks, end iteration."""
        if self.core.ended and not self._tasks and self._conn is None:
            return
        self._closing = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()
        self.core.close()
        self._wake()

    # ------------------------------------------------------------------ the shell's loop

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def _pump(self) -> None:
        """Write what the core queued, start its actions, re-arm its timer, wake readers."""
        core = self.core
        to_send = core.events_to_send()
        if to_send:
            conn = self._conn
            for event in to_send:
                if conn is None or not conn.is_open:
                    break
                try:
                    conn.send(event)
                except InvalidState:
                    break
        for action in core.actions_to_run():
            self._perform(action)
        if core.deadlines.changed:
            self._arm(core.next_deadline())
        if core.events:
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _arm(self, deadline: float | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if deadline is not None and not self._closing:
            self._timer = asyncio.get_running_loop().call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.core.handle_timeout(self._now())
        self.core.deadlines.changed = True
        self._pump()

    def _on_wire_event(self, event: ServerEvent | UnknownEvent) -> None:
        # the per-event path (audio deltas): the loop's clock, then the usual steps
        self.core.receive_event(event, self._clock())
        self._pump()

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
            self.core.emit(
                se.RealtimeErrorEvent(error={"type": "internal_error", "message": repr(exc)})
            )
            self._wake()

    # ------------------------------------------------------------------ actions

    def _perform(self, action: Action) -> None:
        match action:
            case RunTool():
                self.spawn(self._run_tool(action))
            case CheckApproval():
                self.spawn(self._check_approval(action))
            case RunGuardrail():
                self.spawn(self._run_guardrail(action))
            case UpdateSession():
                self.spawn(self._update(action))
            case Connect():
                self.spawn(self._reconnect(action))
            case CloseSession():
                conn, self._conn = self._conn, None
                if conn is not None:
                    self.spawn(conn.close())

    async def _run_tool(self, action: RunTool) -> None:
        tool = action.tool
        ctx = ToolContext(self, action.agent, action.call_id)
        ok = True
        try:
            result = await asyncio.wait_for(
                tool.on_invoke_tool(ctx, action.arguments_json), tool.timeout_s
            )
            output = tool_output_to_str(result)
        except TimeoutError:
            ok = False
            output = f"Error: the {tool.name} tool timed out after {tool.timeout_s:g} s."
        except Exception as exc:
            ok = False
            output = f"Error running tool {tool.name}: {type(exc).__name__}: {exc}"
        self.core.receive_tool_result(action.call_id, output, ok, self._now())
        self._pump()

    async def _check_approval(self, action: CheckApproval) -> None:
        verdict: bool | None = None
        decide = action.agent.tool_approval_function
        try:
            if decide is not None:
                answer = decide(action.tool.name, action.arguments)
                if inspect.isawaitable(answer):
                    answer = await answer
                verdict = answer if isinstance(answer, bool) else None
            needs = verdict is None and await action.tool.requires_approval(action.arguments)
        except Exception as exc:  # fail closed: a broken rule asks for an approval
            logger.warning("realtime: approval check of %s failed: %r", action.tool.name, exc)
            verdict, needs = None, True
        self.core.receive_approval_check(action.call_id, verdict, needs, self._now())
        self._pump()

    async def _run_guardrail(self, action: RunGuardrail) -> None:
        try:
            result = await action.guardrail.run(self.context, action.agent, action.text)
        except Exception as exc:
            self.core.receive_guardrail_result(action, None, exc, self._now())
        else:
            self.core.receive_guardrail_result(action, result, None, self._now())
        self._pump()

    async def _update(self, action: UpdateSession) -> None:
        config = await self._session_config(action.agent, include_voice=False)
        self.core.receive_session_config(action.token, config, self._now())
        self._pump()

    async def _reconnect(self, action: Connect) -> None:
        if action.close_old:
            conn, self._conn = self._conn, None
            if conn is not None:
                await conn.close()
        try:
            await self._open(first=False)
        except ConnectionClosed as exc:
            self.core.connection_failed(exc.reason, self._now(), first=False)
            self._pump()

    async def _open(self, *, first: bool) -> None:
        """Connect a new websocket and hand the core the session config."""
        settings = self.settings.model
        url = self.model.resolve_url(self._url, model=settings.model_name, call_id=self.call_id)
        holder: list[RealtimeConnection] = []

        def on_close(code: int | None, reason: str) -> None:
            if holder and holder[0] is self._conn and not self._closing:
                self._conn = None
                self.core.connection_closed(
                    code,
                    reason,
                    should_reconnect=holder[0].protocol.should_reconnect,
                    now=self._now(),
                )
                self._pump()

        conn = self.model.connection(
            url,
            on_event=self._on_wire_event,
            on_close=on_close,
            api_key=self._api_key,
            headers=self._headers,
        )
        holder.append(conn)
        config = await self._session_config(self.core.agent, include_voice=True)
        await conn.connect()
        self._conn = conn
        self.core.connection_opened(config, self._now(), first=first)
        self._pump()

    async def _session_config(self, agent: RealtimeAgent, *, include_voice: bool) -> dict[str, Any]:
        """`session.update` for `agent`: instructions and tools change; voice and formats
        stay (the voice is left out of updates: it cannot change once audio exists)."""
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

    # ------------------------------------------------------------------ for tools

    async def send_session_update(self) -> None:
        """Send the active agent's config again (e.g. after changing its instructions)."""
        config = await self._session_config(self.core.agent, include_voice=False)
        self.core.receive_session_config(0, config, self._now())
        self._pump()
