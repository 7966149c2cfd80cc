"""`agentgraph call graph.yaml TARGET...`: flags in, `agentgraph.app.call` does the work."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from agentgraph.app.call import (
    CallOptions,
    CallOutcome,
    describe,
    place_calls,
    read_targets,
    write_outcomes,
)
from agentgraph.errors import UsageError

__all__ = ["call"]


@click.command()
@click.argument("graph", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("targets", nargs=-1)
@click.option("--agent", help="The agent that talks (default: the graph's start agent).")
@click.option("--from", "from_user", metavar="USER", help="Caller ID user part.")
@click.option("--via", metavar="HOST:PORT", help="Send the INVITEs here (default: sip.trunk).")
@click.option(
    "--csv",
    "csv_in",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Call every number in this CSV (a 'number' column, or the first one).",
)
@click.option(
    "--results",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write one CSV row per call here (status, duration, records folder).",
)
@click.option("--max-concurrent", type=click.IntRange(1, 1000), default=1, show_default=True)
@click.option("--ring-timeout", type=float, default=30.0, show_default=True, metavar="S")
@click.option("--max-duration", type=float, default=600.0, show_default=True, metavar="S")
@click.option("--provider", type=click.Choice(["local", "openai"]), help="Override the model.")
@click.option("--listen", metavar="HOST:PORT", help="Our SIP address (default: a free port).")
@click.option(
    "--records",
    type=click.Path(path_type=Path, file_okay=False),
    help="Per-call records go here (default: runs/<timestamp>/).",
)
def call(
    graph: Path,
    targets: tuple[str, ...],
    agent: str | None,
    from_user: str | None,
    via: str | None,
    csv_in: Path | None,
    results: Path | None,
    max_concurrent: int,
    ring_timeout: float,
    max_duration: float,
    provider: str | None,
    listen: str | None,
    records: Path | None,
) -> int:
    """Call phone numbers or SIP URIs; the graph talks when they answer.

    \b
    agentgraph call graph.yaml sip:+15551234567@trunk.example --agent reminders
    agentgraph call graph.yaml +15551234567               # through the graph's sip.trunk
    agentgraph call graph.yaml --csv numbers.csv --max-concurrent 5 --results out.csv

    Exit status: 0 when every call was answered, 1 otherwise (busy, no answer, failed).
    """
    if not graph.is_file():
        raise UsageError(f"graph file not found: {graph}")
    wanted = list(targets) + (read_targets(csv_in) if csv_in is not None else [])
    if not wanted:
        raise UsageError("give a number or SIP URI to call, or --csv with numbers")
    opts = CallOptions(
        graph=graph,
        targets=wanted,
        agent=agent,
        from_user=from_user,
        via=via,
        max_concurrent=max_concurrent,
        ring_timeout_s=ring_timeout,
        max_duration_s=max_duration,
        provider=provider,
        listen=listen,
        records_dir=records,
    )

    def show(outcome: CallOutcome) -> None:
        click.echo(f"agentgraph call: {describe(outcome)}", err=True)

    try:
        outcomes = asyncio.run(place_calls(opts, on_outcome=show))
    except KeyboardInterrupt:
        return 130
    if results is not None:
        write_outcomes(results, outcomes)
    answered = sum(1 for o in outcomes if o.status == "answered")
    click.echo(f"agentgraph call: {answered} of {len(outcomes)} answered", err=True)
    return 0 if answered == len(outcomes) else 1
