"""Speech recognition for the embedded engine: Whisper (default) or pocketsphinx.

Which recognizer a session uses: its `audio.input.transcription.model` when that names
one (`pocketsphinx`/`sphinx`, `whisper`), otherwise the engine's default (`recognizer=`
of `EmbeddedEngine`, `--recognizer` of `agentgraph engine serve`). Whisper generalises to
voices and words nobody wrote down; pocketsphinx with the session vocabulary is several
times cheaper, for phone capacity.
"""

from __future__ import annotations

from typing import Any, Protocol

from agentgraph.engine.asr.sphinx import SphinxRecognizer, pronunciations
from agentgraph.engine.asr.vocabulary import session_sentences, session_text
from agentgraph.errors import UsageError

__all__ = [
    "RECOGNIZERS",
    "Recognizer",
    "SphinxRecognizer",
    "make_recognizer",
    "pronunciations",
    "recognizer_for",
    "session_sentences",
    "session_text",
]

RECOGNIZERS = ("auto", "whisper", "sphinx")
#: `auto`: Whisper for wideband audio (microphone, WAV, browser), where it is the more
#: accurate; the session-vocabulary recognizer for telephone audio (G.711, 8 kHz), where
#: tiny.en mishears and its decode time caps how many calls one machine answers.
DEFAULT_RECOGNIZER = "auto"
_PHONE_FORMATS = ("audio/pcmu", "audio/pcma")


class Recognizer(Protocol):
    """One session's recognizer: configured from the session, decodes 16 kHz pcm16."""

    def configure(self, session: dict[str, Any]) -> None: ...
    def decode(self, pcm16k: bytes) -> str: ...


def check_recognizer(name: str) -> str:
    """`name` if it is a known recognizer, else a usage error listing them."""
    if name not in RECOGNIZERS:
        raise UsageError(f"unknown recognizer {name!r}: use {' or '.join(RECOGNIZERS)}")
    return name


def recognizer_for(session: dict[str, Any], default: str = DEFAULT_RECOGNIZER) -> str:
    """The recognizer a session asks for through its transcription model, else `default`."""
    audio = session.get("audio") if isinstance(session.get("audio"), dict) else {}
    transcription = (audio.get("input") or {}).get("transcription") if audio else None
    model = str((transcription or {}).get("model") or "").lower()
    if "sphinx" in model:
        return "sphinx"
    if "whisper" in model:
        return "whisper"
    if default != "auto":
        return default
    fmt = ((audio.get("input") or {}).get("format") or {}) if audio else {}
    return "sphinx" if isinstance(fmt, dict) and fmt.get("type") in _PHONE_FORMATS else "whisper"


def make_recognizer(kind: str) -> Recognizer:
    """A fresh, unconfigured recognizer of `kind` (`whisper` or `sphinx`)."""
    if check_recognizer(kind) == "sphinx":
        return SphinxRecognizer()
    from agentgraph.engine.asr.whisper import WhisperRecognizer

    return WhisperRecognizer()
