"""Agent audio bookkeeping: which item is playing, how much of it arrived and was heard,
and cutting it off (barge-in, `interrupt()`, guardrail trips).

Truncation follows realtime-protocol.md §6(c): truncate at the played position (from the
`RealtimePlaybackTracker` the transport feeds; without reports everything received counts
as played, like the reference SDK), clamped to the audio received, and skipped only when
playback really finished. Deltas for an item that was cut off are dropped, so audio still
in flight after a cancel never reaches the speaker.

Hold-back: while an output guardrail with `hold_back_ms` is active, agent audio (and its
`audio_done`) reaches the caller that long after it arrived, so a check on the transcript
can cut it first; audio held for an item that is cut off is never released. It trades
latency for safety where the transcript trails the audio (gpt-realtime).
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING

from agentgraph.protocol import events as wire
from agentgraph.realtime import events as se
from agentgraph.realtime.playback import RealtimePlaybackTracker

if TYPE_CHECKING:
    from agentgraph.realtime.host import SessionHost

__all__ = ["AgentAudio"]

_HOLD = ("audio", "hold-back")


class AgentAudio:
    """The agent item being played in one session."""

    __slots__ = (
        "_bytes_per_ms",
        "_held",
        "_host",
        "_reports",
        "_tracker",
        "content_index",
        "done",
        "guarded",
        "item_id",
        "muted",
        "num_bytes",
    )

    def __init__(
        self,
        host: SessionHost,
        tracker: RealtimePlaybackTracker,
        *,
        reports: bool,
        bytes_per_ms: int,
    ) -> None:
        self._host = host
        self._tracker = tracker
        self._reports = reports
        self._bytes_per_ms = bytes_per_ms
        self.item_id: str | None = None
        self.content_index = 0
        self.num_bytes = 0
        self.done = False
        self.muted: set[str] = set()
        self.guarded = bool(host.settings.output_guardrails)  # the core keeps it current
        self._held: collections.deque[
            tuple[float, se.RealtimeAudioEvent | se.RealtimeAudioDoneEvent]
        ] = collections.deque()

    def reset(self) -> None:
        """Forget the playing item (a new model session has none)."""
        self.item_id = None
        self.num_bytes = 0
        self.done = False

    def on_delta(self, event: wire.ResponseOutputAudioDelta) -> None:
        """Count a delta and pass it on as `audio_delta` (dropped if its item was cut off)."""
        item_id = event.item_id
        if item_id in self.muted:
            return
        if item_id != self.item_id:
            self.item_id = item_id
            self.content_index = event.content_index
            self.num_bytes = 0
            self.done = False
        self.num_bytes += len(event.delta)
        self._out(
            se.RealtimeAudioEvent(event.delta, item_id, event.content_index, event.response_id)
        )

    def on_done(self, event: wire.ResponseOutputAudioDone) -> None:
        """The item's audio is complete: `audio_done` (nothing if it was cut off)."""
        item_id = event.item_id
        if item_id in self.muted:
            return
        if item_id == self.item_id:
            self.done = True
        self._out(se.RealtimeAudioDoneEvent(item_id=item_id, content_index=event.content_index))

    def _hold_ms(self) -> int:
        host = self._host
        guardrails = (*host.agent.output_guardrails, *host.settings.output_guardrails)
        return max((g.hold_back_ms for g in guardrails), default=0) if guardrails else 0

    def _out(self, event: se.RealtimeAudioEvent | se.RealtimeAudioDoneEvent) -> None:
        host = self._host
        if not self.guarded and not self._held:
            host.emit(event)  # the hot path: no guardrails, nothing held
            return
        hold_ms = self._hold_ms()
        if not hold_ms and not self._held:
            host.emit(event)
            return
        release = host.now + hold_ms / 1000
        if not self._held:
            host.deadlines.set(_HOLD, release)
        self._held.append((release, event))

    def handle_deadline(self, key: object, now: float) -> None:
        """Release held audio that is due (skipping items cut off meanwhile)."""
        if key != _HOLD:
            return
        held = self._held
        while held and held[0][0] <= now:
            event = held.popleft()[1]
            if event.item_id not in self.muted:
                self._host.emit(event)
        if held:
            self._host.deadlines.set(_HOLD, held[0][0])

    def played_ms(self) -> int:
        """ms of the current item the caller heard, clamped to the audio received."""
        received_ms = self.num_bytes // self._bytes_per_ms
        if self._reports:
            state = self._tracker.get_state()
            if state.item_id == self.item_id:
                return min(int(state.played_ms), received_ms)
            return 0 if state.item_id is None and not self.done else received_ms
        return received_ms

    def cut(self, *, force: bool) -> None:
        """Stop playback of the current item and truncate it where the caller stopped
        hearing it; skipped when playback really finished, unless `force`."""
        item_id = self.item_id
        if item_id is None:
            return
        received_ms = self.num_bytes // self._bytes_per_ms
        played = self.played_ms()
        finished = self.done and (not self._reports or played >= received_ms)
        self.item_id = None
        if finished and not force:
            return
        host = self._host
        self.muted.add(item_id)
        host.emit(
            se.RealtimeAudioInterruptedEvent(item_id=item_id, content_index=self.content_index)
        )
        self._tracker.on_interrupted()
        host.send(
            wire.ConversationItemTruncate(
                item_id=item_id, content_index=self.content_index, audio_end_ms=played
            )
        )
        host.history.mark_interrupted(item_id)

    def cut_item(self, item_id: str) -> None:
        """Cut off `item_id` whether or not its audio is playing (guardrail trips)."""
        if self.item_id == item_id:
            self.cut(force=True)
            return
        self.muted.add(item_id)
        self._host.emit(se.RealtimeAudioInterruptedEvent(item_id=item_id))
        self._host.history.mark_interrupted(item_id)
