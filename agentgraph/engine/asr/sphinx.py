"""Speech recognition with pocketsphinx 5.1.1 and a language model built per session.

`SphinxRecognizer.configure(session)` turns the session's corpus (`vocabulary.py`) into an
ARPA trigram model (pocketsphinx's own `ArpaBoLM`) and a small pronunciation dictionary
(only the words of the corpus, looked up in the CMU dictionary shipped in the wheel), and
builds a decoder on them: about 20 ms, so it is redone on every `session.update` that
changes the text. `decode(pcm16k)` recognizes one whole utterance in one pass
(whole-utterance cepstral normalisation is much more accurate than live CMN on a fresh
session); the listener hides that pass inside the silence window by decoding
speculatively once the caller pauses. When the session model hears nothing, the same
audio is decoded again with the generic en-US model (shared, loaded once) as an
open-vocabulary fallback.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from functools import cache
from typing import Any

from agentgraph.engine.asr.vocabulary import session_sentences, session_text
from agentgraph.errors import UsageError

__all__ = ["SphinxRecognizer", "pronunciations"]


def _model_dir() -> str:
    try:
        import pocketsphinx
    except ImportError as exc:  # pragma: no cover - the engine extra brings it
        raise UsageError(
            "speech recognition needs pocketsphinx: pip install 'agentgraph[engine]'"
        ) from exc
    return os.path.join(pocketsphinx.get_model_path(), "en-us")


@cache
def pronunciations() -> dict[str, str]:
    """The CMU pronouncing dictionary shipped with pocketsphinx: word -> phones."""
    table: dict[str, str] = {}
    with open(os.path.join(_model_dir(), "cmudict-en-us.dict"), encoding="utf-8") as f:
        for line in f:
            word, _, phones = line.rstrip("\n").partition(" ")
            if word and phones:
                table.setdefault(word, phones.strip())
    return table


MAX_UTTERANCE_BYTES = 60 * 16000 * 2  # one minute of 16 kHz speech
MIN_DECODE_BYTES = 16000 * 2 // 20  # 50 ms: nothing shorter holds a word
DISCOUNT = 0.05  # little backoff mass: prefer the session's own word sequences
_generic_lock = threading.Lock()
_generic: list[Any] = []


def _generic_decoder() -> Any:
    """The generic en-US decoder (large LM + full dictionary), created once."""
    with _generic_lock:
        if not _generic:
            import pocketsphinx

            _generic.append(pocketsphinx.Decoder(loglevel="FATAL"))
        return _generic[0]


class SphinxRecognizer:
    """One session's recognizer: a decoder on the session's own language model."""

    def __init__(self) -> None:
        self._decoder: Any = None
        self._key: str | None = None
        self.vocabulary: frozenset[str] = frozenset()

    def configure(self, session: dict[str, Any]) -> None:
        """(Re)build the language model when the session's text changed."""
        key = session_text(session)
        if key == self._key and self._decoder is not None:
            return
        self._key = key
        import pocketsphinx
        from pocketsphinx.lm import ArpaBoLM

        table = pronunciations()
        sentences = []
        words: set[str] = set()
        for sentence in session_sentences(session):
            kept = [w for w in sentence.split() if w in table]
            if kept:
                sentences.append(" ".join(kept))
                words.update(kept)
        lm = ArpaBoLM(text="\n".join(sentences) + "\n", add_start=True, discount_mass=DISCOUNT)
        lm.compute()
        arpa = io.StringIO()
        lm.write(arpa)
        with tempfile.TemporaryDirectory(prefix="agentgraph-asr-") as tmp:
            lm_path = os.path.join(tmp, "session.arpa")
            dict_path = os.path.join(tmp, "session.dict")
            with open(lm_path, "w", encoding="utf-8") as f:
                f.write(arpa.getvalue())
            with open(dict_path, "w", encoding="utf-8") as f:
                f.writelines(f"{w} {table[w]}\n" for w in sorted(words))
            self._decoder = pocketsphinx.Decoder(
                hmm=os.path.join(_model_dir(), "en-us"),
                lm=lm_path,
                dict=dict_path,
                loglevel="FATAL",
            )
        self.vocabulary = frozenset(words)

    def decode(self, pcm16k: bytes) -> str:
        """Recognize one whole utterance with the session model, then the generic one."""
        if len(pcm16k) < MIN_DECODE_BYTES:
            return ""
        text = self._decode(pcm16k)
        if not text and len(pcm16k) > 16000 * 2 // 4:
            text = _decode_once(_generic_decoder(), pcm16k)
        return text.strip()

    def _decode(self, pcm16k: bytes) -> str:
        # Whole-utterance decoding (full_utt=True) normalises the cepstral mean over the
        # utterance, which is far more accurate on a fresh session than live CMN.
        decoder = self._decoder
        decoder.start_utt()
        decoder.process_raw(pcm16k, False, True)
        decoder.end_utt()
        hyp = decoder.hyp()
        return hyp.hypstr.strip() if hyp is not None else ""

    def transcribe(self, pcm16k: bytes) -> str:
        """Recognize a whole buffer (same as `decode`)."""
        return self.decode(pcm16k)


def _decode_once(decoder: Any, pcm16k: bytes) -> str:
    with _generic_lock:
        decoder.start_utt()
        decoder.process_raw(pcm16k, False, True)
        decoder.end_utt()
        hyp = decoder.hyp()
    return hyp.hypstr if hyp is not None else ""
