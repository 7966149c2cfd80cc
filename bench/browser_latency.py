"""The browser playground's cost: mouth-to-ear through the page vs `agentgraph run --input`,
page load to ready, and server CPU per browser session, on the embedded engine (loopback).

- mouth-to-ear, page: Debian's headless Chromium plays a WAV of N spoken questions as its
  fake microphone into `agentgraph play`; the page measures, on its own AudioContext clock,
  the last loud microphone sample of each question -> the first sample of the agent's
  answer its playback worklet outputs (plus the context's reported output latency);
- mouth-to-ear, run: `agentgraph run --input --record` with the same WAV (real-time
  paced), from the last loud caller sample of each question in the recording to the
  records' first-played mark, both on the session's clock;
- speech_stopped -> first agent audio played (the records' turn latency) on both paths:
  the engine's part is the same, so the difference is the page's playback path;
- page load to ready: navigation start -> the page's `ready` (graph shown, session
  connected), over `--loads` fresh page loads;
- server CPU: the `play` process's user+system CPU while the spoken session runs, next to
  the `run --input` process's for the same audio (from its first session event to its
  exit); the difference is what serving the page costs.

The engine runs in its own process (`agentgraph engine serve`, the graph's `base_url`), so
its recognizer's work is in neither CPU figure and cannot stall the app under test; both
paths talk to the same engine.

    python bench/browser_latency.py [--turns 20] [--gap-s 7] [--loads 10]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CITIES = ["Tokyo", "London", "Paris", "Lisbon", "Berlin", "Sydney", "Toronto", "Rome"]
RATE = 48000
LOUD = 500


def questions_wav(n: int, gap_s: float, tmp: Path) -> tuple[Path, list[float]]:
    """A 48 kHz WAV of `n` questions `gap_s` apart after 1 s of quiet, and each one's end (s)."""
    from agentgraph.audio import read_wav_pcm16

    parts = [np.zeros(RATE, dtype=np.float64)]
    at = RATE
    ends = []
    for i in range(n):
        raw = tmp / f"q{i}.wav"
        subprocess.run(
            ["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw),
             f"What's the weather in {CITIES[i % len(CITIES)]}?"],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        speech = np.frombuffer(read_wav_pcm16(raw, rate_hz=RATE), dtype="<i2").astype(np.float64)
        loud = np.nonzero(np.abs(speech) > LOUD)[0]
        ends.append((at + (int(loud[-1]) if loud.size else 0)) / RATE)
        block = np.concatenate([speech, np.zeros(int(gap_s * RATE))])
        parts.append(block)
        at += block.size
    pcm = np.concatenate(parts)
    pcm += np.random.default_rng(1).normal(0, 30, pcm.size)
    path = tmp / "questions.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(np.clip(pcm, -32768, 32767).astype("<i2").tobytes())
    return path, ends


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    out["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), out.get("PYTHONPATH")]))
    out["NO_COLOR"] = "1"
    return out


def pct(values: list[float], p: float) -> float:
    from agentgraph.app.latency import percentile

    return percentile(values, p) if values else float("nan")


def start_engine(tmp: Path, *extra: str) -> tuple[subprocess.Popen[str], int]:
    """`agentgraph engine serve` on a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentgraph", "engine", "serve", "--port", str(port), *extra],
        env=env(), cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.connect(("127.0.0.1", port))
            return proc, port
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("agentgraph engine serve did not start")


def graph_on(port: int, tmp: Path) -> Path:
    """The weather graph, talking to the engine at `port`."""
    text = (REPO / "examples/graphs/weather.yaml").read_text(encoding="utf-8")
    model = "model: {provider: auto, name: gpt-realtime}"
    assert model in text
    url = f"http://127.0.0.1:{port}/v1"
    text = text.replace(model, f"model: {{provider: local, name: gpt-realtime, base_url: '{url}'}}")
    path = tmp / "weather.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run_input(graph: Path, wav: Path, tmp: Path) -> tuple[list[float], float, float]:
    """(mouth-to-ear ms per turn, CPU seconds, wall seconds) of `agentgraph run --input`."""
    log_dir = tmp / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentgraph", "run", str(graph), "--input", str(wav),
         "--log-dir", str(log_dir), "--quiet", "--record"],
        env=env(), cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    events = log_dir / "events.jsonl"
    cpu0: float | None = None
    t0 = last_cpu = 0.0
    while proc.poll() is None:  # CPU from the session's first event to the end
        with contextlib.suppress(OSError, IndexError, ValueError):
            last_cpu = proc_cpu(proc.pid)
            if cpu0 is None and events.is_file() and events.stat().st_size:
                cpu0, t0 = last_cpu, time.monotonic()
        time.sleep(0.05)
    if proc.returncode or cpu0 is None:
        raise SystemExit("agentgraph run --input failed")
    cpu, wall = last_cpu - cpu0, time.monotonic() - t0
    starts = [
        json.loads(line)["t"]
        for line in (log_dir / "events.jsonl").read_text().splitlines()
        if json.loads(line)["type"] == "latency"
    ]
    m2e = []
    for end in speech_ends(log_dir / "audio.wav"):
        later = [t for t in starts if t > end]
        if later:
            m2e.append((later[0] - end) * 1000)
    return m2e, cpu, wall


def speech_ends(recording: Path) -> list[float]:
    """Where each caller utterance ends on the session timeline (s): the last loud sample
    before a second of quiet, in the recording's caller channel (placed by arrival time,
    the same clock as the records' latency marks)."""
    with wave.open(str(recording)) as wav:
        rate = wav.getframerate()
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    loud = np.nonzero(np.abs(frames[:, 0].astype(np.int32)) > LOUD)[0]
    if not loud.size:
        return []
    gaps = np.nonzero(np.diff(loud) > rate)[0]
    return [float(i) / rate for i in [*loud[gaps], loud[-1]]]


def hub_latency(run_dir: Path) -> list[float]:
    """The records' turn latencies (speech_stopped -> first agent audio played), ms."""
    return [
        float(json.loads(line)["latency_ms"])
        for line in (run_dir / "events.jsonl").read_text().splitlines()
        if json.loads(line)["type"] == "latency"
    ]


def proc_cpu(pid: int) -> float:
    """User+system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_play(graph: Path, tmp: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentgraph", "play", str(graph), "--no-browser", "--port", "0",
         "--log-dir", str(tmp / "play"), "--quiet"],
        env=env(), cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if match := re.match(r"playground: (\S+)", line):
            return proc, match.group(1)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("agentgraph play did not start")


def browser(pw: object, tmp: Path, wav: Path | None) -> object:
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    args = list(CHROMIUM_ARGS)
    if wav is not None:
        args.append(f"--use-file-for-fake-audio-capture={wav}%noloop")
    return pw.chromium.launch_persistent_context(  # type: ignore[attr-defined]
        tempfile.mkdtemp(dir=tmp), executable_path=CHROMIUM, headless=True, args=args
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--gap-s", type=float, default=7.0, help="quiet after each question")
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument(
        "--no-aec", action="store_true", help="the page's microphone without echo cancellation"
    )
    parser.add_argument(
        "--recognizer",
        choices=["sphinx", "whisper"],
        default="sphinx",
        help="the engine's recognizer (sphinx: fast and steady, so the transports show)",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="agentgraph-browser-bench-"))
    wav, ends = questions_wav(args.turns, args.gap_s, tmp)
    engine, port = start_engine(tmp, "--recognizer", args.recognizer)
    try:
        measure(args, tmp, graph_on(port, tmp), wav, ends)
    finally:
        engine.terminate()
        engine.wait(timeout=30)


def measure(args: argparse.Namespace, tmp: Path, graph: Path, wav: Path, ends: list[float]) -> None:
    """Run both paths against the engine and print the figures."""
    from playwright.sync_api import sync_playwright

    audio_s = ends[-1] + args.gap_s
    run_m2e, run_cpu, run_wall = run_input(graph, wav, tmp)

    proc, url = start_play(graph, tmp)
    try:
        with sync_playwright() as pw:
            loads = []
            ctx = browser(pw, tmp, None)
            for _ in range(args.loads):
                page = ctx.new_page()  # type: ignore[attr-defined]
                page.goto(url)
                page.wait_for_function("window.ag && window.ag.ready", timeout=60_000)
                loads.append(page.evaluate("window.ag.readyAt"))
                page.close()
            ctx.close()  # type: ignore[attr-defined]

            ctx = browser(pw, tmp, wav)
            page = ctx.pages[0]  # type: ignore[attr-defined]
            page.goto(url + ("?aec=0" if args.no_aec else ""))
            page.wait_for_function("window.ag && window.ag.ready", timeout=60_000)
            cpu0, t0 = proc_cpu(proc.pid), time.monotonic()
            page.click("#mic")
            page.wait_for_timeout(int(audio_s * 1000))  # the whole recording, in real time
            with contextlib.suppress(Exception):  # a last answer may still be on its way
                page.wait_for_function(
                    f"window.ag.mouthToEar.length >= {args.turns}", timeout=20_000
                )
            cpu1, t1 = proc_cpu(proc.pid), time.monotonic()
            page_m2e = page.evaluate("window.ag.mouthToEar")
            out_ms = page.evaluate("(window.ag.outputLatency || 0) * 1000")
            # ctx -> performance time maps through the output timestamp, so a worklet's
            # currentTime lands one output latency later: add it back on the capture side
            capture_ms = [v + out_ms for v in page.evaluate("window.ag.captureDelay")]
            play_ms = page.evaluate("window.ag.playDelay")
            page.click("#hangup")
            page.wait_for_selector("#report-link", timeout=60_000)
            ctx.close()  # type: ignore[attr-defined]
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    page_m2e = [v + out_ms for v in page_m2e]
    spoken_run = sorted((tmp / "play").iterdir())[-1]  # the page loads' runs come first
    play_hub, run_hub = hub_latency(spoken_run), hub_latency(tmp / "run")
    print(
        f"mouth-to-ear, page   (n={len(page_m2e)}/{args.turns}): p50 {pct(page_m2e, 50):.0f} ms, "
        f"p95 {pct(page_m2e, 95):.0f} ms (incl. {out_ms:.0f} ms reported output latency)"
    )
    print(
        f"mouth-to-ear, run --input (n={len(run_m2e)}/{args.turns}): "
        f"p50 {pct(run_m2e, 50):.0f} ms, "
        f"p95 {pct(run_m2e, 95):.0f} ms"
    )
    print(
        f"page adds: p50 {pct(page_m2e, 50) - pct(run_m2e, 50):+.0f} ms, "
        f"p95 {pct(page_m2e, 95) - pct(run_m2e, 95):+.0f} ms"
    )
    print(
        f"speech_stopped -> first audio played (records): page p50 {pct(play_hub, 50):.0f} ms, "
        f"p95 {pct(play_hub, 95):.0f} ms; run --input p50 {pct(run_hub, 50):.0f} ms, "
        f"p95 {pct(run_hub, 95):.0f} ms"
    )
    print(
        f"the page's own part: microphone block -> websocket p50 {pct(capture_ms, 50):.1f} ms, "
        f"p95 {pct(capture_ms, 95):.1f} ms (+ up to 20 ms of block); agent audio received -> "
        f"first sample at the output device p50 {pct(play_ms, 50):.1f} ms, "
        f"p95 {pct(play_ms, 95):.1f} ms (of which {out_ms:.0f} ms is the device's latency)"
    )
    print(
        f"page load to ready (n={len(loads)}): p50 {pct(loads, 50):.0f} ms, "
        f"p95 {pct(loads, 95):.0f} ms, max {max(loads):.0f} ms"
    )
    play_cpu = (cpu1 - cpu0) / (t1 - t0) * 100
    run_cpu_pct = run_cpu / run_wall * 100
    print(
        f"server CPU, play, one browser session: {play_cpu:.1f}% of a core "
        f"({cpu1 - cpu0:.1f} s over {t1 - t0:.0f} s)"
    )
    print(
        f"CPU, run --input, same audio: {run_cpu_pct:.1f}% of a core "
        f"({run_cpu:.1f} s over {run_wall:.0f} s); "
        f"the page costs {play_cpu - run_cpu_pct:+.1f} points"
    )


if __name__ == "__main__":
    main()
