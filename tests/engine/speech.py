"""Caller speech for tests: the engine's own TTS in a caller voice, over a noise floor.

libespeak-ng's output depends slightly on what it synthesized before in the same process
(state it keeps between utterances), and a recognizer is sensitive to that. So each caller
utterance is synthesized in a fresh interpreter: the same text, voice and seed always give
the same audio, whatever ran before.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]

_SYNTH = (
    "import sys; from agentgraph.engine.tts import EspeakSynthesizer as E; "
    "sys.stdout.buffer.write(E(sys.argv[1]).synthesize_pcm24(sys.argv[2]))"
)


@functools.cache
def fresh_tts(text: str, voice: str) -> bytes:
    """24 kHz pcm16 of `text` from a fresh espeak-ng (reproducible)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", _SYNTH, voice, text],
        capture_output=True,
        check=True,
        timeout=60,
        env=env,
    )
    return done.stdout


def plain(transcript: str) -> str:
    """A transcript without case and punctuation ("What's up?" -> "what's up")."""
    return " ".join(re.findall(r"[a-z0-9]+(?:'[a-z]+)?", transcript.lower()))


NOISE_RMS = 60.0  # about -55 dBFS: a quiet room, never digital silence


def noise(ms: int, *, seed: int = 0) -> bytes:
    """Background noise only (pcm16 24 kHz)."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(0, NOISE_RMS, 24 * ms), -32768, 32767).astype("<i2").tobytes()


def caller_speech(
    text: str, *, voice: str = "ash", lead_ms: int = 400, tail_ms: int = 1000, seed: int = 0
) -> tuple[bytes, int, int]:
    """(pcm16 24 kHz, speech start ms, speech end ms) for `text` with noise around it."""
    voiced = np.frombuffer(fresh_tts(text, voice), "<i2")
    samples = np.concatenate(
        [np.zeros(24 * lead_ms), voiced.astype(np.float64), np.zeros(24 * tail_ms)]
    )
    rng = np.random.default_rng(seed)
    samples = samples + rng.normal(0, NOISE_RMS, samples.size)
    pcm = np.clip(samples, -32768, 32767).astype("<i2").tobytes()
    return pcm, lead_ms, lead_ms + voiced.size // 24
