"""Speech synthesis: real espeak-ng audio, per-voice differences, formats, sentence streaming."""

from __future__ import annotations

import numpy as np

from agentgraph.audio import AudioFormat, rms_dbfs, ulaw_to_pcm16
from agentgraph.engine.tts import VOICES, EspeakSynthesizer, speakable, split_sentences


def test_synthesizes_audible_24k_speech_of_plausible_length() -> None:
    pcm = EspeakSynthesizer("marin").synthesize_pcm24("The weather in Tokyo is sunny.")
    duration_ms = len(pcm) / 48
    assert 1000 < duration_ms < 4000
    assert rms_dbfs(pcm) > -35


def test_voices_sound_different() -> None:
    text = "Hello, how can I help you today?"
    marin = np.frombuffer(EspeakSynthesizer("marin").synthesize_pcm24(text), "<i2")
    ash = np.frombuffer(EspeakSynthesizer("ash").synthesize_pcm24(text), "<i2")
    assert len({v.name for v in VOICES.values()}) == len(VOICES)
    n = min(marin.size, ash.size)

    # Different variants: not the same samples, and a clearly different spectrum centroid.
    def centroid(x: np.ndarray) -> float:
        spec = np.abs(np.fft.rfft(x[:n].astype(np.float64)))
        return float((spec * np.arange(spec.size)).sum() / spec.sum())

    assert abs(centroid(marin) - centroid(ash)) / centroid(ash) > 0.05


def test_speed_changes_duration() -> None:
    text = "One two three four five six seven."
    normal = EspeakSynthesizer("coral").synthesize_pcm24(text)
    fast = EspeakSynthesizer("coral", speed=1.5).synthesize_pcm24(text)
    assert len(fast) < 0.8 * len(normal)


def test_g711_output_is_8k_and_decodes_to_speech() -> None:
    synth = EspeakSynthesizer("echo")
    pcm = synth.synthesize("Good morning.", AudioFormat.PCM16)
    ulaw = synth.synthesize("Good morning.", AudioFormat.G711_ULAW)
    assert abs(len(ulaw) / 8 - len(pcm) / 48) < 5  # same duration in ms
    assert rms_dbfs(ulaw_to_pcm16(ulaw)) > -35


def test_stream_yields_one_chunk_per_sentence() -> None:
    text = "It is sunny. It is warm! Anything else?"
    assert split_sentences(text) == ["It is sunny.", "It is warm!", "Anything else?"]
    parts = list(EspeakSynthesizer("sage").stream(text))
    assert [s for s, _ in parts] == split_sentences(text)
    assert all(len(a) > 48 * 300 for _, a in parts)


def test_empty_text_gives_no_audio() -> None:
    assert EspeakSynthesizer("marin").synthesize_pcm24("  ") == b""


def test_dates_and_times_are_read_as_words() -> None:
    assert speakable("Book 2026-11-29 at 08:00?") == "Book November 29th at 8 AM?"
    assert speakable("at 15:30 or 12:00 on 2026-12-02") == ("at 3 30 PM or noon on December 2nd")
    assert speakable("ratio 3:1 and 2026-13-40") == "ratio 3:1 and 2026-13-40"
    # the synthesizer speaks the words (same duration as saying "8 AM", within 20 ms)
    synth = EspeakSynthesizer("marin")
    clock, words = synth.synthesize_pcm24("08:00"), synth.synthesize_pcm24("8 AM")
    assert abs(len(clock) - len(words)) < 48 * 20
