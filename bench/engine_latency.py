"""Voice-to-voice latency, CPU per session and concurrent real-time sessions of the engine.

    python bench/engine_latency.py                      # everything (a few minutes)
    python bench/engine_latency.py --latency-only       # p50/p95 at 300 and 500 ms
    python bench/engine_latency.py --sessions 1,4,8,10,12

The engine runs as `agentgraph engine serve` in its own process, so its CPU time can be
read from /proc. Each simulated caller streams 20 ms chunks in real time (wall-clock
paced, noise between utterances, never digital silence), speaks with espeak-ng in a
different voice from the agent, and answers tool calls at once. Latency is measured from
the moment the last voiced chunk of an utterance was sent (end of caller speech) to the
first `response.output_audio.delta` of the spoken answer (for a tool call, of the answer
after the tool output). "Processing" is that latency minus `silence_duration_ms`.

Concurrency: N callers talk at once; a level is sustained when every caller's p95
latency stays under silence + 400 ms and the engine kept up (no backlog).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import websockets

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agentgraph.engine.tts import EspeakSynthesizer  # noqa: E402

CHUNK_MS = 20
CHUNK_BYTES = 48 * CHUNK_MS
NOISE_RMS = 60.0
TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
    {
        "type": "function",
        "name": "book_appointment",
        "description": "Book a dental appointment.",
        "parameters": {
            "type": "object",
            "properties": {
                "date": {"type": "string"},
                "time": {"type": "string"},
                "name": {"type": "string"},
            },
            "required": ["date", "time", "name"],
        },
    },
]
UTTERANCES = [
    "What's the weather in Tokyo?",
    "Hello",
    "What's the weather in Lisbon?",
    "What can you do?",
    "What's the weather in Paris?",
    "Thank you",
    "I want to book an appointment",
    "What's the weather in Berlin?",
    "What's the weather in London?",
    "Hi there",
    "What's the weather in Sydney?",
    "What's the weather in Madrid?",
    "Can you repeat that?",
    "What's the weather in Oslo?",
    "What's the weather in Chicago?",
    "Good morning",
    "What's the weather in Rome?",
    "What's the weather in Toronto?",
    "What's the weather in Dublin?",
    "Goodbye",
    "What's the weather in Vienna?",
    "What's the weather in Cairo?",
]
CALLER_VOICES = ["echo", "cedar", "ash", "alloy"]


@dataclass
class Utterance:
    text: str
    pcm: bytes  # voice only


@dataclass
class CallerResult:
    latencies_ms: list[float] = field(default_factory=list)
    transcripts: list[tuple[str, str]] = field(default_factory=list)
    missed: int = 0


def synthesize(texts: list[str]) -> list[Utterance]:
    out = []
    for i, text in enumerate(texts):
        synth = EspeakSynthesizer(CALLER_VOICES[i % len(CALLER_VOICES)])
        out.append(Utterance(text, synth.synthesize_pcm24(text)))
    return out


def with_noise(pcm: bytes, rng: np.random.Generator) -> bytes:
    samples = np.frombuffer(pcm, "<i2").astype(np.float64)
    samples = samples + rng.normal(0, NOISE_RMS, samples.size)
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes()


def start_engine(
    asr_workers: str | None, recognizer: str = "whisper"
) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    extra = ["--asr-workers", asr_workers] if asr_workers is not None else []
    extra += ["--recognizer", recognizer]
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentgraph", "engine", "serve", "--port", "0", *extra],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    m = re.search(r"(ws://\S+?/v1/realtime)", line)
    if not m:
        proc.kill()
        raise SystemExit(f"engine did not start: {line}")
    return proc, m.group(1)


def cpu_seconds(pid: int) -> float:
    """CPU time of the engine process and its descendants (the recognizer workers)."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ppid = int(fields[1])
        stats[int(entry.name)] = (ppid, (int(fields[11]) + int(fields[12])))
    family, changed = {pid}, True
    while changed:
        changed = False
        for child, (ppid, _) in stats.items():
            if ppid in family and child not in family:
                family.add(child)
                changed = True
    ticks = sum(stats[p][1] for p in family if p in stats)
    return ticks / os.sysconf("SC_CLK_TCK")


async def caller(
    url: str, utterances: list[Utterance], silence_ms: int, seed: int, result: CallerResult
) -> None:
    rng = np.random.default_rng(seed)
    async with websockets.connect(
        url + "?model=gpt-realtime",
        max_size=None,
        additional_headers={"Authorization": "Bearer bench"},
    ) as ws:
        await ws.send(
            json.dumps(
                {
                    "type": "session.update",
                    "session": {
                        "type": "realtime",
                        "tools": TOOLS,
                        "instructions": "You are a weather assistant.",
                        "audio": {
                            "input": {
                                "turn_detection": {
                                    "type": "server_vad",
                                    "silence_duration_ms": silence_ms,
                                }
                            }
                        },
                    },
                }
            )
        )
        state: dict[str, float | None] = {"speech_end": None}
        answered = asyncio.Event()

        async def reader() -> None:
            async for message in ws:
                event = json.loads(message)
                kind = event["type"]
                if kind == "response.output_audio.delta" and state["speech_end"] is not None:
                    result.latencies_ms.append((time.perf_counter() - state["speech_end"]) * 1000)
                    state["speech_end"] = None
                    answered.set()
                elif kind == "conversation.item.input_audio_transcription.completed":
                    pass
                elif kind == "response.done":
                    for item in event["response"]["output"]:
                        if item["type"] == "function_call":
                            await ws.send(
                                json.dumps(
                                    {
                                        "type": "conversation.item.create",
                                        "item": {
                                            "type": "function_call_output",
                                            "call_id": item["call_id"],
                                            "output": json.dumps(
                                                {"summary": "Sunny and 21 degrees."}
                                            ),
                                        },
                                    }
                                )
                            )
                            await ws.send(json.dumps({"type": "response.create"}))

        task = asyncio.create_task(reader())
        start = time.perf_counter()
        sent = 0

        async def send(pcm: bytes, *, mark_end: bool = False) -> None:
            nonlocal sent
            for i in range(0, len(pcm), CHUNK_BYTES):
                await ws.send(
                    json.dumps(
                        {
                            "type": "input_audio_buffer.append",
                            "audio": base64.b64encode(pcm[i : i + CHUNK_BYTES]).decode(),
                        }
                    )
                )
                sent += 1
                delay = start + sent * CHUNK_MS / 1000 - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            if mark_end:
                state["speech_end"] = time.perf_counter()

        silence = bytes(CHUNK_BYTES)
        # Callers do not all speak at the same instant: stagger their first words.
        await send(with_noise(bytes(48 * (400 + (seed * 317) % 1500)), rng))
        for utt in utterances:
            answered.clear()
            await send(with_noise(utt.pcm, rng), mark_end=True)
            deadline = time.perf_counter() + 4.0
            while not answered.is_set() and time.perf_counter() < deadline:
                await send(with_noise(silence * 5, rng))
            if not answered.is_set():
                result.missed += 1
                state["speech_end"] = None
            # Let the answer play out (a real caller listens) before the next request.
            await send(with_noise(bytes(48 * 2500), rng))
        task.cancel()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run_level(
    url: str, pid: int, utterances: list[Utterance], silence_ms: int, sessions: int
) -> dict[str, float]:
    results = [CallerResult() for _ in range(sessions)]
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    await asyncio.gather(
        *(caller(url, utterances, silence_ms, seed, results[seed]) for seed in range(sessions))
    )
    cpu, wall = cpu_seconds(pid) - cpu0, time.perf_counter() - t0
    lat = [x for r in results for x in r.latencies_ms]
    return {
        "sessions": sessions,
        "silence_ms": silence_ms,
        "n": len(lat),
        "missed": sum(r.missed for r in results),
        "p50_ms": statistics.median(lat) if lat else float("nan"),
        "p95_ms": pct(lat, 0.95) if lat else float("nan"),
        "engine_cpu_pct_of_core_per_session": 100 * cpu / wall / sessions,
    }


def word_errors(ref: str, hyp: str) -> tuple[int, int]:
    """(edit distance in words, reference length)."""
    r = re.findall(r"[a-z']+", ref.lower())
    h = re.findall(r"[a-z']+", hyp.lower())
    row = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        prev, row[0] = row[0], i
        for j, hw in enumerate(h, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (rw != hw))
    return row[len(h)], len(r)


def accuracy(utterances: list[Utterance]) -> None:
    """Word error rate of the session model vs the generic model on the same speech."""
    from agentgraph.audio import resample_pcm16
    from agentgraph.engine.asr.sphinx import SphinxRecognizer, _decode_once, _generic_decoder
    from agentgraph.engine.session_config import default_session

    session = default_session(session_id="bench", model="m", expires_at=0)
    session["tools"] = TOOLS
    session["instructions"] = "You are a weather assistant."
    recognizer = SphinxRecognizer()
    recognizer.configure(session)
    rng = np.random.default_rng(7)
    from agentgraph.engine.asr.whisper import WhisperRecognizer

    whisper = WhisperRecognizer(threads=1)
    whisper.configure(session)
    whisper.load()
    totals = {"session": [0, 0, 0.0], "generic": [0, 0, 0.0], "whisper": [0, 0, 0.0]}
    for utt in utterances:
        pcm = with_noise(bytes(48 * 300) + utt.pcm + bytes(48 * 300), rng)
        pcm16k = resample_pcm16(pcm, 24000, 16000)
        for name, decode in (
            ("session", recognizer.decode),
            ("generic", lambda a: _decode_once(_generic_decoder(), a)),
            ("whisper", whisper.decode),
        ):
            t0 = time.perf_counter()
            hyp = decode(pcm16k)
            totals[name][2] += time.perf_counter() - t0
            errors, words = word_errors(utt.text, hyp)
            totals[name][0] += errors
            totals[name][1] += words
    for name, (errors, words, seconds) in totals.items():
        label = "whisper tiny.en (session prompt)" if name == "whisper" else f"pocketsphinx {name}"
        print(
            f"{label} model: WER {100 * errors / words:.1f}% over {words} words, "
            f"{1000 * seconds / len(utterances):.0f} ms per utterance"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--utterances", type=int, default=20)
    parser.add_argument("--sessions", default="1,4,8,10,12")
    parser.add_argument("--latency-only", action="store_true")
    parser.add_argument("--accuracy-only", action="store_true")
    parser.add_argument("--asr-workers", default=None, help="passed to engine serve")
    parser.add_argument("--recognizer", default="whisper", choices=["whisper", "sphinx"])
    parser.add_argument("--silences", default="300,500", help="silence_duration_ms values")
    args = parser.parse_args()
    texts = (UTTERANCES * 3)[: args.utterances]
    utterances = synthesize(texts)
    if not args.latency_only:
        accuracy(utterances)
    if args.accuracy_only:
        return
    proc, url = start_engine(args.asr_workers, args.recognizer)
    try:
        print(
            f"engine {url} ({args.recognizer}); {len(utterances)} utterances; "
            f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}"
        )
        for silence_ms in (int(x) for x in args.silences.split(",")):
            r = await run_level(url, proc.pid, utterances, silence_ms, 1)
            print(
                f"silence {silence_ms} ms: p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms "
                f"(processing after silence p50 {r['p50_ms'] - silence_ms:.0f} ms), "
                f"n={r['n']}, missed={r['missed']}, "
                f"engine CPU {r['engine_cpu_pct_of_core_per_session']:.1f}% of a core"
            )
        if args.latency_only:
            return
        short = utterances[:6]
        for n in (int(x) for x in args.sessions.split(",")):
            r = await run_level(url, proc.pid, short, 300, n)
            ok = r["missed"] == 0 and r["p95_ms"] <= 300 + 400
            print(
                f"{n:3d} concurrent sessions: p50 {r['p50_ms']:.0f} ms, p95 "
                f"{r['p95_ms']:.0f} ms, missed {r['missed']}, engine CPU "
                f"{r['engine_cpu_pct_of_core_per_session']:.1f}% of a core per session"
                f" -> {'sustained' if ok else 'NOT sustained'}"
            )
    finally:
        proc.terminate()
        proc.wait(5)


if __name__ == "__main__":
    asyncio.run(main())
