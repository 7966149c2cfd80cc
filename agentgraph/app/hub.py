"""The session hub: one place that sees every session event, caller input and played byte.

A transport drives the conversation (it iterates the session), so the app hands it an
`ObservedSession` instead of the session itself: a thin proxy whose iterator passes each
event to the hub before the transport gets it, and whose `send_audio`/`send_message` tell
the hub about caller input. The transport's playback tracker is wrapped too
(`hub.tracker(inner)`), so the hub knows when agent audio is really heard. From these the
hub keeps the little state observers need (which agent is speaking, turn latency) and fans
out to observers (console, session records).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from agentgraph.app.eventdata import display_name
from agentgraph.app.latency import LatencyMeter
from agentgraph.audio import AudioFormat
from agentgraph.realtime import events as se
from agentgraph.transports.base import PlaybackTracker

__all__ = ["HubObserver", "MeteredTracker", "ObservedSession", "SessionHub"]


class HubObserver(Protocol):
    """Something that renders or records a session (console, records writer)."""

    def on_event(self, event: Any, now: float) -> None:
        """A session event (before the transport sees it)."""

    def on_caller_text(self, text: str, now: float) -> None:
        """The caller typed / `--say` sent a message."""

    def on_caller_audio(self, audio: bytes, now: float) -> None:
        """Caller audio sent to the session (in the transport's format)."""

    def on_agent_played(self, agent: str, audio: bytes, now: float) -> None:
        """Agent audio the caller has now heard."""

    def on_latency(self, agent: str, latency_ms: float) -> None:
        """A turn's latency was measured."""

    def on_interrupted(self, item_id: str, heard_ms: float) -> None:
        """Agent audio was interrupted after the caller heard `heard_ms` of the item."""


class SessionHub:
    """Fans session activity out to observers and measures turn latency.

    Args:
        observers: console, records writer, ...
        clock: `loop.time` (injected so tests can drive it).
        text_only: the session's output modality is text (latency = first agent text).
        audio_format: the format of played agent audio (bytes -> ms).
    """

    def __init__(
        self,
        observers: list[HubObserver],
        *,
        clock: Callable[[], float],
        text_only: bool = False,
        audio_format: AudioFormat = AudioFormat.PCM16,
    ) -> None:
        self.observers = observers
        self.clock = clock
        self.text_only = text_only
        self.latency = LatencyMeter()
        self.agent_name = ""
        self._item_agent: dict[str, str] = {}
        self._played_bytes: dict[str, int] = {}
        self.bytes_per_ms = audio_format.bytes_per_ms
        self.event_listeners: list[Callable[[Any], None]] = []

    def tracker(self, inner: PlaybackTracker | None) -> MeteredTracker:
        """Wrap the session's playback tracker so played audio reaches the hub too."""
        return MeteredTracker(self, inner)

    def dispatch(self, event: Any) -> None:
        """Handle one session event: update state, then tell every observer."""
        now = self.clock()
        match event:
            case se.RealtimeAudioEvent():
                if event.item_id not in self._item_agent:
                    self._item_agent[event.item_id] = self.agent_name
            case se.RealtimeAgentStartEvent():
                self.agent_name = display_name(event.agent) or self.agent_name
            case se.RealtimeHandoffEvent():
                self.agent_name = display_name(event.to_agent) or self.agent_name
            case se.RealtimeSpeechStoppedEvent():
                self.latency.caller_stopped(now)
            case se.RealtimeTranscriptDeltaEvent() if self.text_only and self.latency.waiting:
                self._measured(self.agent_name, now)
        for observer in self.observers:
            observer.on_event(event, now)
        if isinstance(event, se.RealtimeAudioInterruptedEvent):
            item_id = event.item_id or ""
            heard_ms = self._played_bytes.get(item_id, 0) / self.bytes_per_ms
            for observer in self.observers:
                observer.on_interrupted(item_id, heard_ms)
        for listener in self.event_listeners:
            listener(event)

    def caller_text(self, text: str) -> None:
        """A manual caller turn: its end is the latency mark."""
        now = self.clock()
        self.latency.caller_stopped(now)
        for observer in self.observers:
            observer.on_caller_text(text, now)

    def caller_audio(self, audio: bytes) -> None:
        """Caller audio on its way to the session."""
        now = self.clock()
        for observer in self.observers:
            observer.on_caller_audio(audio, now)

    def caller_turn_ended(self) -> None:
        """A manual audio turn was committed (turn detection off)."""
        self.latency.caller_stopped(self.clock())

    def agent_played(self, item_id: str, audio: bytes) -> None:
        """The transport reports agent audio as heard."""
        now = self.clock()
        self._played_bytes[item_id] = self._played_bytes.get(item_id, 0) + len(audio)
        agent = self._item_agent.get(item_id, self.agent_name)
        if self.latency.waiting:
            self._measured(agent, now)
        for observer in self.observers:
            observer.on_agent_played(agent, audio, now)

    def _measured(self, agent: str, now: float) -> None:
        latency_ms = self.latency.agent_started_playing(now, agent)
        if latency_ms is not None:
            for observer in self.observers:
                observer.on_latency(agent, latency_ms)


class MeteredTracker:
    """A playback tracker that forwards to the session's tracker and tells the hub."""

    def __init__(self, hub: SessionHub, inner: PlaybackTracker | None) -> None:
        self.hub = hub
        self.inner = inner

    def on_play_bytes(self, item_id: str, content_index: int, data: bytes) -> None:
        if self.inner is not None:
            self.inner.on_play_bytes(item_id, content_index, data)
        self.hub.agent_played(item_id, data)

    def on_play_ms(self, item_id: str, content_index: int, ms: float) -> None:
        if self.inner is not None:
            self.inner.on_play_ms(item_id, content_index, ms)
        self.hub.agent_played(item_id, b"")

    def on_interrupted(self) -> None:
        if self.inner is not None:
            self.inner.on_interrupted()


class ObservedSession:
    """Proxy of a `RealtimeSession` that reports caller input and events to the hub.

    Everything not overridden here goes straight to the real session, so transports can
    use any session method (and the SIP transport can set `call_control`).
    """

    def __init__(self, session: Any, hub: SessionHub) -> None:
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_hub", hub)

    @property
    def session(self) -> Any:
        """The real session."""
        return self._session

    def send_audio(self, audio: bytes, *, commit: bool = False) -> Awaitable[None]:
        """Like the session's: sent at once, awaiting the result is optional."""
        if audio:
            self._hub.caller_audio(audio)
        if commit:
            done: Awaitable[None] = self._session.send_audio(audio, commit=True)
            self._hub.caller_turn_ended()
            return done
        result: Awaitable[None] = self._session.send_audio(audio)
        return result

    def send_message(self, text: str) -> Awaitable[None]:
        """Like the session's: sent at once (the seed calls it without `await`)."""
        self._hub.caller_text(text)
        result: Awaitable[None] = self._session.send_message(text)
        return result

    async def interrupt(self) -> None:
        await self._session.interrupt()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._events()

    async def _events(self) -> AsyncIterator[Any]:
        async for event in self._session:
            self._hub.dispatch(event)
            yield event

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._session, name, value)
