"""Which recognizer a session gets: the graph's transcription model, else by the audio."""

from __future__ import annotations

from typing import Any

import pytest

from agentgraph.engine.asr import recognizer_for
from agentgraph.errors import UsageError


def session(fmt: str, model: str | None = None) -> dict[str, Any]:
    audio_in: dict[str, Any] = {"format": {"type": fmt}}
    if model is not None:
        audio_in["transcription"] = {"model": model}
    return {"type": "realtime", "audio": {"input": audio_in}}


def test_phone_audio_gets_the_session_vocabulary_recognizer_by_default() -> None:
    # tiny.en mishears 8 kHz G.711 ("what's the weather info, kid?" for Tokyo)
    assert recognizer_for(session("audio/pcmu")) == "sphinx"
    assert recognizer_for(session("audio/pcma")) == "sphinx"
    assert recognizer_for(session("audio/pcm")) == "whisper"


def test_the_graph_or_the_engine_option_decides_over_the_audio() -> None:
    assert recognizer_for(session("audio/pcmu", "whisper-1")) == "whisper"
    assert recognizer_for(session("audio/pcm", "pocketsphinx")) == "sphinx"
    assert recognizer_for(session("audio/pcmu"), "whisper") == "whisper"
    assert recognizer_for(session("audio/pcm"), "sphinx") == "sphinx"


def test_an_unknown_recognizer_is_a_usage_error() -> None:
    from agentgraph.engine.asr import check_recognizer

    with pytest.raises(UsageError, match="auto or whisper or sphinx"):
        check_recognizer("kaldi")
