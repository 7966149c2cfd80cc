"""`RealtimePlaybackTracker`: the transport tells the session how much agent audio was played.

On barge-in the session truncates the agent's item at the played position so the model
knows what the caller actually heard. Transports that play audio (speaker, RTP) call
`on_play_bytes` or `on_play_ms` as they play; without reports the session assumes
everything received was played (the reference SDK's default).
"""

from __future__ import annotations

from dataclasses import dataclass

from agentgraph.audio import AudioFormat

__all__ = ["PlaybackState", "RealtimePlaybackTracker"]


@dataclass(frozen=True, slots=True)
class PlaybackState:
    """What is playing now: the item, its content index and the ms played of it."""

    item_id: str | None
    content_index: int
    played_ms: float


class RealtimePlaybackTracker:
    """Counts played agent audio per item; cheap enough to call per chunk."""

    __slots__ = ("_bytes_per_ms", "_content_index", "_item_id", "_played_ms")

    def __init__(self, audio_format: AudioFormat = AudioFormat.PCM16) -> None:
        self._bytes_per_ms = float(audio_format.bytes_per_ms)
        self._item_id: str | None = None
        self._content_index = 0
        self._played_ms = 0.0

    def set_audio_format(self, audio_format: AudioFormat) -> None:
        """Called by the session with the output format, so bytes convert to ms correctly."""
        self._bytes_per_ms = float(audio_format.bytes_per_ms)

    def on_play_bytes(self, item_id: str, content_index: int, data: bytes) -> None:
        """Report that `data` (in the session's output format) was just played."""
        self.on_play_ms(item_id, content_index, len(data) / self._bytes_per_ms)

    def on_play_ms(self, item_id: str, content_index: int, ms: float) -> None:
        """Report that `ms` milliseconds of `item_id` were just played."""
        if item_id != self._item_id or content_index != self._content_index:
            self._item_id = item_id
            self._content_index = content_index
            self._played_ms = 0.0
        self._played_ms += ms

    def on_interrupted(self) -> None:
        """Playback was stopped (the session calls this on barge-in)."""
        self._item_id = None
        self._content_index = 0
        self._played_ms = 0.0

    def get_state(self) -> PlaybackState:
        """The item being played and how much of it was played."""
        return PlaybackState(self._item_id, self._content_index, self._played_ms)
