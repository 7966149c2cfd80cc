"""`agentgraph test`: every example graph's tests pass; failures are reported, JUnit written."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from agentgraph.app.testcases import load_tests
from agentgraph.errors import SpecError

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "graphs"
TEST_FILES = sorted(EXAMPLES.glob("*.tests.yaml"))


def agentgraph(
    *args: str, cwd: Path = REPO, timeout: float = 180
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
        stdin=subprocess.DEVNULL,
    )


def test_every_example_graph_has_a_tests_file() -> None:
    graphs = {p.name for p in EXAMPLES.glob("*.yaml") if not p.name.endswith(".tests.yaml")}
    tested = {str(load_tests(f)[0].name) for f in TEST_FILES}  # type: ignore[union-attr]
    assert graphs == tested


@pytest.mark.slow
@pytest.mark.parametrize("tests_file", TEST_FILES, ids=lambda p: p.name)
def test_example_conversation_tests_pass(tests_file: Path, tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    result = agentgraph("test", str(tests_file), "--junit", str(junit))
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failed" in result.stdout.splitlines()[-1]
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "0"
    assert int(suite.get("tests", "0")) == len(load_tests(tests_file)[1]) >= 2


def test_failed_expectations_fail_with_reasons_and_junit(tmp_path: Path) -> None:
    tests = tmp_path / "wrong.tests.yaml"
    tests.write_text(f"""
graph: {EXAMPLES / "weather.yaml"}
tests:
  - name: right
    turns:
      - user: What's the weather in Tokyo?
        expect: [tool_call: {{name: get_weather, args: {{city: Tokyo}}}}]
  - name: wrong city and words
    turns:
      - user: What's the weather in Tokyo?
        expect:
          - tool_call: {{name: get_weather, args: {{city: Paris}}}}
          - says: raining frogs
          - handoff: nobody
          - within_ms: 0
""")
    junit = tmp_path / "out" / "junit.xml"
    result = agentgraph("test", str(tests), "--junit", str(junit))
    assert result.returncode == 1
    out = result.stdout
    assert "PASS right" in out and "FAIL wrong city and words" in out
    assert (
        'turn 1: expected tool_call get_weather({"city": "Paris"}); got '
        'get_weather({"city": "Tokyo"})'
    ) in out
    assert "turn 1: expected the agent to say 'raining frogs'; it said" in out
    assert "turn 1: expected handoff to nobody; got no handoff" in out
    assert "turn 1: expected an answer within 0 ms; took" in out
    assert out.splitlines()[-1].startswith("1 passed, 1 failed")
    cases = ET.parse(junit).getroot().findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == ["right", "wrong city and words"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure is not None and "Paris" in (failure.text or "")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("tests: 3", "1:8: error AG102: expected a list"),
        ("tests:\n  - name: x\n", "2:3: error AG104: missing required key 'turns'"),
        (
            "tests:\n  - name: x\n    turns:\n      - {user: hi, audio: a.wav}\n",
            "a turn is `user: text` or `audio: file.wav`",
        ),
        (
            "tests:\n  - name: x\n    turns:\n      - {user: hi, expect: [sayz: x]}\n",
            "4:29: error AG101: unknown key 'sayz'",
        ),
        ("tests:\n  - name: x\n    turns:\n      - {audio: missing.wav}\n", "file not found"),
        ("tests:\n  - name: x\n    operator: maybe\n    turns: []\n", "'approve' or 'reject'"),
    ],
)
def test_bad_tests_files_say_where(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.tests.yaml"
    path.write_text(content)
    with pytest.raises(SpecError, match=r"bad\.tests\.yaml") as info:
        load_tests(path)
    assert message in str(info.value)


def test_mocks_for_unknown_tools_fail_the_test(tmp_path: Path) -> None:
    tests = tmp_path / "m.tests.yaml"
    tests.write_text(f"""
graph: {EXAMPLES / "weather.yaml"}
tests:
  - name: typo in mock
    mocks: {{get_wether: sunny}}
    turns:
      - user: hi
""")
    result = agentgraph("test", str(tests))
    assert result.returncode == 1
    assert "mocks name tools the graph does not have: get_wether" in result.stdout
