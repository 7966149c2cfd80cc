"""PlayoutBuffer: the output queue every audio transport shares."""

from __future__ import annotations

import numpy as np

from agentgraph.audio import AudioFormat
from agentgraph.transports.base import PlayoutBuffer


class RecordingTracker:
    def __init__(self) -> None:
        self.played: list[tuple[str, int, int]] = []
        self.interrupted = 0

    def on_play_bytes(self, item_id: str, content_index: int, data: bytes) -> None:
        self.played.append((item_id, content_index, len(data)))

    def on_play_ms(self, item_id: str, content_index: int, ms: float) -> None:
        raise AssertionError("PlayoutBuffer reports bytes")

    def on_interrupted(self) -> None:
        self.interrupted += 1


def tone(ms: int, amplitude: int = 10000) -> bytes:
    n = ms * 24
    return (np.full(n, amplitude, dtype="<i2")).tobytes()


def test_pull_pads_with_silence_and_reports_per_item() -> None:
    tracker = RecordingTracker()
    buf = PlayoutBuffer(tracker=tracker)
    buf.push("item_a", 0, tone(10))
    buf.push("item_b", 0, tone(5))
    block = buf.pull(960)  # 20 ms
    assert len(block) == 960
    assert tracker.played == [("item_a", 0, 480), ("item_b", 0, 240)]
    assert block[720:] == b"\x00" * 240
    assert buf.buffered_bytes == 0
    assert buf.pull(96) == b"\x00" * 96
    assert tracker.played == [("item_a", 0, 480), ("item_b", 0, 240)]


def test_consecutive_deltas_of_one_item_merge() -> None:
    buf = PlayoutBuffer()
    for _ in range(5):
        buf.push("item_a", 0, tone(20))
    assert buf.buffered_ms == 100
    assert buf.current_item == ("item_a", 0)
    audio, chunks = buf.pull_chunks(48 * 30)
    assert len(audio) == 48 * 30
    assert [(c.item_id, c.num_bytes) for c in chunks] == [("item_a", 48 * 30)]


def test_interrupt_fades_then_drops_the_rest() -> None:
    tracker = RecordingTracker()
    buf = PlayoutBuffer(tracker=tracker)
    buf.push("item_a", 0, tone(500))
    dropped = buf.interrupt(fade_ms=5)
    assert tracker.interrupted == 1
    assert buf.buffered_ms == 5
    assert dropped == 495 * 48
    faded = np.frombuffer(buf.pull(5 * 48), dtype="<i2")
    assert faded[0] > 9000 and abs(int(faded[-1])) < 100
    assert np.all(np.diff(faded.astype(np.int32)) <= 0)
    # nothing more plays after the fade
    assert buf.pull(960) == b"\x00" * 960


def test_g711_interrupt_stops_at_once_and_pads_with_codec_silence() -> None:
    buf = PlayoutBuffer(AudioFormat.G711_ULAW)
    buf.push("item_a", 0, b"\x10" * 800)
    buf.interrupt()
    assert buf.buffered_bytes == 0
    assert buf.pull(160) == b"\xff" * 160


def test_queue_limit_drops_oldest_audio() -> None:
    buf = PlayoutBuffer(max_ms=100)
    buf.push("old", 0, tone(80))
    buf.push("new", 0, tone(80))
    assert buf.buffered_ms == 100
    _, chunks = buf.pull_chunks(48 * 100)
    assert [(c.item_id, c.num_bytes) for c in chunks] == [("old", 48 * 20), ("new", 48 * 80)]
