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
`tool_call` matches what the model called, even if an approval then refused it).
Operator approvals are answered by the test's `operator: approve | reject` (default
reject). Loading and judging live in `agentgraph.app.testcases`. Each test gets a
fresh session (and freshly compiled graph, so mocks don't leak) on one embedded engine
started for the file. Latency is measured like `agentgraph run` measures it (caller turn
end -> first agent audio handed to the player).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Any

from agentgraph.app.backend import Backend, open_backend
from agentgraph.app.eventdata import display_name, redact_secrets, redact_text
from agentgraph.app.hub import ObservedSession, SessionHub
from agentgraph.app.testcases import TestCase, TestReport, TestResult, check_turn, load_tests
from agentgraph.audio import AudioFormat
from agentgraph.errors import UsageError
from agentgraph.transports.scripted import EventPump, FilePlayer
from agentgraph.transports.wav import WavTransport, load_caller_audio

__all__ = ["run_one", "run_test_file", "synthesize_caller"]


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


async def run_one(
    test: TestCase, graph: Path, backend: Backend, *, answer_timeout_s: float = 60.0
) -> TestResult:
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
                decide = (
                    session.approve_tool_call(event.call_id)
                    if test.operator_approves
                    else session.reject_tool_call(event.call_id, "The operator said no.")
                )
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
                answered = await pump.wait_answered(
                    timeout_s=answer_timeout_s, no_answer_s=min(20.0, answer_timeout_s)
                )
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
                        result.transcript.append(
                            f"  handoff: {display_name(e.from_agent)} -> {display_name(e.to_agent)}"
                        )
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
    return redact_result(result, frozenset(getattr(compiled.spec, "secrets", ()) or ()))


def redact_result(result: TestResult, secrets: frozenset[str]) -> TestResult:
    """Mask secrets in a result's lines before anything prints or serialises them (the
    console, JUnit XML): a tool's arguments or an expectation may quote one."""
    result.transcript[:] = [redact_secrets(redact_text(t), secrets) for t in result.transcript]
    result.failures[:] = [redact_secrets(redact_text(f), secrets) for f in result.failures]
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
    path: Path,
    *,
    graph: Path | None = None,
    provider: str = "local",
    select: str | None = None,
    verbose: bool = False,
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
    async with open_backend(
        compiled.model, force_provider=provider, engine_options={"realtime_factor": 50.0}
    ) as backend:
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
