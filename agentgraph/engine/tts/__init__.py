"""Speech synthesis for the embedded engine (espeak-ng through ctypes)."""

from agentgraph.engine.tts.espeak import (
    VOICES,
    EspeakSynthesizer,
    VoiceSpec,
    encode_pcm24,
    speakable,
    split_sentences,
)

__all__ = [
    "VOICES",
    "EspeakSynthesizer",
    "VoiceSpec",
    "encode_pcm24",
    "speakable",
    "split_sentences",
]
