"""Serve phone calls for a graph: one realtime session per call (`agentgraph serve`).

Direct SIP (the graph's `sip` section: listen, allow, max_calls, routes) always runs;
`--openai-sip` adds the OpenAI SIP connector's webhook and `--media-streams` a
Twilio-style media-streams websocket. The model is the embedded engine unless the graph
(or OPENAI_API_KEY) says OpenAI. `--loopback` echoes callers instead (SIP+RTP only).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from agentgraph.app.eventdata import redact_logs
from agentgraph.errors import UsageError

__all__ = ["ServeOptions", "serve_graph"]

ENGINE_NICE = 5


@dataclass
class ServeOptions:
    """What `agentgraph serve` was asked to do."""

    graph: Path | None
    listen: str | None = None
    advertise: str | None = None
    rtp_ports: str | None = None
    metrics: str | None = None  # HOST:PORT for Prometheus metrics
    drain_timeout_s: float = 600.0  # after SIGTERM, end calls still going after this
    max_calls: int | None = None
    provider: str | None = None
    loopback: bool = False
    openai_sip: bool = False
    media_streams: str | None = None
    engine_process: bool = True
    stats_path: Path | None = None
    duration_s: float | None = None
    quiet: bool = False
    operator: str = "deny"
    records_dir: Path | None = None  # per-call records go here (default runs/<timestamp>/)
    no_records: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _host_port(text: str, what: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise UsageError(f"{what} must be HOST:PORT (e.g. 127.0.0.1:5060), not {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _advertised(opts: ServeOptions, sip: Any, host: str) -> str:
    """The address for Via, Contact and SDP: a literal IP callers can reach."""
    advertise = opts.advertise or (getattr(sip, "advertise", None) if sip is not None else None)
    if advertise:
        try:
            ipaddress.ip_address(advertise)
        except ValueError:
            raise UsageError(
                f"advertise must be an IP address callers can reach, not {advertise!r}"
            ) from None
        return str(advertise)
    if host in ("0.0.0.0", "::", ""):
        raise UsageError(
            f"listening on {host or 'every address'} needs the address callers reach: set "
            "`sip: {advertise: <public IP>}` in the graph or pass --advertise IP"
        )
    return ""


def _port_range(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    first, sep, last = text.partition("-")
    if not sep or not first.isdigit() or not last.isdigit():
        raise UsageError(f"the RTP port range must be FIRST-LAST (e.g. 10000-20000), not {text!r}")
    lo, hi = int(first), int(last)
    if not 1024 <= lo < hi <= 65535:
        raise UsageError(f"the RTP port range {text} must lie within 1024-65535, low to high")
    return lo, hi


def _printer(quiet: bool, secrets: frozenset[str] = frozenset()) -> Any:
    from agentgraph.app.eventdata import redact_secrets, redact_text

    def on_event(call_id: str, event: Any) -> None:
        kind = getattr(event, "type", "")
        short = call_id[:12]
        if kind == "tool_start":
            line = f"[{short}] tool {event.tool_name}({event.arguments})"
        elif kind == "tool_end":
            line = f"[{short}] tool {event.tool_name} -> {str(event.output)[:120]}"
        elif kind == "handoff":
            line = f"[{short}] handoff {event.from_agent.name} -> {event.to_agent.name}"
        elif kind == "input_transcript_done" and not quiet:
            line = f"[{short}] caller: {event.transcript}"
        elif kind == "transcript_done" and not quiet:
            line = f"[{short}] agent: {event.transcript}"
        elif kind == "tool_approval_required":
            line = f"[{short}] approval needed: {event.message}"
        else:
            return
        click.echo(redact_secrets(redact_text(line), secrets), err=True)

    return on_event


async def serve_graph(
    opts: ServeOptions,
    *,
    ready: asyncio.Future[Any] | None = None,
    stop: asyncio.Event | None = None,
    on_event: Any = None,
) -> dict[str, Any]:
    """Serve calls until `stop` is set (or SIGINT, or `duration_s`).

    SIGTERM drains: OPTIONS and new INVITEs get 503 (a proxy sends calls elsewhere),
    current calls go on; serving stops when the last one ends, at `drain_timeout_s`, or
    at a second SIGTERM (then the calls left get a BYE).

    Args:
        opts: the command-line options.
        ready: set to the `SipServer` once it listens (tests use its address).
        stop: set it to shut down cleanly.
        on_event: `(call_id, session_event)` observer; default prints tool calls etc.

    Returns:
        Stats: calls completed/failed and RTP send timing.
    """
    from agentgraph.transports.sip.events import SipConfig
    from agentgraph.transports.sip.server import SipServer, loopback_handler

    stop = stop or asyncio.Event()
    tool_calls: dict[str, int] = {}
    agent_audio: dict[str, int] = {}
    loop = asyncio.get_running_loop()
    compiled = None
    if opts.graph is not None:
        from agentgraph.app.run import load_compiled

        compiled = load_compiled(opts.graph)
    sip = getattr(compiled, "sip", None)
    if opts.listen:
        host, port = _host_port(opts.listen, "--listen")
    elif sip is not None:
        host, port = sip.host, sip.port
    else:
        host, port = "127.0.0.1", 5060
    rate = float(getattr(sip, "rate_limit", 200))
    config = SipConfig(
        host=host,
        port=port,
        advertise=_advertised(opts, sip, host),
        max_calls=opts.max_calls or (sip.max_calls if sip is not None else 100),
        allow=tuple(sip.allow) if sip is not None else (),
        codecs=tuple(c.upper() for c in sip.codecs) if sip is not None else ("PCMU", "PCMA"),
        rate_per_s=rate,
        rate_burst=2 * rate,
        tls_port=getattr(getattr(sip, "tls", None), "port", 0) or 0,
        auth=tuple((u.user, u.secret) for u in getattr(sip, "auth", None) or ()),
        srtp=str(getattr(sip, "srtp", "off")),
    )
    rtp_ports = _port_range(opts.rtp_ports or getattr(sip, "rtp_ports", None))
    async with contextlib.AsyncExitStack() as stack:
        if opts.loopback or compiled is None:
            handler = loopback_handler
            sessions = None
            mode = "loopback (callers hear themselves)"
        else:
            from agentgraph.transports.sip.sessions import CallSessions

            url, api_key, mode = await _model_backend(opts, compiled, stack)
            secrets = frozenset(getattr(getattr(compiled, "spec", None), "secrets", ()) or ())
            redact_logs(secrets)  # log lines (session failures etc.) never show a secret
            observer = on_event or _printer(opts.quiet, secrets)
            records = _call_records(opts, secrets, loop, stack)

            def counted(call_id: str, event: Any) -> None:
                kind = getattr(event, "type", "")
                if kind == "tool_end":
                    tool_calls[call_id] = tool_calls.get(call_id, 0) + 1
                elif kind == "audio_delta":
                    agent_audio[call_id] = agent_audio.get(call_id, 0) + len(event.audio)
                if records is not None:
                    records.on_event(call_id, event)
                observer(call_id, event)

            sessions = CallSessions(
                agents=compiled.agents,
                start_agent=compiled.starting_agent.name,
                routes=dict(sip.routes) if sip is not None else {},
                run_config=compiled.run_config,
                url=url,
                api_key=api_key,
                on_event=counted,
                listeners=_approvals(opts.operator),
            )
            handler = sessions.handle_sip_call
        prepare = sessions.prepare_sip_call if sessions is not None else None
        metrics = _metrics(opts, stack)
        server = await stack.enter_async_context(
            SipServer(
                config,
                on_call=handler,
                prepare=prepare,
                rtp_ports=rtp_ports,
                on_call_end=metrics.on_call_end if metrics is not None else None,
                tcp=bool(getattr(sip, "tcp", False)),
                tls=_tls_context(opts, sip),
            )
        )
        if metrics is not None:
            metrics.server = server
            if sessions is not None:
                sessions.on_event = _both(sessions.on_event, metrics.on_event)
        sip_host, sip_port = server.address
        public = f" (advertised as {config.advertise})" if config.advertise else ""
        click.echo(f"agentgraph serve: SIP on udp {sip_host}:{sip_port}{public}, {mode}", err=True)
        trunk = getattr(sip, "trunk", None)
        if trunk is not None and trunk.registration and not opts.loopback:
            _register(server, trunk)
        if opts.openai_sip or opts.media_streams:
            await _start_extras(opts, compiled, sessions, stack)
        drained = asyncio.Event()

        def on_sigterm() -> None:
            if server.draining:
                click.echo("agentgraph serve: second SIGTERM, ending the calls", err=True)
                stop.set()
                return
            server.drain()
            click.echo(
                f"agentgraph serve: draining ({len(server.calls)} calls to finish; "
                "SIGTERM again ends them)",
                err=True,
            )
            drained.set()

        watch = asyncio.ensure_future(_stop_when_drained(server, drained, stop, opts))
        stack.callback(watch.cancel)
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, stop.set)
            loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        # Everything loaded so far lives as long as the server: keep it out of the cyclic
        # GC, whose full passes over it would stall the 20 ms RTP clock.
        gc.collect()
        gc.freeze()
        if ready is not None and not ready.done():
            ready.set_result(server)
        try:
            if opts.duration_s:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), opts.duration_s)
            else:
                await stop.wait()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
        for call in list(server.calls.values()):  # stopped before they ended: BYE now
            call.hangup_now()
        sessions_done = sessions.completed if sessions is not None else 0
        stats = {
            "sessions_completed": sessions_done,
            "calls_with_tool_call": len(tool_calls),
            "tool_calls": sum(tool_calls.values()),
            "calls_with_agent_audio": len(agent_audio),
            "calls_answered": server.answered_calls,
            "calls_completed": server.completed_calls,
            "calls_failed": server.failed_calls,
            "calls_refused": {**server.core.refused, "no model": server.refused_unprepared},
            "calls_active_at_exit": len(server.calls),
            "rtp_packets_sent": server.rtp_packets_sent,
            "rtp_packets_received": server.rtp_packets_received,
            "rtp_packets_timed": server.timing.count,
            "rtp_send_jitter_ms": {
                "p50": server.timing.percentile_ms(0.50),
                "p99": server.timing.percentile_ms(0.99),
                "max": round(server.timing.max_s * 1000, 2),
            },
        }
    if opts.stats_path is not None:
        opts.stats_path.write_text(json.dumps(stats, indent=2) + "\n")
    return stats


def _call_records(
    opts: ServeOptions,
    secrets: frozenset[str],
    loop: asyncio.AbstractEventLoop,
    stack: contextlib.AsyncExitStack,
) -> Any:
    """Per-call records (as `run` writes them), closed when serving stops."""
    if opts.no_records:
        return None
    from agentgraph.app.records import CallRecords, new_run_dir

    directory = opts.records_dir or new_run_dir(Path("runs"))
    records = CallRecords(
        directory, clock=loop.time, secrets=secrets, meta={"graph": str(opts.graph)}
    )
    stack.callback(records.close)
    click.echo(f"agentgraph serve: records per call in {directory}", err=True)
    return records


def _tls_context(opts: ServeOptions, sip: Any) -> Any:
    """The server TLS context of `sip.tls` (files relative to the graph), or None."""
    tls = getattr(sip, "tls", None)
    if tls is None:
        return None
    from agentgraph.transports.sip.stream import server_tls_context

    base = opts.graph.parent if opts.graph is not None else Path(".")
    try:
        return server_tls_context(str(base / tls.cert), str(base / tls.key))
    except (OSError, ValueError) as exc:
        raise UsageError(f"sip.tls: cannot load {tls.cert} / {tls.key}: {exc}") from exc


def _register(server: Any, trunk: Any) -> None:
    """REGISTER with the graph's trunk (refreshed by the SIP core while we serve)."""
    from agentgraph.app.call import resolve_address

    registrar = resolve_address(trunk.address, "the trunk")
    aor = f"sip:{trunk.user or 'agentgraph'}@{trunk.domain or trunk.address.rpartition(':')[0]}"
    credentials = (trunk.user, trunk.secret) if trunk.user and trunk.secret is not None else None
    server.register(aor, registrar, credentials=credentials, expires_s=trunk.expires)
    click.echo(f"agentgraph serve: registering {aor} at {trunk.address}", err=True)


def _metrics(opts: ServeOptions, stack: contextlib.AsyncExitStack) -> Any:
    """Prometheus metrics on `--metrics HOST:PORT`, or None."""
    if not opts.metrics:
        return None
    from agentgraph.app.serve_metrics import ServeMetrics

    host, port = _host_port(opts.metrics, "--metrics")
    metrics = ServeMetrics()
    httpd, bound = metrics.start_http(host, port)
    stack.callback(httpd.server_close)
    stack.callback(httpd.shutdown)
    metrics.port = bound
    click.echo(f"agentgraph serve: metrics on http://{host}:{bound}/metrics", err=True)
    return metrics


def _both(first: Any, second: Any) -> Any:
    def observe(call_id: str, event: Any) -> None:
        if first is not None:
            first(call_id, event)
        second(call_id, event)

    return observe


async def _stop_when_drained(
    server: Any, drained: asyncio.Event, stop: asyncio.Event, opts: ServeOptions
) -> None:
    await drained.wait()
    try:
        await asyncio.wait_for(server.wait_idle(), opts.drain_timeout_s)
        click.echo("agentgraph serve: drained, every call finished", err=True)
    except TimeoutError:
        click.echo(
            f"agentgraph serve: drain deadline ({opts.drain_timeout_s:g} s), ending the calls",
            err=True,
        )
    stop.set()


async def _model_backend(
    opts: ServeOptions, compiled: Any, stack: contextlib.AsyncExitStack
) -> tuple[str, str | None, str]:
    """(url, api key, console line) of the model; the embedded engine gets its own
    process by default so speech recognition and synthesis never stall the RTP clock."""
    from agentgraph.app.backend import choose_provider, open_backend

    model = compiled.model
    if opts.provider:
        provider = opts.provider
    else:
        provider, _ = choose_provider(model, os.environ)
    if provider == "local" and not getattr(model, "base_url", None) and opts.engine_process:
        url = await stack.enter_async_context(_engine_process())
        # the engine wants a bearer token but checks none: any placeholder will do
        return url, "local", f"model: embedded offline engine in its own process at {url}"
    backend = await stack.enter_async_context(open_backend(model, force_provider=opts.provider))
    return backend.url, backend.api_key, backend.describe()


@contextlib.asynccontextmanager
async def _engine_process(timeout_s: float = 60.0) -> AsyncIterator[str]:
    """Run `agentgraph engine serve --port 0` as a child process; yield its URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "agentgraph",
        "engine",
        "serve",
        "--port",
        "0",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        # its own process group: the engine's recognition workers are stopped with it
        start_new_session=True,
    )
    assert proc.stderr is not None
    # Media is real time, speech work is best effort: under load the RTP clock must win
    # the CPU. The engine's workers, spawned later, inherit this niceness.
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, proc.pid, ENGINE_NICE)
    drain: asyncio.Future[Any] | None = None
    try:
        lines: list[str] = []

        async def find_url() -> str:
            assert proc.stderr is not None
            while line := (await proc.stderr.readline()).decode(errors="replace"):
                lines.append(line.rstrip())
                found = re.search(r"serving (wss?://\S+?)(\?|\s)", line)
                if found:
                    return found.group(1)
            raise UsageError("the embedded engine did not start: " + " / ".join(lines[-3:]))

        try:
            url = await asyncio.wait_for(find_url(), timeout_s)
        except TimeoutError:
            raise UsageError("the embedded engine did not start within a minute") from None

        async def drain_stderr() -> None:  # keep the pipe from filling up
            assert proc.stderr is not None
            while await proc.stderr.readline():
                pass

        drain = asyncio.ensure_future(drain_stderr())
        yield url
    finally:
        await _stop_group(proc)
        # read the pipe to its end so asyncio closes the child's transport now, not in
        # some later garbage collection after the loop is gone
        if drain is None:
            drain = asyncio.ensure_future(proc.stderr.read())
        try:
            await asyncio.wait_for(drain, 5)
        except TimeoutError:
            drain.cancel()


def _approvals(mode: str) -> Any:
    """Who answers `by: operator` approvals: nobody (deny), everyone (approve), or the
    person at this console (ask: one prompt at a time on stderr, answered `y ID` on stdin)."""
    from agentgraph.transports.sip.sessions import auto_approvals

    if mode != "ask":
        return auto_approvals(mode)
    from agentgraph.app.approvals import OperatorApprovals, OperatorDesk
    from agentgraph.transports.console import StdinLines

    desks: list[OperatorDesk] = []  # one desk for every call: answers name its ids

    def factory(call_id: str, session: Any) -> Any:
        if not desks:
            desks.append(OperatorDesk(StdinLines(), out=sys.stderr))
        return OperatorApprovals(session, desks[0].lines, desk=desks[0]).on_event

    return factory


async def _stop_group(proc: asyncio.subprocess.Process) -> None:
    """Ctrl-C the engine's process group (it shuts down cleanly), then kill what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(proc.wait(), 5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # workers and resource tracker, if still alive
    await proc.wait()


async def _start_extras(
    opts: ServeOptions, compiled: Any, sessions: Any, stack: contextlib.AsyncExitStack
) -> None:
    if sessions is None:
        raise UsageError("--openai-sip and --media-streams need a graph (not --loopback)")
    if opts.media_streams:
        from agentgraph.transports.media_streams import MediaStreamAuth, MediaStreamServer

        host, port = _host_port(opts.media_streams, "--media-streams")
        sip = getattr(compiled, "sip", None)
        ms_auth = getattr(sip, "media_streams", None)  # sip.media_streams: token / twilio
        auth = MediaStreamAuth(
            token=getattr(ms_auth, "token", None),
            twilio_auth_token=getattr(ms_auth, "twilio_auth_token", None),
            public_url=getattr(ms_auth, "public_url", None),
        )
        max_calls = opts.max_calls or (sip.max_calls if sip is not None else 100)
        ms = await stack.enter_async_context(
            MediaStreamServer(sessions, host=host, port=port, max_calls=max_calls, auth=auth)
        )
        click.echo(f"agentgraph serve: media streams on {ms.url}", err=True)
    if opts.openai_sip:
        from agentgraph.transports.openai_sip.server import OpenAISipConnector

        settings = getattr(getattr(compiled, "sip", None), "openai", None)
        if settings is None:
            raise UsageError(
                "--openai-sip needs `sip: {openai: {webhook_secret: ...}}` in the graph"
            )
        connector = await stack.enter_async_context(
            OpenAISipConnector.from_settings(settings, sessions, compiled=compiled)
        )
        click.echo(f"agentgraph serve: OpenAI SIP webhook on {connector.url}", err=True)
