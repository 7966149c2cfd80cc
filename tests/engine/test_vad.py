"""Turn detection on the audio timeline: server_vad timing, semantic_vad, idle timeout."""

from __future__ import annotations

import base64

import pytest

from agentgraph.engine.vad import FRAME_MS, TurnTracker, looks_unfinished

from .conftest import WireClient, stream
from .speech import caller_speech, noise


def run(tracker: TurnTracker, probs: list[float], partial: str = "") -> list[tuple[str, int]]:
    out = []
    for i, p in enumerate(probs):
        decision = tracker.update(p, (i + 1) * FRAME_MS, lambda: partial)
        if decision is not None:
            out.append((type(decision).__name__, decision.ms))
    return out


SPEECH = [0.0] * 20 + [0.9] * 30 + [0.0] * 200  # voice from 640 ms to 1600 ms


def test_server_vad_start_with_prefix_and_stop_after_silence() -> None:
    tracker = TurnTracker(
        {
            "type": "server_vad",
            "threshold": 0.5,
            "prefix_padding_ms": 300,
            "silence_duration_ms": 500,
        }
    )
    assert run(tracker, SPEECH) == [("_Start", 640 - 300), ("_Stop", 1600 + 512)]


def test_short_click_is_not_speech_and_threshold_matters() -> None:
    tracker = TurnTracker({"type": "server_vad", "threshold": 0.5})
    assert run(tracker, [0.0, 0.9, 0.0, 0.0]) == []
    strict = TurnTracker({"type": "server_vad", "threshold": 0.95})
    assert run(strict, SPEECH) == []


@pytest.mark.parametrize(
    ("eagerness", "finished_ms", "unfinished_ms"),
    [("high", 256, 1024), ("auto", 512, 2016), ("low", 928, 4000)],
)
def test_semantic_vad_waits_longer_after_an_unfinished_phrase(
    eagerness: str, finished_ms: int, unfinished_ms: int
) -> None:
    td = {"type": "semantic_vad", "eagerness": eagerness}
    done = run(TurnTracker(td), SPEECH, partial="what's the weather in paris")
    pending = run(TurnTracker(td), SPEECH, partial="i'd like to book a table and")
    assert done[1] == ("_Stop", 1600 + finished_ms)
    assert pending[1] == ("_Stop", 1600 + unfinished_ms)
    assert looks_unfinished("so um") and not looks_unfinished("book it")


async def test_idle_timeout_triggers_after_the_answer_has_played(
    voice_client: WireClient,
) -> None:
    await voice_client.send(
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "audio": {
                    "input": {
                        "turn_detection": {
                            "type": "server_vad",
                            "silence_duration_ms": 300,
                            "idle_timeout_ms": 400,
                        }
                    }
                },
            },
        }
    )
    await voice_client.until("session.updated")
    pcm, _, _ = caller_speech("Hello", voice="echo", tail_ms=500)
    await stream(voice_client, pcm)
    answer = await voice_client.until("response.done")
    played_ms = (
        sum(
            len(base64.b64decode(e["delta"]))
            for e in answer
            if e["type"] == "response.output_audio.delta"
        )
        / 48
    )
    assert played_ms > 1000
    # The caller stays quiet (noise only) and the server prompts them.
    await stream(voice_client, noise(200))
    events = await voice_client.until("input_audio_buffer.timeout_triggered")
    assert "input_audio_buffer.speech_started" not in [e["type"] for e in events]
    follow = await voice_client.until("response.done")
    said = next(e for e in follow if e["type"] == "response.output_audio_transcript.done")
    assert said["transcript"].startswith("Sorry, I didn't catch that")
