"""Reconnecting a session: backoff, fresh config, history replay, buffered caller audio.

A reconnect always gets a new, empty server session (realtime-protocol.md §1.5), so after
the socket opens the core sends `session.update` again, replays every caller and agent
utterance as text items, then the caller audio that arrived meanwhile (the newest
`reconnect_audio_buffer_ms`; older audio is dropped), then late tool results and any
queued response. `generation` counts model sessions so tool outputs for calls of a dead
session are delivered as text instead of as `function_call_output`s the server would reject.

Sans-I/O: the backoff and the session-expiry rollover are deadlines of the core; opening a
connection is a `Connect` action the shell performs.
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING

from agentgraph.protocol import events as wire
from agentgraph.realtime import events as se
from agentgraph.realtime.host import Connect

if TYPE_CHECKING:
    from agentgraph.realtime.host import SessionHost

__all__ = ["Reconnector", "backoff_s"]

_ROLLOVER_GRACE_S = 20.0  # after the planned moment, roll over even mid-answer

_CHUNK_BYTES = 48_000  # replay buffered audio in 1 s appends (pcm16)

_BACKOFF = ("reconnect", "backoff")
_ROLLOVER = ("reconnect", "rollover")
_FORCE = ("reconnect", "rollover-grace")


def backoff_s(attempt: int) -> float:
    """Delay before reconnect attempt `attempt` (1-based): 50 ms doubling, capped at 2 s."""
    return min(0.05 * float(2 ** (attempt - 1)), 2.0)


class Reconnector:
    """The reconnect part of a session core.

    Args:
        host: the core.
        wall_offset_s: wall-clock time minus loop time, measured once by the shell (the
            server's `expires_at` is wall-clock; deadlines are loop time).
    """

    def __init__(self, host: SessionHost, *, wall_offset_s: float = 0.0) -> None:
        self.host = host
        self.wall_offset_s = wall_offset_s
        self.generation = 0
        self.active = False
        self.count = 0
        self.attempt = 0
        self.reason = ""
        self._audio: collections.deque[bytes] = collections.deque()
        self._audio_bytes = 0
        settings = host.settings
        self._limit = settings.reconnect_audio_buffer_ms * settings.model.input_format.bytes_per_ms
        self.dropped_audio_bytes = 0
        self.rollover_due = False

    # -- rollover before the server's session expiry

    def on_session_created(self, expires_at: object, now: float) -> None:
        """Plan a rollover before `expires_at` (unix s): at the first quiet moment after
        `expires_at - session_rollover_s`, or `_ROLLOVER_GRACE_S` later whatever goes on."""
        margin = self.host.settings.session_rollover_s
        self.cancel_rollover()
        if margin is None or not isinstance(expires_at, (int, float)) or expires_at <= 0:
            return
        remaining = expires_at - (now + self.wall_offset_s)
        if remaining <= margin:
            return  # already too close (or clocks disagree): the 1001 close still reconnects
        self.host.deadlines.set(_ROLLOVER, now + remaining - margin)

    def cancel_rollover(self) -> None:
        self.host.deadlines.clear(_ROLLOVER)
        self.host.deadlines.clear(_FORCE)
        self.rollover_due = False

    def handle_deadline(self, key: object, now: float) -> bool:
        """Act on one of our deadlines; False if `key` is not ours."""
        if key == _ROLLOVER:
            self.host.deadlines.set(_FORCE, now + _ROLLOVER_GRACE_S)
            self.rollover_due = True
            self.maybe_roll_over()
        elif key == _FORCE:
            self.rollover_due = True
            self.maybe_roll_over(force=True)
        elif key == _BACKOFF:
            if self.active and not self.host.ended:
                self.host.act(Connect(self.attempt))
        else:
            return False
        return True

    def maybe_roll_over(self, *, force: bool = False) -> None:
        """Called when the conversation goes quiet: roll over now if one is due."""
        if not self.rollover_due or self.active or self.host.ended:
            return
        if not force and not self.host.is_quiet():
            return
        self.cancel_rollover()
        self.reconnect_now("session expires soon")

    # -- caller audio while disconnected

    def buffer_audio(self, audio: bytes) -> None:
        """Keep caller audio while disconnected (bounded: the oldest is dropped)."""
        if not audio:
            return
        self._audio.append(audio)
        self._audio_bytes += len(audio)
        while self._audio_bytes > self._limit and self._audio:
            dropped = self._audio.popleft()
            self._audio_bytes -= len(dropped)
            self.dropped_audio_bytes += len(dropped)

    # -- the reconnect itself

    def start(self, reason: str, now: float) -> None:
        """Begin reconnecting after an abnormal close (first attempt after a backoff)."""
        if self.active:
            return
        self.active = True
        self.attempt = 1
        self.reason = reason
        self.host.emit(se.RealtimeConnectionEvent(status="reconnecting", attempt=1, reason=reason))
        self.host.deadlines.set(_BACKOFF, now + backoff_s(1))

    def reconnect_now(self, reason: str = "reconnect requested") -> None:
        """Drop the current connection and reconnect at once (`session.reconnect()`)."""
        if self.active or self.host.ended:
            return
        self.active = True
        self.attempt = 1
        self.reason = reason
        self.host.emit(se.RealtimeConnectionEvent(status="reconnecting", attempt=1, reason=reason))
        self.host.act(Connect(1, close_old=True))

    def connection_failed(self, reason: str, now: float) -> None:
        """An attempt failed: try again after the backoff, or give up."""
        self.reason = reason
        if self.attempt >= max(1, self.host.settings.reconnect_max_attempts):
            self.active = False
            self.host.emit(
                se.RealtimeErrorEvent(
                    error={"type": "connection_closed", "message": f"reconnect failed: {reason}"}
                )
            )
            self.host.emit(se.RealtimeAgentEndEvent(agent=self.host.agent))
            self.host.finish("reconnect failed")
            return
        self.attempt += 1
        self.host.emit(
            se.RealtimeConnectionEvent(status="reconnecting", attempt=self.attempt, reason=reason)
        )
        self.host.deadlines.set(_BACKOFF, now + backoff_s(self.attempt))

    def resume(self) -> list[wire.ClientEvent]:
        """The new model session is configured: what to replay into it (the core sends it
        ahead of anything else), after which the session carries on."""
        host = self.host
        self.generation += 1
        self.count += 1
        replay: list[wire.ClientEvent] = []
        for index, (role, text) in enumerate(host.history.transcript()):
            content_type = "input_text" if role == "user" else "output_text"
            item_id = f"item_rp{self.generation}_{index}"
            replay.append(
                wire.ConversationItemCreate(
                    item={
                        "id": item_id,
                        "type": "message",
                        "role": role,
                        "content": [{"type": content_type, "text": text}],
                    }
                )
            )
        pending = b"".join(self._audio)
        self._audio.clear()
        self._audio_bytes = 0
        for start in range(0, len(pending), _CHUNK_BYTES):
            replay.append(wire.InputAudioBufferAppend(audio=pending[start : start + _CHUNK_BYTES]))
        self.active = False
        host.emit(se.RealtimeConnectionEvent(status="connected", attempt=self.attempt))
        return replay
