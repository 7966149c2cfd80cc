"""One realtime session per phone call, for every way calls come in.

`CallSessions` holds what a served graph needs to start a session (agents, routes by
dialled number, the run config, the model URL and key) and runs one conversation per
call: direct SIP calls (`handle_sip_call`), media-stream websockets and OpenAI SIP calls
use `run_call()` with their own transport. Every session event can be observed
(`on_event(call_id, event)`) for the console and for tests.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentgraph.audio import AudioFormat
from agentgraph.errors import InvalidState
from agentgraph.realtime import RealtimePlaybackTracker, RealtimeRunner
from agentgraph.transports.base import Transport
from agentgraph.transports.sip.call import SipCallTransport
from agentgraph.transports.sip.events import IncomingCall
from agentgraph.transports.sip.server import SipCall

__all__ = ["CallSessions", "EventObserver", "ListenerFactory", "PreparedCall", "auto_approvals"]

log = logging.getLogger(__name__)
EventObserver = Callable[[str, Any], None]
Listener = Callable[[Any], None]
ListenerFactory = Callable[[str, Any], Listener | None]
NO_OPERATOR = "No operator is available to approve this right now."


def _call_listener(listener: Listener | None) -> EventObserver | None:
    if listener is None:
        return None
    return lambda _call_id, event: listener(event)


def auto_approvals(mode: str) -> ListenerFactory:
    """Operator approvals for unattended servers: `approve` or `deny` every request.

    Raises:
        ValueError: `mode` is neither.
    """
    if mode not in ("approve", "deny"):
        raise ValueError(f"approval mode must be approve or deny, not {mode!r}")

    def factory(_call_id: str, session: Any) -> Listener:
        tasks: set[asyncio.Task[None]] = set()

        def on_event(event: Any) -> None:
            if getattr(event, "type", "") != "tool_approval_required":
                return
            if mode == "approve":
                coro = session.approve_tool_call(event.call_id)
            else:
                coro = session.reject_tool_call(event.call_id, NO_OPERATOR)
            task = asyncio.ensure_future(coro)
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        return on_event

    return factory


@dataclass
class CallSessions:
    """Starts the routed agent's session for each call and lets a transport carry it.

    Attributes:
        agents: every agent of the graph by name.
        start_agent: who answers numbers without a route.
        routes: dialled number -> agent name.
        run_config: the compiled graph's `RealtimeRunConfig` dict.
        url: the Realtime websocket URL (embedded engine or OpenAI).
        api_key: sent as the bearer token, if any (never logged).
        on_event: called with (call id, session event) for every event.
        listeners: per-session listener factory `(call_id, session) -> (event) -> None`,
            e.g. operator approvals (`auto_approvals("deny")`).
    """

    agents: Mapping[str, Any]
    start_agent: str
    routes: Mapping[str, str] = field(default_factory=dict)
    run_config: Mapping[str, Any] = field(default_factory=dict)
    url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    on_event: EventObserver | None = None
    listeners: ListenerFactory | None = None
    active: int = 0
    completed: int = 0

    def agent_for(self, number: str | None) -> Any:
        """The agent that answers `number` (routes first, else the start agent)."""
        name = self.routes.get(number or "", self.start_agent)
        return self.agents.get(name) or self.agents[self.start_agent]

    def config_for(self, audio_format: AudioFormat) -> dict[str, Any]:
        """The run config with the transport's audio format on both directions."""
        config = dict(self.run_config)
        settings = dict(config.get("model_settings") or {})
        settings["input_audio_format"] = audio_format.value
        settings["output_audio_format"] = audio_format.value
        config["model_settings"] = settings
        return config

    async def run_call(
        self,
        call_id: str,
        number: str | None,
        transport: Transport,
        *,
        call_control: Any = None,
        model_call_id: str | None = None,
    ) -> None:
        """Run one conversation over `transport` until the call ends."""
        prepared = await self._open(number, transport.audio_format, model_call_id)
        async with prepared.session:
            await self._converse(call_id, prepared, transport, call_control)

    async def _open(
        self, number: str | None, audio_format: AudioFormat, model_call_id: str | None = None
    ) -> PreparedCall:
        tracker = RealtimePlaybackTracker(audio_format)
        agent = self.agent_for(number)
        runner = RealtimeRunner(agent, config=self.config_for(audio_format))
        model_config: dict[str, Any] = {"playback_tracker": tracker}
        if self.url:
            model_config["url"] = self.url
        if self.api_key:
            model_config["api_key"] = self.api_key
        session = await runner.run(model_config=model_config, call_id=model_call_id)
        return PreparedCall(session, tracker, audio_format, agent.name, number)

    async def _converse(
        self, call_id: str, prepared: PreparedCall, transport: Transport, call_control: Any
    ) -> None:
        session = prepared.session
        transport.playback_tracker = prepared.tracker
        session.call_control = call_control
        listener = self.listeners(call_id, session) if self.listeners else None
        observers = [o for o in (self.on_event, _call_listener(listener)) if o is not None]
        observed = _Observed(session, call_id, observers) if observers else session
        self.active += 1
        log.info(
            "call %s: %s answers %s", call_id, prepared.agent_name, prepared.number or "(no number)"
        )
        try:
            await transport.run(observed)
        finally:
            self.active -= 1
            self.completed += 1

    async def prepare_sip_call(self, incoming: IncomingCall) -> PreparedCall:
        """`SipServer.prepare`: connect the routed agent's session while the phone rings.

        Raises:
            AgentGraphError: the model cannot be reached (the caller gets 503).
        """
        fmt = AudioFormat.G711_ALAW if incoming.codec == "PCMA" else AudioFormat.G711_ULAW
        prepared = await self._open(incoming.callee, fmt)
        # Tools may run before the answer completes: they wait for the call to be bound.
        prepared.session.call_control = prepared.control
        await prepared.session.__aenter__()
        return prepared

    async def handle_sip_call(self, call: SipCall) -> None:
        """`SipServer.on_call`: the routed agent talks to the caller over RTP."""
        prepared = call.prepared
        if not isinstance(prepared, PreparedCall):
            await self.run_call(
                call.call_id, call.callee, SipCallTransport(call), call_control=call
            )
            return
        transport = SipCallTransport(call, session_format=prepared.audio_format)
        prepared.control.bind(call)
        try:
            await self._converse(call.call_id, prepared, transport, call)
        finally:
            await prepared.aclose()


@dataclass
class PreparedCall:
    """A session opened for a call before it was answered."""

    session: Any
    tracker: RealtimePlaybackTracker
    audio_format: AudioFormat
    agent_name: str
    number: str | None
    control: PendingCallControl = field(default_factory=lambda: PendingCallControl())

    async def aclose(self) -> None:
        """Close the session (also when the call ended before it started)."""
        self.control.unbind()
        await self.session.__aexit__(None, None, None)


class PendingCallControl:
    """`call_control` for a session opened while the phone rings: hangup and transfer
    wait (briefly) until the answered call is bound to it."""

    def __init__(self, *, timeout_s: float = 30.0) -> None:
        self.timeout_s = timeout_s
        self._call: asyncio.Future[Any] | None = None

    def _future(self) -> asyncio.Future[Any]:
        if self._call is None:
            self._call = asyncio.get_running_loop().create_future()
        return self._call

    def bind(self, call: Any) -> None:
        future = self._future()
        if not future.done():
            future.set_result(call)

    def unbind(self) -> None:
        future = self._future()
        if not future.done():
            future.cancel()

    async def _wait(self) -> Any:
        future = self._future()
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
        except TimeoutError:
            raise InvalidState("the call is not connected") from None
        except asyncio.CancelledError:
            if future.cancelled():  # the call ended before it was answered
                raise InvalidState("the call is not connected") from None
            raise

    async def hangup(self) -> None:
        await (await self._wait()).hangup()

    async def transfer(self, target: str) -> None:
        await (await self._wait()).transfer(target)


class _Observed:
    """The session as a transport sees it, with every event shown to an observer."""

    def __init__(self, session: Any, call_id: str, observers: list[EventObserver]) -> None:
        self._session = session
        self._call_id = call_id
        self._observers = observers

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            setattr(self._session, name, value)

    def __aiter__(self) -> _Observed:
        return self

    async def __anext__(self) -> Any:
        event = await self._session.__anext__()
        for observer in self._observers:
            try:
                observer(self._call_id, event)
            except Exception:  # an observer bug must not end the call
                log.exception("event observer failed")
        return event
