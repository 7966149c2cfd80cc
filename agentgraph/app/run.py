"""`agentgraph run`: one graph + one model backend + one transport = a live session.

Steps: load and compile the graph (errors come back as findings), build the transport
first (so a missing microphone fails before anything starts), choose the backend (one
console line says which), start the session with the transport's audio format and the
graph's model settings, and let the transport carry the conversation while the hub shows
it on the console and writes the session records. `--watch` reloads the graph on save.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from agentgraph.app.approvals import OperatorApprovals
from agentgraph.app.backend import Backend, connect_failure, open_backend
from agentgraph.app.console import ConsoleMode, ConsoleRenderer
from agentgraph.app.eventdata import redact_logs
from agentgraph.app.hub import ObservedSession, SessionHub
from agentgraph.app.records import SessionRecorder, new_run_dir
from agentgraph.app.shutdown import interrupt_on_termination
from agentgraph.audio import AudioFormat
from agentgraph.errors import ConnectionClosed
from agentgraph.transports.base import Transport
from agentgraph.transports.console import StdinLines

__all__ = [
    "RunOptions",
    "RunResult",
    "build_transport",
    "graph_files",
    "load_compiled",
    "load_spec",
    "run_app",
    "session_config",
]


@dataclass
class RunOptions:
    """Everything `agentgraph run` was asked to do."""

    graph: Path
    say: list[str] = field(default_factory=list)
    text: bool = False
    input_path: Path | None = None
    output_path: Path | None = None
    fast: bool = False
    input_device: str | None = None
    output_device: str | None = None
    console: ConsoleMode = "text"
    log_dir: Path | None = None
    no_records: bool = False
    record: bool = False
    watch: bool = False
    provider: str | None = None
    approval_timeout_s: float = 60.0
    answer_timeout_s: float = 120.0


@dataclass
class RunResult:
    """What a run did (the CLI turns it into an exit code)."""

    run_dir: Path | None = None
    answered: bool = True
    backend: Backend | None = None
    summary: dict[str, Any] = field(default_factory=dict)


def load_compiled(path: Path) -> Any:
    """Load, validate and compile a graph file (raises `SpecError` with findings)."""
    return load_spec(path)[1]


def load_spec(path: Path) -> tuple[Any, Any]:
    """`(spec, compiled)` for a graph file (raises `SpecError` with findings)."""
    from agentgraph.compile import compile_graph
    from agentgraph.spec import load_graph

    spec = load_graph(path)
    return spec, compile_graph(spec)


def graph_files(path: Path, spec: Any) -> list[Path]:
    """The graph file and the prompt files it reads (what `--watch` watches)."""
    files = [path]
    for agent in spec.graph.agents.values():
        prompt = getattr(agent.instructions, "file", None)
        if isinstance(prompt, str):
            files.append(Path(spec.base_dir) / prompt)
    return files


def build_transport(opts: RunOptions, *, manual_turns: bool) -> Transport:
    """The transport the flags ask for: text, WAV files, or microphone and speaker."""
    if opts.say or opts.text:
        from agentgraph.transports.console import TextTransport

        return TextTransport(
            # typed turns have no caller audio to barge in with: write replies as they come
            opts.say or None,
            output_path=opts.output_path,
            fast=True,
            answer_timeout_s=opts.answer_timeout_s,
        )
    if opts.input_path is not None or opts.output_path is not None:
        from agentgraph.transports.wav import WavTransport

        return WavTransport(
            opts.input_path,
            opts.output_path,
            fast=opts.fast,
            manual_turns=manual_turns,
            answer_timeout_s=opts.answer_timeout_s,
        )
    from agentgraph.transports.local import LocalAudioTransport

    return LocalAudioTransport(
        input_device=opts.input_device, output_device=opts.output_device, manual_turns=manual_turns
    )


def session_config(
    compiled: Any, audio_format: AudioFormat, *, local: bool = False
) -> dict[str, Any]:
    """The `RealtimeRunConfig` for a compiled graph and a transport's audio format.

    `local` (the embedded engine): input transcription is always asked for, so the
    console shows what the engine heard whatever the graph says (it costs nothing there).
    """
    config = dict(getattr(compiled, "run_config", None) or {})
    settings = dict(config.get("model_settings") or {})
    if local and not (settings.get("input_audio_transcription") or settings.get("transcription")):
        settings["input_audio_transcription"] = {"model": "agentgraph-local"}
    settings["input_audio_format"] = audio_format.value
    settings["output_audio_format"] = audio_format.value
    config["model_settings"] = settings
    return config


def _manual_turns(compiled: Any) -> bool:
    settings = (getattr(compiled, "run_config", None) or {}).get("model_settings") or {}
    return "turn_detection" in settings and settings["turn_detection"] is None


def _transcribes(compiled: Any) -> bool:
    settings = (getattr(compiled, "run_config", None) or {}).get("model_settings") or {}
    return bool(settings.get("input_audio_transcription") or settings.get("transcription"))


def _text_only(compiled: Any) -> bool:
    settings = (getattr(compiled, "run_config", None) or {}).get("model_settings") or {}
    modalities = settings.get("modalities") or settings.get("output_modalities") or ["audio"]
    return "audio" not in modalities


async def run_app(opts: RunOptions, *, out: TextIO | None = None) -> RunResult:
    """Run one session as `opts` says; returns when the conversation ends."""
    out = out if out is not None else sys.stdout
    spec, compiled = load_spec(opts.graph)
    restore_signals = interrupt_on_termination()  # SIGTERM/SIGHUP close records like Ctrl-C
    secrets = frozenset(getattr(spec, "secrets", ()) or ())
    redact_logs(secrets)  # warnings and tracebacks in the log never show a secret
    transport = build_transport(opts, manual_turns=_manual_turns(compiled))
    console = ConsoleRenderer(
        opts.console, out=out, secrets=secrets, caller_transcripts=_transcribes(compiled)
    )
    result = RunResult()
    loop = asyncio.get_running_loop()
    async with open_backend(compiled.model, force_provider=opts.provider) as backend:
        result.backend = backend
        console.note(backend.describe())
        if backend.provider == "local":
            console.caller_transcripts = True  # session_config asks the engine for them
        hub = SessionHub(
            [console],
            clock=loop.time,
            text_only=_text_only(compiled),
            audio_format=transport.audio_format,
        )
        recorder: SessionRecorder | None = None
        if not opts.no_records:
            if opts.log_dir is not None:  # --log-dir DIR: this run's records go in DIR
                result.run_dir = opts.log_dir  # (the recorder creates it, or warns)
            else:
                result.run_dir = new_run_dir(Path("runs"))
            recorder = SessionRecorder(
                result.run_dir,
                latency=hub.latency,
                record_audio=opts.record,
                audio_format=transport.audio_format,
                secrets=secrets,
                meta={
                    "graph": str(opts.graph),
                    "provider": backend.provider,
                    "model": backend.model_name,
                },
            )
            hub.observers.append(recorder)
        try:
            await _run_session(opts, spec, compiled, backend, transport, hub, console)
        except ConnectionClosed as exc:  # unreachable or refused: say what to do instead
            raise connect_failure(backend, exc) from None
        finally:
            restore_signals()
            if recorder is not None:
                recorder.close()
                result.summary = recorder.summary()
                console.note(f"records: {result.run_dir}")
    result.answered = not getattr(transport, "unanswered", []) and getattr(
        transport, "answered", True
    )
    return result


async def _run_session(
    opts: RunOptions,
    spec: Any,
    compiled: Any,
    backend: Backend,
    transport: Transport,
    hub: SessionHub,
    console: ConsoleRenderer,
) -> None:
    from agentgraph.realtime import RealtimePlaybackTracker, RealtimeRunner

    tracker = RealtimePlaybackTracker(transport.audio_format)
    transport.playback_tracker = hub.tracker(tracker)
    runner = RealtimeRunner(
        compiled.starting_agent,
        config=session_config(compiled, transport.audio_format, local=backend.provider == "local"),
    )
    model_config: dict[str, Any] = {"url": backend.url, "playback_tracker": tracker}
    if backend.api_key:
        model_config["api_key"] = backend.api_key
    session = await runner.run(model_config=model_config)
    lines = getattr(transport, "source", None)
    approvals: OperatorApprovals | None = None
    watcher: Any = None
    async with session:
        if lines is None:
            lines = StdinLines()
            if hasattr(transport, "source"):
                transport.source = lines
        approvals = OperatorApprovals(
            session,
            lines,
            out=console.out if opts.console != "json" else sys.stderr,
            timeout_s=opts.approval_timeout_s,
        )
        hub.event_listeners.append(approvals.on_event)
        if getattr(transport, "manual_turns", False) and opts.input_path is None:
            console.note("turn detection is off: press Enter to end your turn, Ctrl-D to stop")
        if opts.watch:
            from agentgraph.app.watch import GraphWatcher

            start_name = compiled.starting_agent.name
            watcher = GraphWatcher(
                opts.graph,
                session,
                compiled,
                note=console.note,
                current_agent=lambda: hub.agent_name or start_name,
                files=graph_files(opts.graph, spec),
            )
            watcher.start()
        try:
            await transport.run(ObservedSession(session, hub))
        finally:
            if watcher is not None:
                await watcher.stop()
            await approvals.close()
