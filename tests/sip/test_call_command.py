"""`agentgraph call`: the weather graph (embedded engine) dials SIPp, which answers and
asks about the weather; the agent answers (the callee hears it, the call's records have
it), the call ends at --max-duration with our BYE, and the results CSV tells the story.
A busy callee, called at the same time, is reported as busy."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import pytest

from agentgraph.cli import main
from tests.sip.caller_audio import write_ulaw
from tests.sip.sipp import SCENARIOS, SIPP, free_udp_port, needs_sipp

pytestmark = [needs_sipp, pytest.mark.peer, pytest.mark.slow]
GRAPH = Path(__file__).parents[2] / "examples" / "graphs" / "weather.yaml"


def sipp_uas(scenario: Path, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    assert SIPP is not None
    port = free_udp_port()
    proc = subprocess.Popen(
        [
            SIPP,
            "-sf",
            str(scenario),
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-mp",
            str(free_udp_port()),
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "90s",
            "-timeout_error",
        ],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, port


def test_call_command_runs_the_graph_when_answered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    speech = write_ulaw(tmp_path / "tokyo.ulaw", "What's the weather in Tokyo?")
    scenario = tmp_path / "uas_talk.xml"
    scenario.write_text((SCENARIOS / "uas_talk.xml.in").read_text().replace("@AUDIO@", str(speech)))
    proc, port = sipp_uas(scenario, tmp_path)
    busy, busy_port = sipp_uas(SCENARIOS / "uas_busy.xml", tmp_path)
    results = tmp_path / "results.csv"
    try:
        code = main(
            [
                "call",
                str(GRAPH),
                f"sip:+15551234567@127.0.0.1:{port}",
                f"sip:+15557654321@127.0.0.1:{busy_port}",
                "--provider",
                "local",
                "--max-concurrent",
                "2",
                "--max-duration",
                "10",
                "--results",
                str(results),
                "--records",
                str(tmp_path / "records"),
            ]
        )
        assert proc.wait(30) == 0  # SIPp saw the call through to our BYE
        assert busy.wait(30) == 0
    finally:
        for p in (proc, busy):
            if p.poll() is None:
                p.kill()
    err = capsys.readouterr().err
    assert code == 1  # one of two answered
    rows = list(csv.DictReader(results.open()))
    answered, refused = rows
    assert answered["status"] == "answered" and answered["heard_agent"] == "yes", err
    assert refused["status"] == "busy"
    assert "+15557654321@127.0.0.1" in refused["target"] and "busy" in err
    # the conversation is in this call's records: the agent answered the callee
    transcript = (Path(answered["records"]) / "transcript.txt").read_text()
    assert transcript.startswith("weather:"), transcript
