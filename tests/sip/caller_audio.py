"""Caller requests as telephone audio, spoken by the engine's own TTS (no downloads)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from agentgraph.audio import pcm16_to_ulaw, resample_pcm16, write_wav_pcm16


def caller_pcm8k(text: str, *, lead_ms: int = 400, tail_ms: int = 1500) -> bytes:
    """`text` spoken in a caller voice, 8 kHz pcm16, with a quiet noise floor around it."""
    from agentgraph.engine.tts import EspeakSynthesizer

    voiced = np.frombuffer(EspeakSynthesizer("ash").synthesize_pcm24(text), "<i2")
    samples = np.concatenate(
        [np.zeros(24 * lead_ms), voiced.astype(np.float64), np.zeros(24 * tail_ms)]
    )
    samples += np.random.default_rng(0).normal(0, 60.0, samples.size)
    pcm24 = np.clip(samples, -32768, 32767).astype("<i2").tobytes()
    return resample_pcm16(pcm24, 24000, 8000)


def write_ulaw(path: Path, text: str) -> Path:
    """A raw u-law file for SIPp's `rtp_stream` action."""
    path.write_bytes(pcm16_to_ulaw(caller_pcm8k(text)))
    return path


def write_wav(path: Path, text: str) -> Path:
    """An 8 kHz WAV for baresip's `aufile` source."""
    write_wav_pcm16(path, caller_pcm8k(text), rate_hz=8000)
    return path
