"""Caller speech for tests: espeak-ng (a Debian package CI installs) with a noise floor."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np


def speak(text: str, path: Path, *, voice: str = "en-us", rate_wpm: int = 150) -> Path:
    """Write `text` as speech to `path` (22.05 kHz mono 16-bit, espeak-ng's own format)."""
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(rate_wpm), "-w", str(path), text],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return path


def add_noise_floor(path: Path, *, level: float = 40.0, seed: int = 3) -> None:
    """Add a quiet noise floor in place (a real line is never digitally silent)."""
    with wave.open(str(path)) as wav:
        params = wav.getparams()
        samples = np.frombuffer(wav.readframes(params.nframes), dtype="<i2").astype(np.float64)
    noise = np.random.default_rng(seed).normal(0, level, samples.size)
    mixed = np.clip(samples + noise, -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setparams(params)
        out.writeframes(mixed.tobytes())


def reencode(source: Path, target: Path, *, rate_hz: int, width: int, channels: int) -> Path:
    """Re-encode a WAV at another rate, sample width (1-4 bytes) and channel count."""
    from agentgraph.audio import read_wav_pcm16

    pcm = np.frombuffer(read_wav_pcm16(source, rate_hz=rate_hz), dtype="<i2").astype(np.int32)
    if width == 1:
        raw = ((pcm >> 8) + 128).astype(np.uint8)
    elif width == 2:
        raw = pcm.astype("<i2")
    elif width == 3:
        wide = (pcm << 8).astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3]
        raw = wide.reshape(-1)
    else:
        raw = (pcm << 16).astype("<i4")
    frames = np.repeat(raw.reshape(pcm.size, -1), channels, axis=0).reshape(-1)
    with wave.open(str(target), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate_hz)
        out.writeframes(frames.tobytes())
    return target
