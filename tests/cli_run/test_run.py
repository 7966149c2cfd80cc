"""`agentgraph run` end to end: the embedded engine, the real runtime, the CLI in a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from agentgraph.audio import read_wav_pcm16, rms_dbfs
from tests.cli_run.speech import add_noise_floor, reencode, speak

REPO = Path(__file__).resolve().parents[2]
WEATHER = str(REPO / "examples/graphs/weather.yaml")


def agentgraph(
    *args: str, cwd: Path, stdin: str | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "agentgraph", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin if stdin is not None else "",
    )


def only_run_dir(cwd: Path) -> Path:
    runs = list((cwd / "runs").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def test_readme_command_prints_the_conversation_and_writes_speech(tmp_path: Path) -> None:
    result = agentgraph(
        "run",
        WEATHER,
        "--say",
        "What's the weather in Tokyo?",
        "--output",
        "reply.wav",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("model: embedded offline engine at ws://127.0.0.1:")
    assert "OPENAI_API_KEY is not set" in lines[0]
    assert lines[1] == "you: What's the weather in Tokyo?"
    assert lines[2] == '  -> get_weather(city="Tokyo")'
    assert lines[3].startswith("  <- get_weather: ") and "Tokyo" in lines[3]
    assert lines[4].startswith("weather: ") and "Tokyo" in lines[4] and lines[4].endswith(" ms]")
    assert lines[5].startswith("records: runs/")
    assert "Traceback" not in result.stderr
    # audible speech: seconds of it, well above silence
    pcm = read_wav_pcm16(tmp_path / "reply.wav")
    assert len(pcm) / 48000 > 1.5
    assert rms_dbfs(pcm) > -35
    # session records
    run_dir = only_run_dir(tmp_path)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["provider"] == "local"
    assert [c["name"] for c in summary["tool_calls"]] == ["get_weather"]
    assert summary["latency"]["weather"]["turns"] == 1
    transcript = (run_dir / "transcript.txt").read_text().splitlines()
    assert transcript[0] == "caller: What's the weather in Tokyo?"
    assert transcript[1].startswith("weather: ")
    events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
    assert all("audio" not in e or isinstance(e["audio"], dict) for e in events)
    kinds = {e["type"] for e in events}
    assert {"tool_start", "tool_end", "audio_delta", "transcript_done"} <= kinds


def test_wav_input_any_format_fast_with_stereo_recording(tmp_path: Path) -> None:
    spoken = speak("What's the weather in Paris?", tmp_path / "spoken.wav")
    add_noise_floor(spoken)
    # 48 kHz, 24-bit, stereo: converted to 24 kHz mono pcm16 on the way in
    reencode(spoken, tmp_path / "caller.wav", rate_hz=48000, width=3, channels=2)
    result = agentgraph(
        "run",
        WEATHER,
        "--input",
        "caller.wav",
        "--output",
        "reply.wav",
        "--fast",
        "--record",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    # the embedded engine always shows what it heard, whatever the graph's transcription
    heard = [line for line in result.stdout.splitlines() if line.startswith("you: ")]
    assert heard and "paris" in heard[0].lower() and "(spoke" not in heard[0]
    assert '-> get_weather(city="Paris")' in result.stdout
    assert rms_dbfs(read_wav_pcm16(tmp_path / "reply.wav")) > -35
    run_dir = only_run_dir(tmp_path)
    with wave.open(str(run_dir / "audio.wav")) as wav:
        assert wav.getnchannels() == 2
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    left, right = frames[:, 0].astype(np.float64), frames[:, 1].astype(np.float64)
    assert np.sqrt(np.mean(left**2)) > 100  # the caller
    assert np.sqrt(np.mean(right**2)) > 100  # the agent
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["latency"]["weather"]["turns"] == 1


def test_log_dir_holds_the_records(tmp_path: Path) -> None:
    result = agentgraph(
        "run",
        WEATHER,
        "--say",
        "Weather in Rome?",
        "--log-dir",
        "logs/one",
        "--quiet",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "logs/one").iterdir())
    assert names == ["events.jsonl", "summary.json", "transcript.txt"]
    assert not (tmp_path / "runs").exists()


def test_manual_turns_commit_the_whole_file(tmp_path: Path) -> None:
    graph = tmp_path / "manual.yaml"
    graph.write_text(
        (REPO / "examples/graphs/weather.yaml")
        .read_text()
        .replace(
            "turn_detection: {type: server_vad, threshold: 0.5, silence_duration_ms: 500}",
            # Whisper tiny.en hears this clean espeak clip, committed whole, as "But we
            # haven't even seen it" (a known miss, in the closing note); this test is about
            # the commit, so it pins the session-vocabulary recognizer.
            "turn_detection: none\ntranscription: {model: pocketsphinx}",
        )
    )
    speak("What's the weather in Sydney?", tmp_path / "caller.wav")
    result = agentgraph("run", str(graph), "--input", "caller.wav", "--fast", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert '-> get_weather(city="Sydney")' in result.stdout
    summary = json.loads((only_run_dir(tmp_path) / "summary.json").read_text())
    assert summary["latency"]["weather"]["turns"] == 1  # measured from the commit


def test_json_lines_and_quiet(tmp_path: Path) -> None:
    result = agentgraph(
        "run", WEATHER, "--say", "Weather in London?", "--json", "--no-log", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    types = [r["type"] for r in records]
    assert types[0] == "note"
    assert "tool_start" in types and "latency" in types and "transcript_done" in types
    for r in records:
        if r["type"] == "audio_delta":
            assert set(r["audio"]) == {"bytes"}
    assert not (tmp_path / "runs").exists()

    quiet = agentgraph(
        "run", WEATHER, "--say", "Weather in London?", "--quiet", "--no-log", cwd=tmp_path
    )
    assert quiet.returncode == 0, quiet.stderr
    lines = quiet.stdout.splitlines()
    assert lines[0] == "you: Weather in London?"
    assert lines[1].startswith("weather: ") and "London" in lines[1]
    assert len(lines) == 2


def test_text_mode_reads_typed_lines_until_quit(tmp_path: Path) -> None:
    result = agentgraph(
        "run",
        WEATHER,
        "--text",
        "--quiet",
        "--no-log",
        cwd=tmp_path,
        stdin="What's the weather in Tokyo?\nWeather in Lisbon?\n/quit\nignored\n",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "you: What's the weather in Tokyo?"
    assert "Tokyo" in lines[1]
    assert lines[2] == "you: Weather in Lisbon?"
    assert "Lisbon" in lines[3]
    assert len(lines) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--say", "hi", "--json", "--quiet"), "--json and --quiet don't go together"),
        (("--say", "hi", "--input", "x.wav"), "can't be combined with --say"),
        (("--input", "missing.wav"), "input file not found: missing.wav"),
        (("--input", "not_a_wav.wav"), "not a PCM WAV file"),
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    (tmp_path / "not_a_wav.wav").write_text("hello")
    result = agentgraph("run", WEATHER, "--no-log", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr


def test_invalid_graph_reports_findings(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nname: x\nvoice: alloyy\nagents:\n  a: {instructions: hi}\n")
    result = agentgraph("run", str(bad), "--say", "hi", "--no-log", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "bad.yaml:3:" in result.stderr and "alloyy" in result.stderr
