"""`agentgraph validate | schema | graph | init | tools` through the real CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agentgraph.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "graphs"
ACCEPTANCE = ROOT / "tests" / "spec" / "data" / "acceptance.yaml"
HEAVY = (
    "agentgraph.realtime",
    "agentgraph.audio",
    "agentgraph.engine",
    "agentgraph.models",
    "agentgraph.transports",
    "agentgraph.compile.compiler",
    "agentgraph_demo",
    "numpy",
    "sounddevice",
    "websockets",
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def example_files() -> list[str]:
    return [str(p) for p in sorted(EXAMPLES.glob("*.yaml")) if not p.name.endswith(".tests.yaml")]


def test_validate_examples_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", *example_files())
    assert code == 0
    assert out.count(": ok (0 error(s), 0 warning(s))") == len(example_files())


def test_validate_findings_exit_1_and_prints_every_finding(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLINIC_NAME", raising=False)
    code, out, _ = run(capsys, "validate", str(ACCEPTANCE))
    assert code == 1
    assert [line.split(": ")[1] for line in out.splitlines() if ": error AG" in line] == [
        "error AG106",
        "error AG202",
        "error AG101",
    ]
    assert f"{ACCEPTANCE}:9:16: error AG202: handoff target 'bookng' is not an agent" in out


def test_validate_checks_conversation_test_files_by_their_own_schema(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tests_file = tmp_path / "weather.tests.yaml"
    tests_file.write_text(
        "graph: weather.yaml\ntests:\n  - name: t\n    turns:\n      - user: hi\n"
        "        expcet: [says: sunny]\n"
    )
    code, out, _ = run(capsys, "validate", str(EXAMPLES / "weather.yaml"), str(tests_file))
    assert code == 1
    assert f"{tests_file}:6:9: error AG101: unknown key 'expcet'" in out
    assert "hint: did you mean 'expect'?" in out
    code, out, _ = run(capsys, "validate", *map(str, sorted(EXAMPLES.glob("*.yaml"))))
    assert code == 0, out


def test_validate_unreadable_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(
        capsys, "validate", str(EXAMPLES / "weather.yaml"), str(tmp_path / "missing.yaml")
    )
    assert code == 2
    assert "AG001" in out


def test_validate_json(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLINIC_NAME", raising=False)
    code, out, _ = run(
        capsys, "validate", "--format", "json", str(ACCEPTANCE), str(EXAMPLES / "weather.yaml")
    )
    assert code == 1
    payload = json.loads(out)
    bad, good = payload["files"]
    assert payload["valid"] is False
    assert [f["code"] for f in bad["findings"]] == ["AG106", "AG202", "AG101"]
    assert bad["findings"][2]["line"] == 12 and bad["errors"] == 3
    assert good == {
        "file": str(EXAMPLES / "weather.yaml"),
        "valid": True,
        "errors": 0,
        "warnings": 0,
        "findings": [],
    }


def test_validate_import_reports_import_problems_as_findings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    graph = tmp_path / "g.yaml"
    graph.write_text(
        textwrap.dedent("""\
        version: 1
        name: imports
        tools:
          weather: {entry_point: get_weather, approval: {when: "town == 'Paris'"}}
          gone: {ref: "no_such_module_abc:f"}
          missing: {entry_point: not_installed_tool}
        agents:
          a: {instructions: x, tools: [weather, gone, missing]}
        """)
    )
    code, out, _ = run(capsys, "validate", str(graph))
    # plain validate checks approval rules (parameters read from source); only --import
    # imports the tools without rules
    assert code == 1, out
    assert f"{graph}:4:57: error AG207: approval condition uses 'town'" in out
    assert "AG401" not in out and "AG403" not in out
    code, out, err = run(capsys, "validate", "--import", str(graph))
    assert code == 1
    assert "Traceback" not in out + err
    assert f"{graph}:4:57: error AG207: approval condition uses 'town'" in out
    assert "  hint: parameters: city" in out
    assert f"{graph}:5:15: error AG401: cannot import 'no_such_module_abc'" in out
    assert f"{graph}:6:26: error AG403: no installed plugin provides" in out


def test_validate_import_checks_guardrail_signatures(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my_guards_mod.py").write_text(
        "def two(context, text):\n    return None\n"
        "def loose(city, days: int = 1):\n    return city\n"
        "def ok(context, agent, text, *, extra=1):\n    return None\n"
        "LIMIT = 3\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = tmp_path / "g.yaml"
    graph.write_text(
        textwrap.dedent("""\
        version: 1
        name: guards
        tools:
          loose: {ref: "my_guards_mod:loose"}
        guardrails:
          two: {ref: "my_guards_mod:two"}
          ok: {ref: "my_guards_mod:ok"}
          limit: {ref: "my_guards_mod:LIMIT"}
        agents:
          a: {instructions: x, tools: [loose], guardrails: [two, ok, limit]}
        """)
    )
    code, out, _ = run(capsys, "validate", "--import", str(graph))
    assert code == 1
    assert f"{graph}:4:16: warning AG404: tool 'loose': parameter(s) city have no type hint" in out
    errors = [line for line in out.splitlines() if ": error " in line]
    assert errors == [
        f"{graph}:6:14: error AG402: guardrail 'two' must take three arguments "
        "(context, agent, text) (at $.guardrails.two.ref)",
        f"{graph}:8:16: error AG402: guardrail 'limit' is not a function (its type is int) "
        "(at $.guardrails.limit.ref)",
    ]


def test_validate_import_accepts_the_examples(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", "--import", *example_files())
    assert code == 0, out


def test_schema_prints_the_committed_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "schema")
    assert code == 0
    assert out == (ROOT / "schemas" / "agentgraph.schema.json").read_text(encoding="utf-8")


def test_graph_mermaid_and_dot(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "graph", str(EXAMPLES / "triage.yaml"))
    assert code == 0 and out.startswith("flowchart LR\n")
    assert '  agent_triage(["triage (start)"])' in out
    assert "  agent_support -->|handoff| agent_booking" in out
    assert "book_appointment 🔒 approval (caller: time < '09:00' or time > '17:00')" in out
    code, out, _ = run(capsys, "graph", "--format", "dot", str(EXAMPLES / "guardrail.yaml"))
    assert code == 0 and out.startswith('digraph "No prices on the phone" {')
    assert '"guard:support:no_prices" [label="guardrail: no_prices", shape=hexagon];' in out


def test_graph_of_an_invalid_file_prints_findings(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLINIC_NAME", raising=False)
    code, out, err = run(capsys, "graph", str(ACCEPTANCE))
    assert code == 1 and out == ""
    assert "AG202" in err and err.rstrip().endswith("3 error(s), 0 warning(s)")


def test_init_scaffolds_a_valid_graph(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "init", "Front Desk", "--dir", str(tmp_path))
    assert code == 0 and "created" in out
    graph = tmp_path / "front_desk.yaml"
    text = graph.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=./agentgraph.schema.json\n")
    schema = (tmp_path / "agentgraph.schema.json").read_text(encoding="utf-8")
    assert schema == (ROOT / "schemas" / "agentgraph.schema.json").read_text(encoding="utf-8")
    assert (tmp_path / "prompts" / "front_desk.md").is_file()
    assert run(capsys, "validate", str(graph))[0] == 0
    code, _, err = run(capsys, "init", "Front Desk", "--dir", str(tmp_path))
    assert code == 2 and "already exists" in err


def test_init_inside_a_checkout_points_at_its_schema(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "agentgraph.schema.json").write_text("{}")
    (tmp_path / "graphs").mkdir()
    assert run(capsys, "init", "bot", "--dir", str(tmp_path / "graphs"))[0] == 0
    text = (tmp_path / "graphs" / "bot.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../schemas/agentgraph.schema.json\n")
    assert not (tmp_path / "graphs" / "agentgraph.schema.json").exists()


def test_tools_list_and_describe(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "tools")
    assert code == 0
    line = next(x for x in out.splitlines() if " get_weather " in x)
    assert line.split() == [
        "tool",
        "get_weather",
        "agentgraph-demo",
        "0.1.0",
        "agentgraph_demo.weather:get_weather",
    ]
    code, out, _ = run(capsys, "tools", "--describe", "book_appointment", "--format", "json")
    assert code == 0
    info = json.loads(out)
    assert info["parameters"]["required"] == ["date", "time", "name"]
    assert info["description"] == "Book an appointment for a caller."
    code, _, err = run(capsys, "tools", "--describe", "nope")
    assert code == 1 and "no installed tool or guardrail is named 'nope'" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["validate", "examples/graphs/weather.yaml", "examples/graphs/triage.yaml"],
        ["tools"],
    ],
)
def test_help_and_validate_do_not_import_the_runtime(argv: list[str]) -> None:
    code = textwrap.dedent(f"""
        import sys
        from agentgraph.cli import main
        rc = main({argv!r})
        heavy = sorted(m for m in sys.modules if m.startswith({HEAVY!r}))
        assert rc == 0, rc
        assert not heavy, heavy
    """)
    subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60, capture_output=True
    )


def test_validate_strict_fails_on_warnings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    graph = tmp_path / "w.yaml"
    graph.write_text(
        "version: 1\nname: w\ntools: {unused: {entry_point: get_weather}}\n"
        "agents: {a: {instructions: x}}\n"
    )
    code, out, _ = run(capsys, "validate", str(graph))
    assert code == 0 and "warning AG304: tool 'unused' is not used by any agent" in out
    code, out, _ = run(capsys, "validate", "--strict", str(graph))
    assert code == 1 and f"{graph}: invalid (0 error(s), 1 warning(s))" in out
