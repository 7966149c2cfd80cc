"""`agentgraph play` (the browser playground) and `agentgraph report` (report.html)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import click

__all__ = ["play", "report"]


@click.command()
@click.argument("graph", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--port", type=int, default=8080, show_default=True, help="Port of the page.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (loopback; anything else needs --allow-remote).",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Allow a non-loopback --host: anyone on that network can talk to the agent.",
)
@click.option("--no-browser", is_flag=True, help="Don't open the page in a browser.")
@click.option(
    "--provider",
    type=click.Choice(["local", "openai"]),
    help="Override the graph's model provider.",
)
@click.option(
    "--log-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("runs"),
    show_default=True,
    metavar="DIR",
    help="Each conversation's records go in DIR/<timestamp>/.",
)
@click.option("--no-log", is_flag=True, help="Write no session records (and no reports).")
@click.option("--record", is_flag=True, help="Also record audio.wav (caller left, agent right).")
@click.option("--json", "as_json", is_flag=True, help="Print session events as JSON lines.")
@click.option("--quiet", is_flag=True, help="Print only the transcript.")
@click.option(
    "--approval-timeout",
    type=float,
    default=60.0,
    show_default=True,
    metavar="S",
    help="Seconds to wait for an operator approval on the page before denying.",
)
def play(
    graph: Path,
    port: int,
    host: str,
    allow_remote: bool,
    no_browser: bool,
    provider: str | None,
    log_dir: Path,
    no_log: bool,
    record: bool,
    as_json: bool,
    quiet: bool,
    approval_timeout: float,
) -> int:
    """Talk to a graph in the browser: microphone or typed turns, a live transcript, the
    graph as a picture, Approve / Deny for operator approvals, and an editor that reloads
    the graph on save.

    \b
    agentgraph play examples/graphs/weather.yaml          # opens http://127.0.0.1:8080/
    agentgraph play graph.yaml --port 9000 --no-browser
    """
    from agentgraph.app.play import PlayOptions, run_play
    from agentgraph.errors import UsageError

    if as_json and quiet:
        raise UsageError("--json and --quiet don't go together: pick one")
    if no_log and record:
        raise UsageError("--no-log writes no records, so --record does nothing")
    opts = PlayOptions(
        graph=graph,
        host=host,
        port=port,
        allow_remote=allow_remote,
        open_browser=not no_browser,
        provider=provider,
        console="json" if as_json else "quiet" if quiet else "text",
        log_dir=log_dir,
        no_records=no_log,
        record=record,
        approval_timeout_s=approval_timeout,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_play(opts))
    return 0


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
def report(run_dir: Path) -> int:
    """Write RUN_DIR/report.html: one self-contained page with the conversation's
    timeline, tool calls, approvals, handoffs, latency per turn and (with --record) the
    audio.

    \b
    agentgraph report runs/20261203-091500
    """
    from agentgraph.app.report import write_report

    click.echo(str(write_report(run_dir)))
    return 0
