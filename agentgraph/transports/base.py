"""The transport interface: where a session's audio comes from and where it goes.

A transport (microphone and speaker, WAV files, the text console, a SIP call, a browser,
a media stream) is an object with:

- `audio_format`: the `AudioFormat` it feeds natively. The app configures the session's
  input and output audio formats from it, so a SIP call speaks G.711 to the model with no
  resampling and the microphone speaks 24 kHz pcm16.
- `playback_tracker`: set by the app before `run()`; the transport reports here how much of
  each agent audio item the caller has actually *heard*. The session clamps barge-in
  truncation to that position, and the app measures turn latency from the first report.
- `async run(session)`: pumps caller input into the session (`send_audio` /
  `send_message`), consumes session events (`async for event in session`), plays
  `audio_delta` audio, stops playback at once on `audio_interrupted`, and returns when the
  conversation ends (caller hung up, file finished, one `--say` turn answered, Ctrl-D).

Tool calls, approvals, guardrails and handoffs happen inside the session; a transport
never sees them except as events it may ignore.

`PlayoutBuffer` is the shared sans-I/O helper for the output side: a byte queue of agent
audio in the transport's format that remembers which item each byte belongs to, hands out
fixed-size blocks padded with silence (a device callback or an RTP/WAV pacer pulls), reports
played bytes to the tracker, and on interruption drops everything queued after a short
fade-out so the caller hears no click.
"""

from __future__ import annotations

import abc
import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from agentgraph.audio import AudioFormat
from agentgraph.realtime.events import RealtimeSessionEvent

__all__ = [
    "PlaybackTracker",
    "PlayedChunk",
    "PlayoutBuffer",
    "Transport",
    "TransportSession",
    "run_until_first_done",
]


@runtime_checkable
class PlaybackTracker(Protocol):
    """What a transport reports playback to (`agentgraph.realtime.RealtimePlaybackTracker`).

    Call `on_play_bytes` when audio has left the speaker / been sent to the caller, not
    when it was received: the session truncates the model's memory of the reply to this.
    """

    def on_play_bytes(self, item_id: str, content_index: int, data: bytes) -> None: ...

    def on_play_ms(self, item_id: str, content_index: int, ms: float) -> None: ...

    def on_interrupted(self) -> None: ...


class TransportSession(Protocol):
    """The part of `agentgraph.realtime.RealtimeSession` a transport uses.

    `send_audio`/`send_message` return awaitables (awaiting them is optional for the
    session, but transports await them so back-pressure works with any session).
    """

    def send_audio(self, audio: bytes, *, commit: bool = False) -> Awaitable[None]: ...

    def send_message(self, text: str) -> Awaitable[None]: ...

    def receive_dtmf(self, digits: str) -> Awaitable[None]: ...

    async def interrupt(self) -> None: ...

    def __aiter__(self) -> AsyncIterator[RealtimeSessionEvent]:
        """Session events, typed: transports dispatch on their classes (`match event:`)."""
        ...


class Transport(abc.ABC):
    """Base class of every transport (contract 4 in the working agreement).

    Subclasses set `audio_format` and implement `run()`. The app sets `playback_tracker`
    before calling `run()`; transports that play audio feed it (usually through a
    `PlayoutBuffer`).
    """

    audio_format: AudioFormat = AudioFormat.PCM16
    playback_tracker: PlaybackTracker | None = None

    @abc.abstractmethod
    async def run(self, session: TransportSession) -> None:
        """Carry one conversation: caller input in, agent audio out; return when it ends."""


async def run_until_first_done(*aws: Awaitable[Any]) -> None:
    """Run the pumps of one conversation together until any of them ends (a hang-up, the
    stream stopping, the session closing), then cancel the others and wait for them."""
    tasks = [asyncio.ensure_future(aw) for aw in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@dataclass(frozen=True, slots=True)
class PlayedChunk:
    """A run of played bytes that belongs to one agent audio item (for reporting)."""

    item_id: str
    content_index: int
    num_bytes: int


class PlayoutBuffer:
    """Output queue of agent audio with per-item accounting; sans-I/O, not thread-safe.

    `push()` appends an `audio_delta`; `pull(n)` returns exactly `n` bytes (silence when
    empty, so a device callback or a 20 ms pacer always gets a full block) and reports
    what was really played to the tracker; `interrupt()` keeps at most `fade_ms` of the
    queued audio, ramps it down to zero and drops the rest.

    Args:
        audio_format: format of the queued bytes (pcm16 24 kHz or G.711 8 kHz).
        tracker: where played audio is reported, or None.
        max_ms: queue limit; pushing beyond it drops the oldest audio (a stalled device
            must not grow memory without bound).
    """

    def __init__(
        self,
        audio_format: AudioFormat = AudioFormat.PCM16,
        *,
        tracker: PlaybackTracker | None = None,
        max_ms: int = 120_000,
    ) -> None:
        self.audio_format = audio_format
        self.tracker = tracker
        self._buf = bytearray()
        # (item_id, content_index, bytes still queued of this segment), oldest first
        self._segments: deque[list[Any]] = deque()
        self._max_bytes = max_ms * audio_format.bytes_per_ms
        self._silence_byte = (
            b"\x00"
            if audio_format is AudioFormat.PCM16
            else (b"\xff" if audio_format is AudioFormat.G711_ULAW else b"\xd5")
        )
        self.played_bytes_total = 0

    @property
    def buffered_bytes(self) -> int:
        """Bytes queued and not yet played."""
        return len(self._buf)

    @property
    def buffered_ms(self) -> float:
        """Milliseconds of audio queued and not yet played."""
        return len(self._buf) / self.audio_format.bytes_per_ms

    @property
    def current_item(self) -> tuple[str, int] | None:
        """The (item_id, content_index) whose audio plays next, if any."""
        if not self._segments:
            return None
        item_id, content_index, _ = self._segments[0]
        return item_id, content_index

    def push(self, item_id: str, content_index: int, audio: bytes) -> None:
        """Queue one chunk of agent audio (call on every `audio_delta`)."""
        if not audio:
            return
        last = self._segments[-1] if self._segments else None
        if last is not None and last[0] == item_id and last[1] == content_index:
            last[2] += len(audio)
        else:
            self._segments.append([item_id, content_index, len(audio)])
        self._buf += audio
        overflow = len(self._buf) - self._max_bytes
        if overflow > 0:
            self._drop(overflow, report=False)

    def pull(self, num_bytes: int, *, pad: bool = True) -> bytes:
        """Take the next `num_bytes` to play, reporting them to the tracker.

        With `pad` (a device or RTP clock needs full blocks) a short queue is padded with
        silence; without it fewer bytes may come back (a file writer).
        """
        take = min(num_bytes, len(self._buf))
        if take == 0:
            return self._silence_byte * num_bytes if pad else b""
        out = bytes(self._buf[:take])
        played = self._drop(take, report=True)
        self.played_bytes_total += take
        if self.tracker is not None:
            offset = 0
            for chunk in played:
                self.tracker.on_play_bytes(
                    chunk.item_id, chunk.content_index, out[offset : offset + chunk.num_bytes]
                )
                offset += chunk.num_bytes
        if pad and take < num_bytes:
            out += self._silence_byte * (num_bytes - take)
        return out

    def pull_chunks(self, num_bytes: int) -> tuple[bytes, list[PlayedChunk]]:
        """Like `pull()` without padding, returning what was taken per item instead of
        reporting it (for callers in another thread that report from the event loop)."""
        take = min(num_bytes, len(self._buf))
        out = bytes(self._buf[:take])
        played = self._drop(take, report=True)
        self.played_bytes_total += take
        return out, played

    def interrupt(self, *, fade_ms: float = 5.0) -> int:
        """Stop playback now: fade out the next `fade_ms`, drop the rest.

        Returns the number of bytes dropped. Tells the tracker (`on_interrupted`).
        """
        keep = min(len(self._buf), int(fade_ms * self.audio_format.bytes_per_ms))
        if self.audio_format is AudioFormat.PCM16:
            keep -= keep % 2
        dropped = len(self._buf) - keep
        if keep and self.audio_format is AudioFormat.PCM16:
            samples = np.frombuffer(bytes(self._buf[:keep]), dtype="<i2").astype(np.float32)
            ramp = np.linspace(1.0, 0.0, samples.size, dtype=np.float32)
            self._buf[:keep] = (samples * ramp).astype("<i2").tobytes()
        elif keep:  # G.711: no cheap fade in the companded domain; stop at once
            dropped, keep = len(self._buf), 0
        if dropped:
            # drop from the tail: segments are trimmed newest first
            del self._buf[keep:]
            remaining = keep
            kept: deque[list[Any]] = deque()
            for seg in self._segments:
                if remaining <= 0:
                    break
                n = min(seg[2], remaining)
                kept.append([seg[0], seg[1], n])
                remaining -= n
            self._segments = kept
        if self.tracker is not None:
            self.tracker.on_interrupted()
        return dropped

    def clear(self) -> int:
        """Drop all queued audio without a fade or tracker call; returns bytes dropped."""
        dropped = len(self._buf)
        self._buf.clear()
        self._segments.clear()
        return dropped

    def _drop(self, num_bytes: int, *, report: bool) -> list[PlayedChunk]:
        del self._buf[:num_bytes]
        played: list[PlayedChunk] = []
        remaining = num_bytes
        while remaining > 0 and self._segments:
            seg = self._segments[0]
            n = min(seg[2], remaining)
            if report:
                played.append(PlayedChunk(seg[0], seg[1], n))
            seg[2] -= n
            remaining -= n
            if seg[2] == 0:
                self._segments.popleft()
        return played
