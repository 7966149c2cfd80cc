"""Output sides: the paced WAV player and the speaker's jitter-buffered queue."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np

from agentgraph.audio import AudioFormat
from agentgraph.transports.local import _Output
from agentgraph.transports.scripted import FilePlayer


class Tracker:
    def __init__(self) -> None:
        self.played_bytes = 0
        self.interrupted = 0

    def on_play_bytes(self, item_id: str, content_index: int, data: bytes) -> None:
        self.played_bytes += len(data)

    def on_play_ms(self, item_id: str, content_index: int, ms: float) -> None:
        raise AssertionError

    def on_interrupted(self) -> None:
        self.interrupted += 1


def tone_ms(ms: int) -> bytes:
    return np.full(ms * 24, 9000, dtype="<i2").tobytes()


async def test_real_time_player_is_paced_and_stops_on_interrupt(tmp_path: Path) -> None:
    tracker = Tracker()
    player = FilePlayer(tmp_path / "out.wav", tracker=tracker)
    player.start()
    loop = asyncio.get_running_loop()
    started = loop.time()
    player.push("item_1", 0, tone_ms(2000))
    await asyncio.sleep(0.3)
    player.interrupt()
    await player.drain()
    elapsed = loop.time() - started
    await player.close()
    # paced: ~300 ms were played in ~300 ms, not 2 s at once; then the fade, then nothing
    assert 0.2 <= player.written_ms / 1000 <= 0.45, player.written_ms
    assert elapsed < 0.6
    assert tracker.played_bytes == int(player.written_ms * 48)
    assert tracker.interrupted == 1
    with wave.open(str(tmp_path / "out.wav")) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert samples.size == player.written_ms * 24
    assert abs(int(samples[-1])) < 200  # faded out, no click


async def test_fast_player_writes_as_audio_arrives(tmp_path: Path) -> None:
    player = FilePlayer(tmp_path / "out.wav", fast=True)
    player.start()
    player.push("a", 0, tone_ms(1500))
    assert player.written_ms == 1500
    await player.drain()
    await player.close()
    with wave.open(str(tmp_path / "out.wav")) as wav:
        assert wav.getnframes() == 1500 * 24 and wav.getframerate() == 24000


async def test_g711_player_writes_pcm16_wav(tmp_path: Path) -> None:
    from agentgraph.audio import pcm16_to_ulaw, resample_pcm16

    ulaw = pcm16_to_ulaw(resample_pcm16(tone_ms(200), 24000, 8000))
    player = FilePlayer(tmp_path / "out.wav", audio_format=AudioFormat.G711_ULAW, fast=True)
    player.push("a", 0, ulaw)
    await player.close()
    with wave.open(str(tmp_path / "out.wav")) as wav:
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert abs(samples.size - 200 * 24) <= 48
    assert 8000 < np.median(samples) < 10000


def test_speaker_queue_waits_for_the_jitter_buffer_then_plays() -> None:
    out = _Output(jitter_ms=60, fade_ms=5)
    block = 480  # 10 ms output callback
    out.push("a", 0, tone_ms(40))
    assert out.pull(block) == (b"", [])  # 40 ms < 60 ms: still buffering
    out.push("a", 0, tone_ms(40))
    audio, chunks = out.pull(block)
    assert len(audio) == block and chunks[0].item_id == "a"


def test_short_complete_reply_plays_without_reaching_the_jitter_target() -> None:
    out = _Output(jitter_ms=60, fade_ms=5)
    out.push("a", 0, tone_ms(20))
    assert out.pull(480) == (b"", [])
    out.complete()  # audio_done: nothing more is coming, play what there is
    audio, _ = out.pull(480)
    assert len(audio) == 480


def test_interrupt_silences_the_next_callback() -> None:
    out = _Output(jitter_ms=60, fade_ms=5)
    out.push("a", 0, tone_ms(1000))
    out.pull(480)
    out.interrupt()
    # the next 10 ms callback carries only the 5 ms fade, then silence
    audio, _ = out.pull(480)
    assert len(audio) == 240
    samples = np.frombuffer(audio, dtype="<i2")
    assert samples[0] > 8000 and abs(int(samples[-1])) < 200
    assert out.pull(480) == (b"", [])
    assert out.idle
