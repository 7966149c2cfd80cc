"""The microphone path through REAL PortAudio, with an ALSA file device as the sound card.

`agentgraph run weather.yaml` (microphone mode) runs in a process whose ALSA default
device is the `AlsaRig`: capture reads what the test says into a named pipe, playback
writes to another that the test drains in real time. The caller asks for the weather, the
reply must come out of the "speaker"; then the caller talks over the reply and playback
must stop.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agentgraph.audio import read_wav_pcm16
from tests.cli_run.speech import speak
from tests.transports.alsa_rig import AlsaRig

REPO = Path(__file__).resolve().parents[2]
LOUD = 300.0  # RMS of agent speech blocks is in the thousands; silence is 0


class LineReader:
    """Collects a process's stdout lines with the time each arrived."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[tuple[float, str]] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def events(self) -> list[tuple[float, dict[str, object]]]:
        out = []
        for t, line in list(self.lines):
            with contextlib.suppress(ValueError):  # not JSON: a prompt or note
                out.append((t, json.loads(line)))
        return out

    def wait_for(self, kind: str, timeout_s: float, after: float = 0.0) -> float | None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for t, event in self.events():
                if event.get("type") == kind and t >= after:
                    return t
            time.sleep(0.02)
        return None


def wait_until(predicate: object, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


@pytest.mark.slow
def test_microphone_reply_and_barge_in_through_portaudio(tmp_path: Path) -> None:
    question = read_wav_pcm16(speak("What's the weather in Tokyo?", tmp_path / "q.wav"))
    barge_in = read_wav_pcm16(
        speak("Wait, stop, stop please.", tmp_path / "b.wav", voice="en-us+f3")
    )
    with AlsaRig(tmp_path) as rig:
        env = rig.env
        env.pop("OPENAI_API_KEY", None)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentgraph",
                "run",
                "examples/graphs/weather.yaml",
                "--json",
                "--no-log",
            ],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        reader = LineReader(proc)
        try:
            assert reader.wait_for("agent_start", 30), proc.stderr and proc.stderr.read()
            rig.say(question)
            # the reply comes out of the speaker
            assert wait_until(lambda: any(level > LOUD for _, level in rig.speaker_levels()), 30), (
                "no agent audio reached the speaker"
            )
            first_loud = next(t for t, level in rig.speaker_levels() if level > LOUD)
            time.sleep(0.4)
            rig.say(barge_in)  # talk over the agent
            t_interrupted = reader.wait_for("audio_interrupted", 15, after=first_loud)
            assert t_interrupted is not None, "no barge-in detected"
            t_stopped = reader.wait_for("speech_stopped", 15, after=t_interrupted)
            assert t_stopped is not None
            time.sleep(0.3)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                _, stderr = proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, stderr = proc.communicate()
        levels = rig.speaker_levels()

    assert "Traceback" not in stderr, stderr
    assert proc.returncode in (0, 130)
    events = [e for _, e in reader.events()]
    tool_calls = [e for e in events if e["type"] == "tool_start"]
    assert tool_calls and tool_calls[0]["tool_name"] == "get_weather"
    assert json.loads(str(tool_calls[0]["arguments"])) == {"city": "Tokyo"}

    # The reply was heard: at least 0.3 s of agent speech before the barge-in.
    heard = [t for t, level in levels if level > LOUD and t < t_interrupted]
    assert len(heard) * 0.02 >= 0.3
    # Barge-in stopped playback: from shortly after `audio_interrupted` (pipe + device
    # buffers of the fake card hold ~0.1 s; margin for a busy CI machine) until the caller
    # stopped talking, silence.
    window = [level for t, level in levels if t_interrupted + 0.4 <= t <= t_stopped]
    assert window, "no speaker blocks in the barge-in window"
    assert max(window) < LOUD, f"agent audio kept playing after the barge-in: {window}"
    # and the first reply was cut short: less of it played than the model sent
    first_item = next(e["item_id"] for e in events if e["type"] == "audio_delta")
    sent_s = (
        sum(
            int(e["audio"]["bytes"])
            for e in events  # type: ignore[index]
            if e["type"] == "audio_delta" and e["item_id"] == first_item
        )
        / 48000
    )
    played_s = len([t for t, level in levels if level > LOUD and t < t_stopped]) * 0.02
    assert played_s < sent_s - 0.3, (played_s, sent_s)
    # the speaker's playback tracker fed the session what was really heard
    heard = [e for e in events if e["type"] == "playback_interrupted"]
    assert heard and heard[0]["item_id"] == first_item
    heard_s = float(heard[0]["heard_ms"]) / 1000  # type: ignore[arg-type]
    assert 0.3 <= heard_s < sent_s - 0.3, (heard_s, sent_s)


@pytest.mark.slow
def test_push_to_talk_when_turn_detection_is_off(tmp_path: Path) -> None:
    graph = tmp_path / "manual.yaml"
    graph.write_text(
        (REPO / "examples/graphs/weather.yaml")
        .read_text()
        .replace(
            "turn_detection: {type: server_vad, threshold: 0.5, silence_duration_ms: 500}",
            "turn_detection: none",
        )
    )
    question = read_wav_pcm16(speak("What's the weather in Sydney?", tmp_path / "q.wav"))
    with AlsaRig(tmp_path) as rig:
        env = rig.env
        env.pop("OPENAI_API_KEY", None)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        proc = subprocess.Popen(
            [sys.executable, "-m", "agentgraph", "run", str(graph), "--json", "--no-log"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        reader = LineReader(proc)
        assert proc.stdin is not None
        try:
            assert reader.wait_for("agent_start", 30)
            rig.say(question)
            assert wait_until(lambda: rig.mic_pending_bytes == 0, 10)
            time.sleep(0.5)
            assert reader.wait_for("tool_start", 1) is None  # nothing until the turn ends
            proc.stdin.write("\n")  # Enter: end of the caller's turn
            proc.stdin.flush()
            assert reader.wait_for("tool_start", 20)
            assert wait_until(lambda: any(level > LOUD for _, level in rig.speaker_levels()), 20), (
                "no agent audio reached the speaker"
            )
            proc.stdin.close()  # Ctrl-D: the conversation ends
            proc.wait(timeout=30)
            assert proc.stderr is not None
            stderr = proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    calls = [e for _, e in reader.events() if e["type"] == "tool_start"]
    assert json.loads(str(calls[0]["arguments"])) == {"city": "Sydney"}
    notes = [e["text"] for _, e in reader.events() if e["type"] == "note"]
    assert any("press Enter to end your turn" in str(n) for n in notes)
