"""Speech synthesis with espeak-ng, loaded from the `espeakng-loader` wheel through ctypes.

Theory of operation: libespeak-ng is a process-wide singleton (one voice, one callback),
so one `_EspeakLibrary` is created lazily and every synthesis holds its lock. We run it in
synchronous mode: `espeak_ng_Synthesize` calls our callback with 22.05 kHz int16 chunks
and returns when the text is spoken; the chunks are joined and resampled with soxr to the
session's output rate. Text is split into sentences first, so a caller can send the first
sentence's audio while later sentences are still being synthesized.

OpenAI voice names map to distinct espeak-ng variants (and pitch), so two voices in one
test sound different enough for the recognizer and for a person.
"""

from __future__ import annotations

import ctypes
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from agentgraph.audio import AudioFormat, pcm16_to_alaw, pcm16_to_ulaw, resample_pcm16
from agentgraph.errors import UsageError

__all__ = [
    "VOICES",
    "EspeakSynthesizer",
    "VoiceSpec",
    "encode_pcm24",
    "speakable",
    "split_sentences",
]

# espeak-ng constants (speak_lib.h / espeak_ng.h).
_OUTPUT_MODE_SYNCHRONOUS = 0x0001
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_PARAM_RATE = 1
_PARAM_PITCH = 3
_DEFAULT_RATE_WPM = 175
_STATUS_OK = 0

_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


@dataclass(frozen=True, slots=True)
class VoiceSpec:
    """An espeak-ng voice for one OpenAI voice name: `voice+variant` and a pitch 0-100."""

    name: str
    pitch: int


# The ten GA voices (realtime-protocol.md §2.1) -> distinct espeak-ng variants.
VOICES: dict[str, VoiceSpec] = {
    "alloy": VoiceSpec("en-us+m3", 50),
    "ash": VoiceSpec("en-us+m1", 40),
    "ballad": VoiceSpec("en+m4", 45),
    "coral": VoiceSpec("en-us+f3", 60),
    "echo": VoiceSpec("en-us+m2", 35),
    "sage": VoiceSpec("en+f4", 55),
    "shimmer": VoiceSpec("en-us+f5", 65),
    "verse": VoiceSpec("en+m6", 50),
    "marin": VoiceSpec("en-us+f1", 58),
    "cedar": VoiceSpec("en-us+m7", 42),
    # Voices of the seed document (earlier OpenAI TTS) that the engine accepts as well.
    "fable": VoiceSpec("en-gb-x-rp+m5", 48),
    "onyx": VoiceSpec("en-us+m4", 32),
    "nova": VoiceSpec("en-us+f2", 62),
}

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_CLOCK = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_ORDINAL_SUFFIX = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}


def speakable(text: str) -> str:
    """Text as it should be read aloud: ISO dates and 24-hour times in words.

    Tool arguments and outputs carry "2026-11-29" and "15:30"; espeak-ng would read the
    digits one group at a time. The transcript keeps the original text.
    """

    def date(m: re.Match[str]) -> str:
        month, day = int(m.group(2)), int(m.group(3))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return m.group(0)
        return f"{_MONTHS[month - 1]} {day}{_ORDINAL_SUFFIX.get(day, 'th')}"

    def clock(m: re.Match[str]) -> str:
        hour, minute = int(m.group(1)), int(m.group(2))
        suffix = "AM" if hour < 12 else "PM"
        hour12 = hour % 12 or 12
        if hour == 12 and minute == 0:
            return "noon"
        return f"{hour12} {suffix}" if minute == 0 else f"{hour12} {minute:02d} {suffix}"

    return _CLOCK.sub(clock, _ISO_DATE.sub(date, text))


def split_sentences(text: str) -> list[str]:
    """Split text at sentence ends, so each piece can be synthesized and sent on its own."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def encode_pcm24(pcm24: bytes, fmt: AudioFormat) -> bytes:
    """Convert 24 kHz pcm16 to the session's output format (pcm16, or G.711 at 8 kHz)."""
    if fmt is AudioFormat.PCM16:
        return pcm24
    pcm8 = resample_pcm16(pcm24, 24000, 8000)
    return pcm16_to_ulaw(pcm8) if fmt is AudioFormat.G711_ULAW else pcm16_to_alaw(pcm8)


class _EspeakLibrary:
    """The process-wide libespeak-ng, initialised once in synchronous mode."""

    _instance: _EspeakLibrary | None = None
    _create_lock = threading.Lock()

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:  # pragma: no cover - the engine extra brings it
            raise UsageError(
                "speech synthesis needs espeakng-loader: pip install 'agentgraph[engine]'"
            ) from exc
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib = self.lib
        lib.espeak_ng_InitializePath.argtypes = [ctypes.c_char_p]
        lib.espeak_ng_InitializePath.restype = None
        lib.espeak_ng_Initialize.argtypes = [ctypes.c_void_p]
        lib.espeak_ng_Initialize.restype = ctypes.c_int
        lib.espeak_ng_InitializeOutput.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p]
        lib.espeak_ng_InitializeOutput.restype = ctypes.c_int
        lib.espeak_ng_GetSampleRate.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_ng_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_ng_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_ng_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_ng_SetParameter.restype = ctypes.c_int
        lib.espeak_ng_Synthesize.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.POINTER(ctypes.c_uint),
            ctypes.c_void_p,
        ]
        lib.espeak_ng_Synthesize.restype = ctypes.c_int
        lib.espeak_ng_Synchronize.restype = ctypes.c_int
        lib.espeak_ng_InitializePath(espeakng_loader.get_data_path().encode())
        if lib.espeak_ng_Initialize(None) != _STATUS_OK:
            raise UsageError("espeak-ng failed to initialise (data path missing?)")
        if lib.espeak_ng_InitializeOutput(_OUTPUT_MODE_SYNCHRONOUS, 0, None) != _STATUS_OK:
            raise UsageError("espeak-ng failed to open its synchronous output")
        self.sample_rate_hz = int(lib.espeak_ng_GetSampleRate())
        self.lock = threading.Lock()
        self._chunks: list[bytes] = []
        # Keep a reference: ctypes callbacks are freed when the Python object dies.
        self._callback = _SynthCallback(self._on_audio)
        lib.espeak_SetSynthCallback(self._callback)
        self._voice: tuple[str, int, int] | None = None

    @classmethod
    def get(cls) -> _EspeakLibrary:
        with cls._create_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _on_audio(
        self, wav: ctypes._Pointer[ctypes.c_short] | None, num_samples: int, _events: int | None
    ) -> int:
        if wav and num_samples > 0:
            self._chunks.append(ctypes.string_at(wav, num_samples * 2))
        return 0  # 0 = continue synthesis

    def synthesize(self, text: str, voice: VoiceSpec, rate_wpm: int) -> bytes:
        """Speak `text` with `voice`; returns native-rate pcm16. Call with `lock` held."""
        key = (voice.name, voice.pitch, rate_wpm)
        if self._voice != key:
            if self.lib.espeak_ng_SetVoiceByName(voice.name.encode()) != _STATUS_OK:
                raise UsageError(f"espeak-ng has no voice {voice.name!r}")
            self.lib.espeak_ng_SetParameter(_PARAM_PITCH, voice.pitch, 0)
            self.lib.espeak_ng_SetParameter(_PARAM_RATE, rate_wpm, 0)
            self._voice = key
        data = text.encode("utf-8") + b"\0"
        self._chunks = []
        buf = ctypes.create_string_buffer(data)
        self.lib.espeak_ng_Synthesize(buf, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        self.lib.espeak_ng_Synchronize()
        out = b"".join(self._chunks)
        self._chunks = []
        return out


class EspeakSynthesizer:
    """Text to speech in one OpenAI voice, at 24 kHz pcm16 or a G.711 format.

    Args:
        voice: an OpenAI voice name (`marin`, `ash`, ...) or an espeak-ng voice name.
        speed: the session's `audio.output.speed` (0.25-1.5).
    """

    def __init__(self, voice: str = "marin", *, speed: float = 1.0) -> None:
        self.voice = VOICES.get(voice) or VoiceSpec(voice, 50)
        self.rate_wpm = max(80, min(450, round(_DEFAULT_RATE_WPM * speed)))
        self._lib = _EspeakLibrary.get()

    def synthesize_pcm24(self, text: str) -> bytes:
        """The whole text as 24 kHz pcm16 (one call into espeak-ng)."""
        if not text.strip():
            return b""
        with self._lib.lock:
            native = self._lib.synthesize(speakable(text), self.voice, self.rate_wpm)
        return resample_pcm16(native, self._lib.sample_rate_hz, 24000)

    def synthesize(self, text: str, fmt: AudioFormat = AudioFormat.PCM16) -> bytes:
        """The whole text in `fmt`."""
        return encode_pcm24(self.synthesize_pcm24(text), fmt)

    def stream(
        self, text: str, fmt: AudioFormat = AudioFormat.PCM16
    ) -> Iterator[tuple[str, bytes]]:
        """Yield `(sentence, audio)` one sentence at a time, so the first audio goes out early."""
        for sentence in split_sentences(text):
            yield sentence, self.synthesize(sentence, fmt)
