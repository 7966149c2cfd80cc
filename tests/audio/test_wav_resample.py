"""WAV reading converts what people have into the 24 kHz mono pcm16 the model wants."""

import io
import wave

import numpy as np

from agentgraph.audio import read_wav_pcm16, resample_pcm16, rms_dbfs, write_wav_pcm16
from agentgraph.audio.resample import StreamResampler


def _tone(rate_hz: int, seconds: float, freq_hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate_hz * seconds)) / rate_hz
    return (10000 * np.sin(2 * np.pi * freq_hz * t)).astype("<i2")


def test_stereo_44k_wav_becomes_mono_24k_of_same_duration(tmp_path) -> None:
    left = _tone(44100, 0.5)
    stereo = np.stack([left, left], axis=1).astype("<i2").tobytes()
    path = tmp_path / "stereo.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(stereo)
    pcm = read_wav_pcm16(path)
    assert abs(len(pcm) // 2 - 12000) <= 2  # 0.5 s at 24 kHz
    assert rms_dbfs(pcm) > -15  # still a loud tone, not mangled into silence


def test_write_then_read_round_trip() -> None:
    pcm = _tone(24000, 0.2).tobytes()
    buf = io.BytesIO()
    write_wav_pcm16(buf, pcm)
    buf.seek(0)
    assert read_wav_pcm16(buf) == pcm


def test_not_a_wav_is_a_value_error() -> None:
    try:
        read_wav_pcm16(io.BytesIO(b"RIFF nonsense"))
    except ValueError as exc:
        assert "not a PCM WAV" in str(exc)
    else:
        raise AssertionError("expected ValueError")


def test_stream_resampler_matches_length_of_whole_buffer() -> None:
    pcm = _tone(8000, 1.0).tobytes()
    stream = StreamResampler(8000, 24000)
    chunks = [stream.process(pcm[i : i + 320]) for i in range(0, len(pcm), 320)]
    chunks.append(stream.process(b"", last=True))
    streamed = b"".join(chunks)
    assert abs(len(streamed) - len(resample_pcm16(pcm, 8000, 24000))) <= 8
