"""Audio helpers: codecs, resampling, levels and WAV files. Pure functions, no I/O here
except the WAV helpers, which take paths or file objects."""

from agentgraph.audio.formats import (
    AudioFormat,
    bytes_to_ms,
    ms_to_bytes,
)
from agentgraph.audio.g711 import alaw_to_pcm16, pcm16_to_alaw, pcm16_to_ulaw, ulaw_to_pcm16
from agentgraph.audio.levels import rms_dbfs
from agentgraph.audio.resample import resample_pcm16
from agentgraph.audio.wav import read_wav_pcm16, write_wav_pcm16

__all__ = [
    "AudioFormat",
    "alaw_to_pcm16",
    "bytes_to_ms",
    "ms_to_bytes",
    "pcm16_to_alaw",
    "pcm16_to_ulaw",
    "read_wav_pcm16",
    "resample_pcm16",
    "rms_dbfs",
    "ulaw_to_pcm16",
    "write_wav_pcm16",
]
