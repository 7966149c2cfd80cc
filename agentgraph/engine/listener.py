"""Voice input for one session: VAD frames, turn decisions and streaming recognition.

`SpeechListener` implements the server core's `Listener`: the core hands it every append
as 24 kHz pcm16; it resamples to 16 kHz (soxr stream), cuts 32 ms frames for Silero,
asks `TurnTracker` for start/stop, and collects the speech (with the prefix padding kept
in a short ring of recent frames) for the session's recognizer. When the caller pauses
for ~100 ms it decodes speculatively; if the pause becomes the end of the turn, that
result is the transcript, so the decoding is hidden inside the silence window. Models load
on first use, so a text-only session never pays for them.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from agentgraph.audio.resample import StreamResampler, resample_pcm16
from agentgraph.engine.asr.sphinx import SphinxRecognizer
from agentgraph.engine.protocol import ListenerEvent, SpeechStarted, SpeechStopped
from agentgraph.engine.vad import FRAME_MS, FRAME_SAMPLES, SileroVad, TurnTracker, _Start

__all__ = ["SpeechListener"]

_FRAME_BYTES = FRAME_SAMPLES * 2
_RING_FRAMES = 40  # 1.28 s of recent audio for prefix padding
_SPECULATE_AFTER_MS = 3 * FRAME_MS
_FLOOR_FRAMES = 94  # the noise floor is the quietest frame of the last ~3 s
_FLOOR_FACTOR = 2.5


def _rms(frame: bytes) -> float:
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples))) + 1.0


class SpeechListener:
    """VAD + ASR over one session's input audio."""

    def __init__(self) -> None:
        self._session: dict[str, Any] | None = None
        self._tracker: TurnTracker | None = None
        self._vad: SileroVad | None = None
        self._asr = SphinxRecognizer()
        self._asr_ready = False
        self._resampler = StreamResampler(24000, 16000)
        self._pending = bytearray()
        self._frames_done = 0
        self._ring: deque[tuple[int, bytes]] = deque(maxlen=_RING_FRAMES)
        self._speculative: tuple[int, str] | None = None
        self._levels: deque[float] = deque(maxlen=_FLOOR_FRAMES)

    def configure(self, session: dict[str, Any]) -> None:
        """Take the new session: turn detection settings now, vocabulary when needed."""
        self._session = session
        td = session["audio"]["input"].get("turn_detection")
        if isinstance(td, dict):
            speaking = self._tracker.speaking if self._tracker else False
            self._tracker = TurnTracker(td)
            self._tracker.speaking = speaking
        else:
            self._tracker = None
        if self._asr_ready:
            self._asr.configure(session)

    def _ensure_asr(self) -> SphinxRecognizer:
        if not self._asr_ready:
            assert self._session is not None
            self._asr.configure(self._session)
            self._asr_ready = True
        return self._asr

    def feed(self, pcm16_24k: bytes) -> list[ListenerEvent]:
        """Process appended audio; returns speech start/stop decisions in order."""
        if self._tracker is None:
            return []
        if self._vad is None:
            self._vad = SileroVad()
        self._pending.extend(self._resampler.process(pcm16_24k))
        out: list[ListenerEvent] = []
        tracker = self._tracker
        while len(self._pending) >= _FRAME_BYTES:
            frame = bytes(self._pending[:_FRAME_BYTES])
            del self._pending[:_FRAME_BYTES]
            self._frames_done += 1
            end_ms = self._frames_done * FRAME_MS
            self._ring.append((end_ms, frame))
            prob = self._vad(frame)
            rms = _rms(frame)
            self._levels.append(rms)
            if tracker.speaking and rms < _FLOOR_FACTOR * min(self._levels):
                # Silero's probability lingers ~100 ms after the voice ends; a frame back
                # at the noise floor is silence already, so the silence window starts now.
                prob = 0.0
            if tracker.speaking:
                self._ensure_asr().feed(frame)
            decision = tracker.update(prob, end_ms, self._partial)
            if isinstance(decision, _Start):
                asr = self._ensure_asr()
                asr.start()
                asr.feed(b"".join(f for e, f in self._ring if e - FRAME_MS >= decision.ms))
                self._speculative = None
                out.append(SpeechStarted(decision.ms))
            elif decision is not None:
                out.append(SpeechStopped(decision.ms, self._final_transcript()))
            elif tracker.speaking:
                self._maybe_speculate(tracker.quiet_ms)
        return out

    def _partial(self) -> str:
        return self._asr.partial()

    def _maybe_speculate(self, quiet_ms: int) -> None:
        """Decode during the pause, so end of speech costs nothing if the caller is done."""
        if quiet_ms == 0:
            self._speculative = None
        elif quiet_ms >= _SPECULATE_AFTER_MS and self._speculative is None:
            audio = self._asr.utterance()
            self._speculative = (len(audio), self._asr.decode(audio))

    def _final_transcript(self) -> str:
        speculative, self._speculative = self._speculative, None
        if speculative is not None:
            self._asr.cancel()  # the rest is the silence window: the words are known
            return speculative[1]
        return self._asr.finish()

    def transcribe(self, pcm16_24k: bytes) -> str:
        """Recognize a whole committed buffer (VAD off or audio items)."""
        if not pcm16_24k:
            return ""
        return self._ensure_asr().transcribe(resample_pcm16(pcm16_24k, 24000, 16000))

    def reset(self) -> None:
        """Forget speech in progress (input buffer cleared or committed by hand)."""
        if self._tracker is not None:
            self._tracker.reset()
        if self._asr_ready:
            self._asr.cancel()
