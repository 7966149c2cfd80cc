"""`agentgraph serve graph.yaml`: flags in, `agentgraph.app.serve` does the work."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from agentgraph.app.serve import ServeOptions, serve_graph
from agentgraph.errors import UsageError

__all__ = ["serve"]


@click.command()
@click.argument("graph", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--listen", metavar="HOST:PORT", help="SIP UDP address (default: the graph's).")
@click.option(
    "--advertise",
    metavar="IP",
    help="Address callers reach (public/NAT) for Via, Contact and SDP (default: the graph's).",
)
@click.option("--rtp-ports", metavar="FIRST-LAST", help="RTP port range (default: the graph's).")
@click.option("--max-calls", type=click.IntRange(1, 10000), help="Concurrent calls (503 beyond).")
@click.option(
    "--provider",
    type=click.Choice(["local", "openai"]),
    help="Override the graph's model provider.",
)
@click.option("--loopback", is_flag=True, help="Echo callers back (test SIP+RTP, no model).")
@click.option(
    "--engine-inproc",
    is_flag=True,
    help="Run the embedded engine inside this process (default: its own process).",
)
@click.option(
    "--openai-sip", is_flag=True, help="Also accept calls from OpenAI's SIP connector (webhook)."
)
@click.option(
    "--media-streams",
    metavar="HOST:PORT",
    help="Also accept Twilio-style media streams on this websocket address.",
)
@click.option(
    "--stats",
    "stats_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write call and RTP timing stats as JSON here on exit.",
)
@click.option(
    "--operator",
    type=click.Choice(["deny", "approve", "ask"]),
    default="deny",
    show_default=True,
    help="Answer `by: operator` approvals (e.g. transfers): deny, approve, or ask on stdin.",
)
@click.option(
    "--metrics",
    metavar="HOST:PORT",
    help="Serve Prometheus metrics at http://HOST:PORT/metrics.",
)
@click.option(
    "--drain-timeout",
    type=float,
    default=600.0,
    show_default=True,
    metavar="S",
    help="After SIGTERM (drain), end the calls still going after S seconds.",
)
@click.option("--duration", type=float, metavar="S", help="Stop after S seconds.")
@click.option("--quiet", is_flag=True, help="Print only tool calls and handoffs per call.")
def serve(
    graph: Path | None,
    listen: str | None,
    advertise: str | None,
    rtp_ports: str | None,
    max_calls: int | None,
    provider: str | None,
    loopback: bool,
    engine_inproc: bool,
    openai_sip: bool,
    media_streams: str | None,
    stats_path: Path | None,
    operator: str,
    metrics: str | None,
    drain_timeout: float,
    duration: float | None,
    quiet: bool,
) -> int:
    """Answer phone calls with a graph: one realtime session per call.

    \b
    agentgraph serve examples/graphs/sip_front_desk.yaml
    agentgraph serve graph.yaml --openai-sip --media-streams 127.0.0.1:8080
    agentgraph serve --loopback --listen 127.0.0.1:5060    # SIP+RTP echo test

    SIGTERM drains: new calls get 503, current ones finish, then it exits (a second
    SIGTERM, or --drain-timeout, ends the calls still going).
    """
    if graph is None and not loopback:
        raise UsageError("give a graph file, or --loopback to echo callers")
    if graph is not None and not graph.is_file():
        raise UsageError(f"graph file not found: {graph}")
    opts = ServeOptions(
        graph=graph,
        listen=listen,
        advertise=advertise,
        rtp_ports=rtp_ports,
        max_calls=max_calls,
        provider=provider,
        loopback=loopback,
        engine_process=not engine_inproc,
        openai_sip=openai_sip,
        media_streams=media_streams,
        stats_path=stats_path,
        duration_s=duration,
        quiet=quiet,
        operator=operator,
        metrics=metrics,
        drain_timeout_s=drain_timeout,
    )
    try:
        stats = asyncio.run(serve_graph(opts))
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        raise UsageError(f"cannot listen: {exc.strerror or exc}") from exc
    click.echo(
        f"agentgraph serve: {stats['calls_completed']} calls completed, "
        f"{stats['calls_failed']} failed",
        err=True,
    )
    sys.stderr.flush()
    return 0
