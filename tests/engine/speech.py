"""Caller speech for tests: the engine's own TTS in a caller voice, over a noise floor."""

from __future__ import annotations

import numpy as np

from agentgraph.engine.tts import EspeakSynthesizer

NOISE_RMS = 60.0  # about -55 dBFS: a quiet room, never digital silence


def noise(ms: int, *, seed: int = 0) -> bytes:
    """Background noise only (pcm16 24 kHz)."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(0, NOISE_RMS, 24 * ms), -32768, 32767).astype("<i2").tobytes()


def caller_speech(
    text: str, *, voice: str = "ash", lead_ms: int = 400, tail_ms: int = 1000, seed: int = 0
) -> tuple[bytes, int, int]:
    """(pcm16 24 kHz, speech start ms, speech end ms) for `text` with noise around it."""
    voiced = np.frombuffer(EspeakSynthesizer(voice).synthesize_pcm24(text), "<i2")
    samples = np.concatenate(
        [np.zeros(24 * lead_ms), voiced.astype(np.float64), np.zeros(24 * tail_ms)]
    )
    rng = np.random.default_rng(seed)
    samples = samples + rng.normal(0, NOISE_RMS, samples.size)
    pcm = np.clip(samples, -32768, 32767).astype("<i2").tobytes()
    return pcm, lead_ms, lead_ms + voiced.size // 24
