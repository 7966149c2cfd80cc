"""The YAML language, the Python API and the engine accept the same voices."""

from __future__ import annotations

from typing import get_args

from agentgraph.engine.session_config import VOICE_NAMES
from agentgraph.protocol import voices
from agentgraph.realtime import config
from agentgraph.spec import models


def test_every_front_end_takes_the_same_voices() -> None:
    assert models.GA_VOICES == voices.GA_VOICES == config.GA_VOICES
    assert models.VOICES == voices.VOICES == config.VOICES == VOICE_NAMES
    assert get_args(models.Voice) == voices.VOICES
    assert set(voices.SEED_ONLY_VOICES) == {"fable", "onyx", "nova"}
