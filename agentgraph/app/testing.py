"""`agentgraph test tests.yaml`: scripted conversations against a graph, with expectations.

```yaml
graph: weather.yaml                 # relative to this file
tests:
  - name: weather in Tokyo
    mocks: {get_weather: "Sunny, 24 C"}          # optional: replace tools' results
    turns:
      - user: What's the weather in Tokyo?     # or  audio: caller.wav
        expect:
          - tool_call: {name: get_weather, args: {city: Tokyo}}   # args: partial match
          - says: sunny                                          # agent transcript substring
          - within_ms: 5000                                      # turn latency
```

A turn is `user: text`, `audio: file.wav` (relative to the tests file, any format) or
`audio: {say: "text"}` (caller speech synthesised by the embedded engine's TTS in another
voice, with a noise floor). Other expectations: `handoff: agent`, `approval_requested:
true` (or a tool name; operator approvals and questions put to the caller both count),
`guardrail_tripped: true` (or a guardrail name), `no_tool_call: true` (no tool ran;
`tool_call` matches what the model called, even if an approval then refused it). Operator approvals
are answered by the test's `operator: approve | reject` (default reject). Each test gets a
fresh session (and freshly compiled graph, so mocks don't leak) on one embedded engine
started for the file. Latency is measured like `agentgraph run` measures it (caller turn
end -> first agent audio handed to the player).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agentgraph.app.backend import Backend, open_backend
from agentgraph.app.eventdata import display_name
from agentgraph.app.hub import ObservedSession, SessionHub
from agentgraph.audio import AudioFormat
from agentgraph.errors import UsageError
from agentgraph.transports.scripted import EventPump, FilePlayer
from agentgraph.transports.turns import raw_type
from agentgraph.transports.wav import WavTransport, load_caller_audio

__all__ = ["TestCase", "TestReport", "TestResult", "Turn", "load_tests", "run_test_file"]

_EXPECT_KEYS = frozenset({"tool_call", "handoff", "approval_requested", "guardrail_tripped",
                          "says", "within_ms", "no_tool_call"})


@dataclass
class Turn:
    """One caller turn and what must happen in the agent's answer."""

    user: str | None = None
    audio: Path | None = None
    say: str | None = None
    expect: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class TestCase:
    """A named scripted conversation."""

    __test__ = False  # not a pytest class

    name: str
    turns: list[Turn]
    mocks: dict[str, str] = field(default_factory=dict)
    operator_approves: bool = False


@dataclass
class TestResult:
    """The outcome of one test."""

    __test__ = False

    name: str
    failures: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    transcript: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class TestReport:
    """All results of one tests file."""

    __test__ = False

    file: Path
    graph: Path
    results: list[TestResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.passed for r in self.results) and bool(self.results)

    def summary_line(self) -> str:
        passed = sum(r.passed for r in self.results)
        failed = len(self.results) - passed
        total = sum(r.duration_s for r in self.results)
        return f"{passed} passed, {failed} failed in {total:.1f} s ({self.file})"

    def write_junit(self, path: Path) -> None:
        """Write JUnit XML (one testsuite, one testcase per test) for CI."""
        suite = ET.Element("testsuite", {
            "name": str(self.file), "tests": str(len(self.results)),
            "failures": str(sum(not r.passed for r in self.results)), "errors": "0",
            "time": f"{sum(r.duration_s for r in self.results):.3f}",
        })
        for result in self.results:
            case = ET.SubElement(suite, "testcase", {
                "classname": self.file.stem, "name": result.name,
                "time": f"{result.duration_s:.3f}",
            })
            if result.failures:
                failure = ET.SubElement(case, "failure", {"message": result.failures[0]})
                failure.text = "\n".join(result.failures)
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(result.transcript)
        root = ET.Element("testsuites")
        root.append(suite)
        path.parent.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def _fail(file: Path, where: str, message: str) -> UsageError:
    return UsageError(f"{file}: {where}: {message}")


def load_tests(path: Path) -> tuple[Path | None, list[TestCase]]:
    """Parse a tests file (safe YAML); returns (graph path or None, tests).

    Raises:
        UsageError: the file is not valid tests YAML (says where and what to write).
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"{path}: cannot read tests: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise _fail(path, "top level", "expected a mapping with `tests:` (a list of tests)")
    graph = data.get("graph")
    graph_path = (path.parent / str(graph)) if graph else None
    tests: list[TestCase] = []
    for i, raw in enumerate(data["tests"]):
        where = f"tests[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("turns"), list):
            raise _fail(path, where, "each test needs `name:` and `turns:` (a list)")
        name = str(raw.get("name") or f"test {i + 1}")
        mocks = raw.get("mocks") or {}
        if not isinstance(mocks, dict):
            raise _fail(path, f"{where}.mocks", "expected {tool_name: result}")
        operator = str(raw.get("operator", "reject"))
        if operator not in ("approve", "reject"):
            raise _fail(path, f"{where}.operator", "write `operator: approve` or `reject`")
        turns = [_turn(path, f"{where}.turns[{j}]", t) for j, t in enumerate(raw["turns"])]
        tests.append(TestCase(name, turns, {str(k): _as_output(v) for k, v in mocks.items()},
                              operator_approves=operator == "approve"))
    return graph_path, tests


def _as_output(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _turn(path: Path, where: str, raw: Any) -> Turn:
    if not isinstance(raw, dict) or ("user" in raw) == ("audio" in raw):
        raise _fail(path, where, "a turn is `user: text` or `audio: file.wav` (one of them)")
    expect_raw = raw.get("expect") or []
    if isinstance(expect_raw, dict):
        expect_raw = [{k: v} for k, v in expect_raw.items()]
    if not isinstance(expect_raw, list):
        raise _fail(path, f"{where}.expect", "expected a list of expectations")
    expect: list[tuple[str, Any]] = []
    for item in expect_raw:
        if isinstance(item, str):
            item = {item: True}
        if not isinstance(item, dict) or len(item) != 1:
            raise _fail(path, f"{where}.expect", f"each expectation is one key, got {item!r}")
        ((key, value),) = item.items()
        if key not in _EXPECT_KEYS:
            raise _fail(path, f"{where}.expect", f"unknown expectation {key!r}; use one of "
                        f"{', '.join(sorted(_EXPECT_KEYS))}")
        if key == "tool_call" and isinstance(value, str):
            value = {"name": value}
        if key == "tool_call" and not (isinstance(value, dict) and "name" in value):
            raise _fail(path, f"{where}.expect", "tool_call needs {name: ..., args: {...}}")
        if key == "within_ms" and not isinstance(value, int | float):
            raise _fail(path, f"{where}.expect", "within_ms needs a number of milliseconds")
        expect.append((str(key), value))
    audio: Path | None = None
    say: str | None = None
    if "audio" in raw:
        if isinstance(raw["audio"], dict):
            if not isinstance(raw["audio"].get("say"), str):
                raise _fail(path, f"{where}.audio", "write `audio: file.wav` or "
                            "`audio: {say: text to speak}`")
            say = raw["audio"]["say"]
        else:
            audio = path.parent / str(raw["audio"])
            if not audio.is_file():
                raise _fail(path, f"{where}.audio", f"file not found: {audio}")
    return Turn(user=str(raw["user"]) if "user" in raw else None, audio=audio, say=say,
                expect=expect)


def _apply_mocks(compiled: Any, mocks: dict[str, str]) -> list[str]:
    """Replace the named tools' results in every agent; returns names not found."""
    found: set[str] = set()
    for agent in compiled.agents.values():
        new_tools = []
        for tool in agent.tools:
            if tool.name in mocks:
                found.add(tool.name)
                tool = dataclasses.replace(tool, on_invoke_tool=_mock_invoke(mocks[tool.name]))
            new_tools.append(tool)
        agent.tools = new_tools
    return sorted(set(mocks) - found)


def _mock_invoke(output: str) -> Any:
    async def invoke(ctx: Any, arguments: str) -> str:
        return output

    return invoke


def _matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _matches(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, str) and isinstance(actual, str):
        return expected.strip().casefold() == actual.strip().casefold()
    if isinstance(expected, int | float) and isinstance(actual, str):
        return str(expected) == actual.strip()
    return bool(expected == actual)


class _Latencies:
    def __init__(self) -> None:
        self.values: list[float] = []

    def on_event(self, event: Any, now: float) -> None: ...
    def on_caller_text(self, text: str, now: float) -> None: ...
    def on_caller_audio(self, audio: bytes, now: float) -> None: ...
    def on_agent_played(self, agent: str, audio: bytes, now: float) -> None: ...

    def on_interrupted(self, item_id: str, heard_ms: float) -> None: ...

    def on_latency(self, agent: str, latency_ms: float) -> None:
        self.values.append(latency_ms)


def _function_calls(events: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    """Function calls the model made in these events (from raw output items)."""
    calls = []
    for e in events:
        if raw_type(e) != "response.output_item.done":
            continue
        data = e.data
        item = data.get("item") if isinstance(data, dict) else getattr(data, "item", None)
        if isinstance(item, dict) and item.get("type") == "function_call":
            try:
                args = json.loads(item.get("arguments") or "{}")
            except ValueError:
                args = {}
            calls.append((str(item.get("name", "")), args if isinstance(args, dict) else {}))
    return calls


def _approval_requests(events: list[Any], tools: dict[str, Any]) -> list[str]:
    """Tools that asked for an approval: operator requests, and calls whose policy asks
    the caller (the session then has the model put the question to the caller)."""
    asked = [e.tool_name for e in events if getattr(e, "type", "") == "tool_approval_required"]
    for name, args in _function_calls(events):
        tool = tools.get(name)
        policy = getattr(tool, "approval", None)
        if policy is not None and policy.by == "caller" and policy.applies(args):
            asked.append(name)
    return asked


def check_turn(expect: list[tuple[str, Any]], events: list[Any],
               latency_ms: float | None, tools: dict[str, Any] | None = None) -> list[str]:
    """The failed expectations of one turn, given its session events and latency.

    Args:
        expect: the turn's expectations.
        events: the session events of the turn (plus raw finished output items).
        latency_ms: the turn's latency, if agent audio (or text) came.
        tools: the graph's tools by name (to recognise approvals asked of the caller).
    """
    kinds = [getattr(e, "type", "") for e in events]
    calls = list(_function_calls(events))  # what the model called (run or not)
    for e in events:
        if getattr(e, "type", "") in ("tool_start", "tool_approval_required"):
            try:
                args = json.loads(e.arguments) if e.arguments else {}
            except ValueError:
                args = {}
            calls.append((e.tool_name, args))
    said = " ".join(e.transcript for e in events if getattr(e, "type", "") == "transcript_done")
    failures: list[str] = []
    for key, value in expect:
        if key == "tool_call":
            name, args = value["name"], value.get("args") or {}
            if not any(n == name and _matches(args, a) for n, a in calls):
                got = ", ".join(f"{n}({json.dumps(a)})" for n, a in calls) or "no tool call"
                failures.append(f"expected tool_call {name}({json.dumps(args)}); got {got}")
        elif key == "no_tool_call":  # no tool ran (asked-for calls that were refused are fine)
            real = [e.tool_name for e in events if getattr(e, "type", "") == "tool_start"]
            if value and real:
                failures.append(f"expected no tool call; got {', '.join(real)}")
        elif key == "handoff":
            targets = [display_name(e.to_agent) for e in events
                       if getattr(e, "type", "") == "handoff"]
            if value not in targets:
                failures.append(f"expected handoff to {value}; got "
                                f"{', '.join(targets) or 'no handoff'}")
        elif key == "approval_requested":
            asked = _approval_requests(events, tools or {})
            wanted = value if isinstance(value, str) else None
            if value is False and asked:
                failures.append(f"expected no approval request; got {', '.join(asked)}")
            elif value is not False and not (asked if wanted is None else wanted in asked):
                failures.append(f"expected an approval request{f' for {wanted}' if wanted else ''}"
                                f"; got {', '.join(asked) or 'none'}")
        elif key == "guardrail_tripped":
            tripped = [e.guardrail_name for e in events
                       if getattr(e, "type", "") == "guardrail_tripped"]
            wanted = value if isinstance(value, str) else None
            if value is False and tripped:
                failures.append(f"expected no guardrail trip; got {', '.join(tripped)}")
            elif value is not False and not (tripped if wanted is None else wanted in tripped):
                failures.append(f"expected guardrail {wanted or ''} to trip; got "
                                f"{', '.join(tripped) or 'none'}".replace("  ", " "))
        elif key == "says":
            if str(value).casefold() not in said.casefold():
                failures.append(f"expected the agent to say {str(value)!r}; it said "
                                f"{said.strip()!r}" if said.strip() else
                                f"expected the agent to say {str(value)!r}; it said nothing")
        elif key == "within_ms":
            if latency_ms is None:
                failures.append(f"expected an answer within {value} ms; no agent audio/text")
            elif latency_ms > float(value):
                failures.append(f"expected an answer within {value} ms; took "
                                f"{latency_ms:.0f} ms")
    if "error" in kinds:
        for e in events:
            if getattr(e, "type", "") == "error":
                message = e.error.get("message") if isinstance(e.error, dict) else e.error
                failures.append(f"session error: {message}")
    return failures


async def run_one(test: TestCase, graph: Path, backend: Backend, *,
                  answer_timeout_s: float = 60.0) -> TestResult:
    """Run one scripted conversation on its own session."""
    from agentgraph.app.run import load_compiled, session_config
    from agentgraph.realtime import RealtimePlaybackTracker, RealtimeRunner

    result = TestResult(test.name)
    started = time.perf_counter()
    compiled = load_compiled(graph)
    missing = _apply_mocks(compiled, test.mocks)
    if missing:
        result.failures.append(f"mocks name tools the graph does not have: {', '.join(missing)}")
        return result
    settings = (getattr(compiled, "run_config", None) or {}).get("model_settings") or {}
    fmt = AudioFormat.from_wire(settings.get("input_audio_format", "pcm16"))
    tools = {t.name: t for agent in compiled.agents.values() for t in agent.tools}
    loop = asyncio.get_running_loop()
    latencies = _Latencies()
    hub = SessionHub([latencies], clock=loop.time, audio_format=fmt)
    tracker = RealtimePlaybackTracker(fmt)
    runner = RealtimeRunner(compiled.starting_agent, config=session_config(compiled, fmt))
    model_config: dict[str, Any] = {"url": backend.url, "playback_tracker": tracker}
    if backend.api_key:
        model_config["api_key"] = backend.api_key
    session = await runner.run(model_config=model_config)
    async with session:
        observed = ObservedSession(session, hub)

        decisions: set[asyncio.Task[Any]] = set()

        def operator(event: Any) -> None:
            if getattr(event, "type", "") == "tool_approval_required":
                decide = (session.approve_tool_call(event.call_id) if test.operator_approves
                          else session.reject_tool_call(event.call_id, "The operator said no."))
                task = loop.create_task(decide)
                decisions.add(task)
                task.add_done_callback(decisions.discard)

        hub.event_listeners.append(operator)
        player = FilePlayer(None, audio_format=fmt, tracker=hub.tracker(tracker), fast=True)
        pump = EventPump(observed, player)
        pump.start()
        sender = WavTransport(None, fast=True, audio_format=fmt, trailing_silence_ms=1500)
        try:
            for i, turn in enumerate(test.turns, 1):
                first = len(pump.events)
                before = len(latencies.values)
                if turn.user is not None:
                    result.transcript.append(f"caller: {turn.user}")
                    await observed.send_message(turn.user)
                else:
                    if turn.say is not None:
                        result.transcript.append(f"caller (spoken): {turn.say}")
                        audio = synthesize_caller(turn.say, fmt)
                    else:
                        assert turn.audio is not None
                        result.transcript.append(f"caller: <{turn.audio.name}>")
                        audio = load_caller_audio(turn.audio, fmt)
                    await sender.send_caller_audio(observed, audio)
                pump.caller_turn()
                answered = await pump.wait_answered(timeout_s=answer_timeout_s,
                                                    no_answer_s=min(20.0, answer_timeout_s))
                events = pump.events[first:]
                for e in events:
                    kind = getattr(e, "type", "")
                    if kind == "transcript_done" and e.transcript.strip():
                        result.transcript.append(f"agent: {e.transcript.strip()}")
                    elif kind == "input_transcript_done" and e.transcript.strip():
                        result.transcript.append(f"caller (heard): {e.transcript.strip()}")
                    elif kind == "tool_start":
                        result.transcript.append(f"  tool: {e.tool_name}({e.arguments})")
                    elif kind == "handoff":
                        result.transcript.append(f"  handoff: {display_name(e.from_agent)} -> "
                                                 f"{display_name(e.to_agent)}")
                    elif kind == "guardrail_tripped":
                        result.transcript.append(f"  guardrail tripped: {e.guardrail_name}")
                    elif kind == "tool_approval_required":
                        result.transcript.append(f"  operator asked: {e.message}")
                latency = latencies.values[before] if len(latencies.values) > before else None
                failures = check_turn(turn.expect, events, latency, tools)
                if not answered and not failures:
                    failures.append("the agent did not finish answering in time")
                result.failures.extend(f"turn {i}: {f}" for f in failures)
                if pump.ended:
                    break
        finally:
            await pump.stop()
            await player.close()
    result.duration_s = time.perf_counter() - started
    return result


def synthesize_caller(text: str, fmt: AudioFormat) -> bytes:
    """Caller speech for `audio: {say: ...}`: the engine's TTS in a voice no agent uses by
    default, with a quiet noise floor (a real line is never digitally silent)."""
    import numpy as np

    from agentgraph.audio import pcm16_to_alaw, pcm16_to_ulaw, resample_pcm16
    from agentgraph.engine.tts.espeak import EspeakSynthesizer

    pcm = EspeakSynthesizer("echo").synthesize_pcm24(text)
    lead = bytes(2 * 24000 // 5)  # 200 ms before the words, as on a real line
    samples = np.frombuffer(lead + pcm, dtype="<i2").astype(np.float64)
    noise = np.random.default_rng(len(text)).normal(0, 30, samples.size)
    pcm = np.clip(samples + noise, -32768, 32767).astype("<i2").tobytes()
    if fmt is AudioFormat.PCM16:
        return pcm
    narrow = resample_pcm16(pcm, 24000, 8000)
    return pcm16_to_ulaw(narrow) if fmt is AudioFormat.G711_ULAW else pcm16_to_alaw(narrow)


async def run_test_file(
    path: Path, *, graph: Path | None = None, provider: str = "local",
    select: str | None = None, verbose: bool = False,
) -> TestReport:
    """Run every test of a tests file and print one line per test (and failures)."""
    import click

    graph_in_file, tests = load_tests(path)
    graph_path = graph or graph_in_file
    if graph_path is None:
        raise UsageError(f"{path}: say which graph to test (`graph: file.yaml` or --graph)")
    if not graph_path.is_file():
        raise UsageError(f"{path}: graph file not found: {graph_path}")
    from agentgraph.app.run import load_compiled

    compiled = load_compiled(graph_path)  # findings now, before any engine starts
    if select:
        tests = [t for t in tests if select in t.name]
    report = TestReport(path, graph_path)
    # Tests don't listen in real time: let the engine release reply audio much faster.
    async with open_backend(compiled.model, force_provider=provider,
                            engine_options={"realtime_factor": 50.0}) as backend:
        for test in tests:
            result = await run_one(test, graph_path, backend)
            report.results.append(result)
            mark = "PASS" if result.passed else "FAIL"
            click.echo(f"{mark} {test.name} ({result.duration_s:.1f} s)")
            if verbose or not result.passed:
                for line in result.transcript:
                    click.echo(f"    {line}")
            for failure in result.failures:
                click.echo(f"    - {failure}")
    return report
