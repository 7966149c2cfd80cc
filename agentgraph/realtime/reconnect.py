"""Reconnecting a session: backoff, fresh config, history replay, buffered caller audio.

A reconnect always gets a new, empty server session (realtime-protocol.md §1.5), so after
the socket opens we send `session.update` again, replay every caller and agent utterance
as text items, then the caller audio that arrived meanwhile (the newest
`reconnect_audio_buffer_ms`; older audio is dropped), then late tool results and any
queued response. `generation` counts model sessions so tool outputs for calls of a dead
session are delivered as text instead of as `function_call_output`s the server would reject.
"""

from __future__ import annotations

import asyncio
import collections
import time
from typing import TYPE_CHECKING

from agentgraph.errors import ConnectionClosed
from agentgraph.protocol import events as wire
from agentgraph.realtime import events as se

if TYPE_CHECKING:
    from agentgraph.realtime.session import RealtimeSession

__all__ = ["Reconnector", "backoff_s"]

_ROLLOVER_GRACE_S = 20.0  # after the planned moment, roll over even mid-answer

_CHUNK_BYTES = 48_000  # replay buffered audio in 1 s appends (pcm16)


def backoff_s(attempt: int) -> float:
    """Delay before reconnect attempt `attempt` (1-based): 50 ms doubling, capped at 2 s."""
    return min(0.05 * float(2 ** (attempt - 1)), 2.0)


class Reconnector:
    """The reconnect part of a session."""

    def __init__(self, session: RealtimeSession) -> None:
        self.session = session
        self.generation = 0
        self.active = False
        self.count = 0
        self._audio: collections.deque[bytes] = collections.deque()
        self._audio_bytes = 0
        settings = session.settings
        self._limit = settings.reconnect_audio_buffer_ms * settings.model.input_format.bytes_per_ms
        self.dropped_audio_bytes = 0
        self._rollover: asyncio.TimerHandle | None = None
        self.rollover_due = False

    def on_session_created(self, expires_at: object) -> None:
        """Plan a rollover before the server's session expiry (`expires_at`, unix s).

        The shell converts the wall-clock expiry to loop time once; the session then
        reconnects at the first idle moment after `expires_at - session_rollover_s`, or
        `_ROLLOVER_GRACE_S` later whatever is going on.
        """
        margin = self.session.settings.session_rollover_s
        self.cancel_rollover()
        if margin is None or not isinstance(expires_at, (int, float)) or expires_at <= 0:
            return
        remaining = expires_at - time.time()
        if remaining <= margin:
            return  # already too close (or clocks disagree): the 1001 close still reconnects
        loop = asyncio.get_running_loop()
        self._rollover = loop.call_at(loop.time() + remaining - margin, self._rollover_due)

    def cancel_rollover(self) -> None:
        if self._rollover is not None:
            self._rollover.cancel()
            self._rollover = None
        self.rollover_due = False

    def _rollover_due(self) -> None:
        self._rollover = asyncio.get_running_loop().call_later(
            _ROLLOVER_GRACE_S, self._force_rollover
        )
        self.rollover_due = True
        self.maybe_roll_over()

    def _force_rollover(self) -> None:
        self.rollover_due = True
        self.maybe_roll_over(force=True)

    def maybe_roll_over(self, *, force: bool = False) -> None:
        """Called when the conversation goes quiet: roll over now if one is due."""
        session = self.session
        if not self.rollover_due or self.active or session._closing or session._closed:
            return
        if not force and not session.is_quiet():
            return
        self.cancel_rollover()
        session.spawn(self.reconnect_now(reason="session expires soon"))

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

    def start(self, reason: str) -> None:
        """Begin reconnecting after an abnormal close."""
        if self.active:
            return
        self.active = True
        self.session.spawn(self._run(reason, immediate=False))

    async def reconnect_now(self, reason: str = "reconnect requested") -> None:
        """Drop the current connection and reconnect at once (`session.reconnect()`)."""
        if self.active:
            return
        self.active = True
        conn = self.session._conn
        if conn is not None:
            await conn.close()
        await self._run(reason, immediate=True)

    async def _run(self, reason: str, *, immediate: bool) -> None:
        session = self.session
        attempts = max(1, session.settings.reconnect_max_attempts)
        for attempt in range(1, attempts + 1):
            session._emit(
                se.RealtimeConnectionEvent(status="reconnecting", attempt=attempt, reason=reason)
            )
            if attempt > 1 or not immediate:
                await asyncio.sleep(backoff_s(attempt))
            try:
                await session.open_connection(first=False)
            except ConnectionClosed as exc:
                reason = exc.reason
                continue
            self._resume()
            session._emit(se.RealtimeConnectionEvent(status="connected", attempt=attempt))
            return
        self.active = False
        session._emit(
            se.RealtimeErrorEvent(
                error={"type": "connection_closed", "message": f"reconnect failed: {reason}"}
            )
        )
        session._emit(se.RealtimeAgentEndEvent(agent=session.current_agent))
        session._finish("reconnect failed")

    def _resume(self) -> None:
        session = self.session
        conn = session._conn
        assert conn is not None
        self.generation += 1
        self.count += 1
        for index, (role, text) in enumerate(session.history.transcript()):
            content_type = "input_text" if role == "user" else "output_text"
            item_id = f"item_rp{self.generation}_{index}"
            session.replayed_items.add(item_id)  # already in our history: not added again
            conn.send(
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
            conn.send_audio(pending[start : start + _CHUNK_BYTES])
        self.active = False
        session.reset_audio_state()
        session.tools.flush_late_results()
        session.start_next_response()
