"""Voice input for one session: VAD frames, turn decisions and recognition.

`SpeechListener` implements the server core's `Listener`: the core hands it every append
as 24 kHz pcm16; it resamples to 16 kHz (soxr stream), cuts 32 ms frames, asks Silero
for a speech probability (frames at the noise floor skip Silero and count as silence at
once), lets `TurnTracker` decide start/stop, and collects the speech (with the prefix
padding kept in a short ring of recent frames). When the caller pauses for ~100 ms it
starts decoding speculatively; if the pause becomes the end of the turn, that result is
the transcript, so the decoding is hidden inside the silence window. Decoding runs in
this process or, with a `DecoderPool`, in worker processes so sessions use every core.
Models load with the first audio, so a text-only session never pays for them.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections import deque
from typing import Any

import numpy as np

from agentgraph.audio.resample import StreamResampler, resample_pcm16
from agentgraph.engine.asr import DEFAULT_RECOGNIZER, Recognizer, make_recognizer, recognizer_for
from agentgraph.engine.asr.pool import DecoderPool
from agentgraph.engine.asr.sphinx import MAX_UTTERANCE_BYTES
from agentgraph.engine.protocol import ListenerEvent, SpeechStarted, SpeechStopped
from agentgraph.engine.vad import FRAME_MS, FRAME_SAMPLES, SileroVad, TurnTracker, _Start

__all__ = ["SpeechListener"]

_FRAME_BYTES = FRAME_SAMPLES * 2
_RING_FRAMES = 40  # 1.28 s of recent audio for prefix padding
_SPECULATE_AFTER_MS = 3 * FRAME_MS
_FLOOR_FRAMES = 94  # the noise floor is the quietest frame of the last ~3 s
_FLOOR_FACTOR = 2.5
_DECODE_TIMEOUT_S = 30.0
_MIN_SPEECH_FRAMES = 4  # a committed buffer with less speech than this is not decoded


def _rms(frame: bytes) -> float:
    samples = np.frombuffer(frame, dtype="<i2").astype(np.float32)
    return float(np.sqrt(np.mean(samples * samples))) + 1.0


class SpeechListener:
    """VAD + ASR over one session's input audio.

    Args:
        pool: decode in these worker processes; None decodes in this process.
        recognizer: `auto`, `whisper` or `sphinx`, unless the session's transcription
            model names one (`asr.recognizer_for`).
    """

    def __init__(
        self, pool: DecoderPool | None = None, recognizer: str = DEFAULT_RECOGNIZER
    ) -> None:
        self._pool = pool
        self._default = recognizer
        self._kind = recognizer
        self._session: dict[str, Any] | None = None
        self._tracker: TurnTracker | None = None
        self._vad: SileroVad | None = None
        self._asr: Recognizer | None = None
        self._gate: SileroVad | None = None
        self._quick: Recognizer | None = None
        self._resampler = StreamResampler(24000, 16000)
        self._pending = bytearray()
        self._frames_done = 0
        self._ring: deque[tuple[int, bytes]] = deque(maxlen=_RING_FRAMES)
        self._utterance = bytearray()
        self._speculative: cf.Future[str] | None = None
        self._levels: deque[float] = deque(maxlen=_FLOOR_FRAMES)

    def configure(self, session: dict[str, Any]) -> None:
        """Take the new session: turn detection now, vocabulary with the next decode."""
        self._session = session
        kind = recognizer_for(session, self._default)
        if kind != self._kind:
            self._kind, self._asr = kind, None
        td = session["audio"]["input"].get("turn_detection")
        if isinstance(td, dict):
            speaking = self._tracker.speaking if self._tracker else False
            self._tracker = TurnTracker(td)
            self._tracker.speaking = speaking
        else:
            self._tracker = None
        if self._asr is not None:
            self._asr.configure(session)
        if self._quick is not None:
            self._quick.configure(session)

    def _local(self) -> Recognizer:
        assert self._session is not None
        if self._asr is None:
            self._asr = make_recognizer(self._kind)
            self._asr.configure(self._session)
        return self._asr

    def _decode(self, pcm16k: bytes, kind: str | None = None) -> cf.Future[str]:
        assert self._session is not None
        kind = kind or self._kind
        if self._pool is not None:
            return self._pool.submit(self._session, pcm16k, kind)
        done: cf.Future[str] = cf.Future()
        if kind == self._kind:
            done.set_result(self._local().decode(pcm16k))
            return done
        if self._quick is None:
            self._quick = make_recognizer(kind)
            self._quick.configure(self._session)
        done.set_result(self._quick.decode(pcm16k))
        return done

    def feed(self, pcm16_24k: bytes) -> list[ListenerEvent]:
        """Process appended audio; returns speech start/stop decisions in order."""
        if self._tracker is None:
            return []
        if self._vad is None:
            # Load the models with the first audio, before anyone speaks (~100 ms once).
            self._vad = SileroVad()
            if self._pool is None:
                self._local()
        self._pending.extend(self._resampler.process(pcm16_24k))
        out: list[ListenerEvent] = []
        tracker = self._tracker
        while len(self._pending) >= _FRAME_BYTES:
            frame = bytes(self._pending[:_FRAME_BYTES])
            del self._pending[:_FRAME_BYTES]
            self._frames_done += 1
            end_ms = self._frames_done * FRAME_MS
            self._ring.append((end_ms, frame))
            rms = _rms(frame)
            self._levels.append(rms)
            if rms < _FLOOR_FACTOR * min(self._levels) and len(self._levels) > 3:
                # A frame at the noise floor is silence: skip Silero (1.6 ms a frame), and
                # while speaking it starts the silence window at once (Silero's probability
                # lingers ~100 ms after the voice ends).
                prob = 0.0
            else:
                prob = self._vad(frame)
            if tracker.speaking and len(self._utterance) < MAX_UTTERANCE_BYTES:
                self._utterance.extend(frame)
            decision = tracker.update(prob, end_ms, self._partial)
            if isinstance(decision, _Start):
                self._utterance = bytearray(
                    b"".join(f for e, f in self._ring if e - FRAME_MS >= decision.ms)
                )
                self._speculative = None
                out.append(SpeechStarted(decision.ms))
            elif decision is not None:
                out.append(SpeechStopped(decision.ms, self._final_transcript()))
            elif tracker.speaking:
                self._maybe_speculate(tracker.quiet_ms)
        return out

    def _partial(self) -> str:
        # Only "does this look finished?" (semantic VAD): the session-vocabulary
        # recognizer is several times faster and keeps a trailing "and" Whisper drops.
        return self._decode(bytes(self._utterance), "sphinx").result(_DECODE_TIMEOUT_S)

    def _maybe_speculate(self, quiet_ms: int) -> None:
        """Decode during the pause, so end of speech costs nothing if the caller is done."""
        if quiet_ms == 0:
            self._speculative = None
        elif quiet_ms >= _SPECULATE_AFTER_MS and self._speculative is None:
            self._speculative = self._decode(bytes(self._utterance))

    def _final_transcript(self) -> str:
        pending, self._speculative = self._speculative, None
        if pending is None:  # the rest of the silence window adds no words
            pending = self._decode(bytes(self._utterance))
        self._utterance.clear()
        try:
            return pending.result(_DECODE_TIMEOUT_S).strip()
        except (cf.TimeoutError, cf.CancelledError, OSError, RuntimeError):
            return ""

    def transcribe(self, pcm16_24k: bytes) -> str:
        """Recognize a whole committed buffer (VAD off or audio items)."""
        if not pcm16_24k or self._session is None:
            return ""
        pcm16k = resample_pcm16(pcm16_24k, 24000, 16000)
        if not self._has_speech(pcm16k):
            return ""  # Whisper invents words on noise: decode only what the VAD calls speech
        try:
            return self._decode(pcm16k).result(_DECODE_TIMEOUT_S).strip()
        except (cf.TimeoutError, cf.CancelledError, OSError, RuntimeError):
            return ""

    def _has_speech(self, pcm16k: bytes) -> bool:
        if self._gate is None:
            self._gate = SileroVad()
        vad = self._gate
        vad.reset()  # this buffer is not part of the live stream
        frames = len(pcm16k) // _FRAME_BYTES
        voiced = 0
        for i in range(frames):
            if vad(pcm16k[i * _FRAME_BYTES : (i + 1) * _FRAME_BYTES]) >= 0.5:
                voiced += 1
                if voiced >= _MIN_SPEECH_FRAMES:
                    return True
        return False

    def reset(self) -> None:
        """Forget speech in progress (input buffer cleared or committed by hand)."""
        if self._tracker is not None:
            self._tracker.reset()
        self._utterance.clear()
        self._speculative = None
