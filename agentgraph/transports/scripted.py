"""Shared machinery of the non-device transports: a file player and an event pump.

`FilePlayer` plays agent audio into a WAV file (or nowhere) through a `PlayoutBuffer`,
either paced in real time (20 ms blocks on `loop.time()`) or as fast as it arrives
(`--fast`); "played" is reported to the tracker when a block is written, which is what
truncation and turn latency need.

`EventPump` consumes the session's events in a task: audio to the player, barge-in to
`interrupt()`, everything to a `TurnWatcher`; `wait_answered()` then tells a scripted
caller when the agent has finished answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import wave
from pathlib import Path
from typing import Any

from agentgraph.audio import AudioFormat, resample_pcm16
from agentgraph.audio.g711 import alaw_to_pcm16, ulaw_to_pcm16
from agentgraph.realtime import events as se
from agentgraph.transports.base import PlaybackTracker, PlayoutBuffer, TransportSession
from agentgraph.transports.turns import TurnWatcher

__all__ = ["EventPump", "FilePlayer"]

BLOCK_MS = 20


class FilePlayer:
    """Plays agent audio into a 24 kHz mono WAV file, or discards it when `path` is None.

    Args:
        path: the WAV file to write, or None.
        audio_format: format of the agent audio pushed in.
        tracker: where played audio is reported.
        fast: write audio as soon as it arrives instead of in real time.
    """

    def __init__(
        self,
        path: Path | None,
        *,
        audio_format: AudioFormat = AudioFormat.PCM16,
        tracker: PlaybackTracker | None = None,
        fast: bool = False,
    ) -> None:
        self.path = path
        self.audio_format = audio_format
        self.fast = fast
        self.buffer = PlayoutBuffer(audio_format, tracker=tracker)
        self._block_bytes = BLOCK_MS * audio_format.bytes_per_ms
        self._wav: wave.Wave_write | None = None
        self._written_bytes = 0
        self._wakeup = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._task: asyncio.Task[None] | None = None
        if path is not None:
            wav = wave.open(str(path), "wb")  # noqa: SIM115 - closed in close()
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(24000)
            self._wav = wav

    @property
    def written_ms(self) -> float:
        """Milliseconds of agent audio written (or discarded as played) so far."""
        return self._written_bytes / self.audio_format.bytes_per_ms

    def start(self) -> None:
        """Start the real-time pacer (no-op with `fast`)."""
        if not self.fast and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._pace())

    def push(self, item_id: str, content_index: int, audio: bytes) -> None:
        """Queue agent audio (an `audio_delta`)."""
        self.buffer.push(item_id, content_index, audio)
        if self.fast:
            self._write(self.buffer.pull(self.buffer.buffered_bytes, pad=False))
        else:
            self._drained.clear()
            self._wakeup.set()

    def interrupt(self) -> None:
        """Barge-in: fade out and drop the queued audio."""
        self.buffer.interrupt()
        if self.fast:
            self._write(self.buffer.pull(self.buffer.buffered_bytes, pad=False))

    async def drain(self) -> None:
        """Wait until every queued byte has been played."""
        if self.buffer.buffered_bytes:
            self._drained.clear()
            self._wakeup.set()
        await self._drained.wait()

    async def close(self) -> None:
        """Stop the pacer and finish the WAV file."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._wav is not None:
            self._wav.close()
            self._wav = None

    async def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        block_s = BLOCK_MS / 1000
        next_at = loop.time()
        while True:
            if not self.buffer.buffered_bytes:
                self._drained.set()
                self._wakeup.clear()
                await self._wakeup.wait()
                next_at = loop.time()
            self._write(self.buffer.pull(self._block_bytes, pad=False))
            next_at += block_s
            delay = next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:  # fell behind (a busy machine): don't try to catch up in a burst
                next_at = loop.time()

    def _write(self, audio: bytes) -> None:
        if not audio:
            return
        self._written_bytes += len(audio)
        if self._wav is None:
            return
        if self.audio_format is not AudioFormat.PCM16:
            decode = (
                ulaw_to_pcm16 if self.audio_format is AudioFormat.G711_ULAW else (alaw_to_pcm16)
            )
            audio = resample_pcm16(decode(audio), 8000, 24000)
        self._wav.writeframes(audio)


class EventPump:
    """Consumes session events for a scripted transport (see module docstring)."""

    def __init__(self, session: TransportSession, player: FilePlayer | None) -> None:
        self.session = session
        self.player = player
        self.watcher = TurnWatcher()
        self.events: list[Any] = []
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop = asyncio.get_running_loop()
        self.ended = False

    def start(self) -> None:
        """Begin consuming events."""
        self._task = self._loop.create_task(self._consume())

    def caller_turn(self) -> None:
        """The scripted caller just finished a turn."""
        self.watcher.caller_turn(self._loop.time())

    async def wait_answered(self, *, timeout_s: float, no_answer_s: float) -> bool:
        """Wait until the agent finished answering; False if it never started in time.

        Args:
            timeout_s: give up after this long in any case.
            no_answer_s: give up when nothing at all happened for this long.
        """
        deadline = self._loop.time() + timeout_s
        while True:
            now = self._loop.time()
            if self.watcher.done(now):
                return True
            if self.ended:
                return self.watcher.answered
            if now >= deadline:
                return False
            if (
                not self.watcher.answered
                and not self.watcher.busy
                and (self.watcher.quiet_for(now) >= no_answer_s)
            ):
                return False
            wake_at = min(
                deadline, self.watcher.next_check(now) if self.watcher.answered else now + 0.25
            )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), max(0.005, wake_at - now))

    async def stop(self) -> None:
        """Stop consuming events."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _consume(self) -> None:
        try:
            async for event in self.session:
                match event:
                    case se.RealtimeAudioEvent():
                        if self.player is not None:
                            self.player.push(event.item_id, event.content_index, event.audio)
                    case se.RealtimeRawModelEvent():
                        pass
                    case se.RealtimeAudioInterruptedEvent():
                        if self.player is not None:
                            self.player.interrupt()
                        self.events.append(event)
                    case _:
                        self.events.append(event)
                self.watcher.feed(event, self._loop.time())
                self._changed.set()
        finally:
            self.ended = True
            self._changed.set()
