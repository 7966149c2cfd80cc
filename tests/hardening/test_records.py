"""Records under faults and secrets: secrets never reach a file in any spelling, a full
disk or an unwritable folder is one warning while the conversation goes on, and SIGTERM
or SIGHUP mid-conversation leaves complete records."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentgraph.app.latency import LatencyMeter
from agentgraph.app.records import SessionRecorder

SECRET = 'sk-li"ve\\Grüße-0123456789'  # a quote, a backslash and non-ASCII
SECRETS = frozenset({SECRET})
GRAPH = Path(__file__).parents[2] / "examples" / "graphs" / "weather.yaml"


@dataclass(frozen=True)
class ToolEnd:
    tool_name: str
    arguments: str
    output: str
    type: str = "tool_end"


@dataclass(frozen=True)
class TranscriptDone:
    transcript: str
    type: str = "transcript_done"


def _spellings() -> list[str]:
    return [
        SECRET,
        json.dumps(SECRET)[1:-1],
        json.dumps(SECRET, ensure_ascii=False)[1:-1],
        "Grüße-0123456789",
        "Gr\\u00fc\\u00dfe-0123456789",
    ]


def _feed(recorder: SessionRecorder) -> None:
    recorder.on_event(ToolEnd("echo_env", json.dumps({"name": SECRET}), f"-> {SECRET}"), 1.0)
    recorder.on_event(TranscriptDone(f"the key is {SECRET}"), 2.0)
    recorder.on_caller_text(f"read me {SECRET}", 3.0)


def test_secrets_are_redacted_in_every_record_in_every_spelling(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path, latency=LatencyMeter(), secrets=SECRETS)
    _feed(recorder)
    recorder.close()
    for name in ("events.jsonl", "transcript.txt", "summary.json"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        assert "[redacted]" in text, name
        for spelling in _spellings():
            assert spelling not in text, (name, spelling)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["tool_calls"][0]["output"] == "-> [redacted]"


def test_lines_are_on_disk_before_the_recorder_is_closed(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path, latency=LatencyMeter())
    recorder.on_event(TranscriptDone("first answer"), 1.0)
    assert "first answer" in (tmp_path / "transcript.txt").read_text()
    assert "first answer" in (tmp_path / "events.jsonl").read_text()
    recorder.close()


def test_a_full_disk_is_one_warning_and_recording_never_raises(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    (tmp_path / "events.jsonl").symlink_to("/dev/full")
    recorder = SessionRecorder(tmp_path, latency=LatencyMeter())
    for turn in range(5):
        recorder.on_event(TranscriptDone(f"answer {turn}"), float(turn))
    recorder.close()
    warnings = [r.getMessage() for r in caplog.records if "cannot write records" in r.getMessage()]
    assert len(warnings) == 1
    assert "No space left on device" in warnings[0]


def test_an_unwritable_folder_is_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    recorder = SessionRecorder(blocker / "run", latency=LatencyMeter())
    _feed(recorder)
    recorder.close()
    warnings = [r.getMessage() for r in caplog.records if "cannot write records" in r.getMessage()]
    assert len(warnings) == 1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_termination_after_two_turns_leaves_complete_records(
    tmp_path: Path, sig: signal.Signals
) -> None:
    logs = tmp_path / "logs"
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "agentgraph",
            "run",
            str(GRAPH),
            "--provider",
            "local",
            "--text",
            "--quiet",
            "--log-dir",
            str(logs),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        answers = 0
        for question in ("What's the weather in Paris?", "And in Tokyo?"):
            proc.stdin.write(question + "\n")
            proc.stdin.flush()
            for line in proc.stdout:
                if line.startswith("weather:"):
                    answers += 1
                    break
        assert answers == 2
        proc.send_signal(sig)
        rest = proc.communicate(timeout=60)[0]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in rest
    transcript = (logs / "transcript.txt").read_text()
    assert "Paris" in transcript and "Tokyo" in transcript
    assert (logs / "events.jsonl").read_text().count("\n") > 4
    summary = json.loads((logs / "summary.json").read_text())
    assert summary["turns"]["agent_turns"] == 2


def test_serve_prints_tool_output_without_the_secret(capsys: pytest.CaptureFixture[str]) -> None:
    from agentgraph.app.serve import _printer

    @dataclass(frozen=True)
    class ToolEndNamed:
        tool_name: str
        output: str
        type: str = "tool_end"

    _printer(False, SECRETS)("CA1", ToolEndNamed("echo_env", f"key={SECRET}"))
    err = capsys.readouterr().err
    assert "[CA1] tool echo_env -> key=[redacted]" in err
    assert not any(spelling in err for spelling in _spellings())


def test_serve_records_one_folder_per_call(tmp_path: Path) -> None:
    from agentgraph.app.records import CallRecords

    @dataclass(frozen=True)
    class Closed:
        status: str = "closed"
        type: str = "connection"

    records = CallRecords(tmp_path, clock=lambda: 1.0, secrets=SECRETS)
    records.on_event("rtc_1", TranscriptDone(f"hello {SECRET}"))
    records.on_event("../CA/2", TranscriptDone("second call"))
    records.on_event("rtc_1", Closed())
    assert (tmp_path / "rtc_1" / "summary.json").exists()  # closed with its connection
    records.close()
    assert "hello [redacted]" in (tmp_path / "rtc_1" / "transcript.txt").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_CA_2", "rtc_1"]


def test_junit_never_carries_a_secret(tmp_path: Path) -> None:
    from agentgraph.app.testcases import TestReport, TestResult
    from agentgraph.app.testing import redact_result

    result = TestResult(
        "reads the key",
        failures=[f"turn 1: expected tool output {SECRET!r}"],
        transcript=[f"  tool: echo_env({json.dumps({'v': SECRET})})", f"agent: {SECRET}"],
    )
    report = TestReport(tmp_path / "g.tests.yaml", tmp_path / "g.yaml")
    report.results.append(redact_result(result, SECRETS))
    report.write_junit(tmp_path / "junit.xml")
    xml = (tmp_path / "junit.xml").read_text(encoding="utf-8")
    assert "[redacted]" in xml
    assert not any(spelling in xml for spelling in _spellings())
    assert "Gr&#252;&#223;e" not in xml and "Grüße" not in xml


def test_log_lines_and_tracebacks_never_show_a_secret() -> None:
    script = (
        "import logging, sys\n"
        "from agentgraph.app.eventdata import redact_logs\n"
        "secret = sys.argv[1]\n"
        "redact_logs(frozenset({secret}))\n"
        "log = logging.getLogger('agentgraph.transports.sip.sessions')\n"
        "log.warning('call CA1: session failed: %s', {'key': secret})\n"
        "try:\n"
        "    raise ValueError(secret)\n"
        "except ValueError:\n"
        "    log.exception('tool failed')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, SECRET], capture_output=True, text=True, timeout=60
    )
    assert "session failed" in done.stderr and "ValueError" in done.stderr
    assert "[redacted]" in done.stderr
    assert not any(spelling in done.stderr for spelling in _spellings())
