"""Issue 10, static side: a typo in an approval rule is an error in plain `validate`
(did-you-mean, file:line:col), learned without running plugin code where the source says
it, and `run`/`test`/`serve` (compile) stop before the first call."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agentgraph.cli import main
from agentgraph.compile import compile_graph
from agentgraph.errors import SpecError
from agentgraph.spec import load_graph

ROOT = Path(__file__).resolve().parents[2]

TYPO = """\
version: 1
name: typo
tools:
  book:
    entry_point: book_appointment
    approval: {when: "tme < '09:00' or time > '17:00'", message: "Book {date} at {tiem}?"}
agents:
  a: {instructions: x, tools: [book]}
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def test_a_typo_in_when_and_message_fails_plain_validate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The attack: `tme < '09:00'` validated "ok (0 errors)" and run booked 08:00 unasked.
    graph = tmp_path / "typo.yaml"
    graph.write_text(TYPO)
    code, out = run(capsys, "validate", str(graph))
    assert code == 1
    assert f"{graph}:6:23: error AG207: approval condition uses 'tme'" in out
    assert "hint: did you mean 'time'?" in out
    assert "error AG207: approval message uses '{tiem}'" in out
    assert "(2 error(s)" in out


def test_plain_validate_reads_entry_point_parameters_without_running_plugin_code(
    tmp_path: Path,
) -> None:
    graph = tmp_path / "typo.yaml"
    graph.write_text(TYPO)
    code = textwrap.dedent(f"""
        import sys
        from agentgraph.cli import main
        rc = main(["validate", {str(graph)!r}])
        leaked = sorted(m for m in sys.modules if m.startswith("agentgraph_demo"))
        assert rc == 1, rc
        assert not leaked, leaked
    """)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, timeout=60, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "AG207" in done.stdout


def test_a_rule_on_a_tool_that_is_not_installed_is_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    graph = tmp_path / "g.yaml"
    graph.write_text(TYPO.replace("book_appointment", "not_installed_xyz"))
    code, out = run(capsys, "validate", str(graph))
    assert code == 1 and "error AG403" in out and "approval rule cannot be checked" in out


DECORATED = '''
from agentgraph.realtime import function_tool

@function_tool
def pay(amount: float, to: str) -> str:
    """Pay someone."""
    return "paid"
'''


def test_a_tool_whose_source_cannot_be_read_is_imported_as_run_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "paytools_h3a.py").write_text(DECORATED)
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = tmp_path / "pay.yaml"
    graph.write_text(
        "version: 1\nname: pay\ntools:\n"
        '  pay: {ref: "paytools_h3a:pay", approval: {when: "amont > 1000"}}\n'
        "agents: {a: {instructions: x, tools: [pay]}}\n"
    )
    code, out = run(capsys, "validate", str(graph))
    assert code == 1 and "AG207: approval condition uses 'amont'" in out
    assert "did you mean 'amount'?" in out


def test_compile_stops_run_test_and_serve_before_the_first_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # load_graph alone cannot see the tool; compile (what run/test/serve do next) can.
    (tmp_path / "paytools_h3b.py").write_text(DECORATED)
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = tmp_path / "pay.yaml"
    graph.write_text(
        "version: 1\nname: pay\ntools:\n"
        '  pay: {ref: "paytools_h3b:pay", approval: {when: "amount > 1000", '
        'message: "Pay {amount} to {too}?"}}\n'
        "agents: {a: {instructions: x, tools: [pay]}}\n"
    )
    spec = load_graph(graph)
    with pytest.raises(SpecError) as info:
        compile_graph(spec)
    text = "\n".join(f.format() for f in info.value.findings)
    assert f"{graph}:4:" in text and "approval message uses '{too}'" in text
    assert "did you mean 'to'?" in text


def test_compiled_rules_are_typed_by_the_tools_parameters() -> None:
    compiled = compile_graph(load_graph(ROOT / "examples" / "graphs" / "booking.yaml"))
    book = next(t for t in compiled.agents["booking"].tools if t.name == "book_appointment")
    assert book.approval is not None
    base = {"date": "2026-12-03", "name": "Ann"}
    for late in ("17.30", "5:30 pm", "17:30", "8 am"):
        assert book.approval.applies({**base, "time": late}), late
    assert not book.approval.applies({**base, "time": "12.00"})


TIMED = '''
import datetime as dt
from agentgraph.realtime import function_tool

@function_tool
def book(at: dt.time) -> str:
    """Book."""
    return "ok"
'''


def test_a_literal_of_the_wrong_kind_is_a_finding_at_validate_and_compile(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "timetools_h3.py").write_text(TIMED)
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = tmp_path / "t.yaml"
    graph.write_text(
        "version: 1\nname: t\ntools:\n"
        '  book: {ref: "timetools_h3:book", approval: {when: "at > \'late\'"}}\n'
        "agents: {a: {instructions: x, tools: [book]}}\n"
    )
    code, out = run(capsys, "validate", str(graph))
    assert code == 1 and "error AG206: approval condition: 'late' is not a time" in out
    with pytest.raises(SpecError) as info:
        compile_graph(load_graph(graph))  # run/test/serve: a finding, never a traceback
    assert [f.code for f in info.value.findings] == ["AG206"]


def test_hostile_files_end_in_clean_findings_through_the_cli(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
        + "".join(
            f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n"
            for p, n in zip("abcdefgh", "bcdefghi", strict=True)
        )
    )
    deep = tmp_path / "deep.yaml"
    deep.write_text("".join("  " * i + f"k{i}:\n" for i in range(900)) + "  " * 900 + "v\n")
    shadow = tmp_path / "shadow.yaml"
    shadow.write_text("version: 1\nname: s\nagents: {a: {instructions: {file: /etc/shadow}}}\n")
    for path, code in ((bomb, "AG111"), (deep, "AG111"), (shadow, "AG108")):
        rc, out = run(capsys, "validate", str(path))
        assert rc == 1 and f"error {code}" in out and "Traceback" not in out, out
    rc, out = run(capsys, "validate", "/dev/zero")
    assert rc == 2 and "AG001" in out and "not a regular file" in out


@pytest.mark.parametrize("command", ["run", "test"])
def test_run_and_test_stop_on_a_rule_typo_before_any_engine_starts(
    tmp_path: Path, command: str
) -> None:
    graph = tmp_path / "typo.yaml"
    graph.write_text(TYPO)
    if command == "run":
        argv = ["run", str(graph), "--say", "book me at 8 am"]
    else:
        tests = tmp_path / "typo.tests.yaml"
        tests.write_text("graph: typo.yaml\ntests:\n  - name: t\n    turns:\n      - user: hi\n")
        argv = ["test", str(tests)]
    done = subprocess.run(
        [sys.executable, "-m", "agentgraph", *argv],
        cwd=tmp_path,
        timeout=120,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "error AG207: approval condition uses 'tme'" in done.stderr
    assert "embedded offline engine" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
