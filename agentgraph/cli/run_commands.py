"""`agentgraph run`, `agentgraph test` and `agentgraph devices`: flags in, app calls out."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from agentgraph.errors import UsageError

__all__ = ["devices", "run", "test"]


def _path(exists: bool = False) -> click.Path:
    return click.Path(path_type=Path, exists=exists, dir_okay=False)


@click.command()
@click.argument("graph", type=_path())
@click.option(
    "--say",
    "say",
    multiple=True,
    metavar="TEXT",
    help="Send TEXT as the caller's turn, print the answer and exit (repeatable).",
)
@click.option("--text", is_flag=True, help="Type turns on standard input; /quit or Ctrl-D ends.")
@click.option(
    "--input",
    "input_path",
    type=_path(),
    metavar="WAV",
    help="Caller audio from a WAV file (any rate/width; converted).",
)
@click.option(
    "--output",
    "output_path",
    type=_path(),
    metavar="WAV",
    help="Write the agent's audio to a WAV file (24 kHz mono).",
)
@click.option("--fast", is_flag=True, help="Don't pace WAV input/output in real time.")
@click.option("--input-device", metavar="NAME|INDEX", help="Microphone (see `agentgraph devices`).")
@click.option("--output-device", metavar="NAME|INDEX", help="Speaker (see `agentgraph devices`).")
@click.option("--json", "as_json", is_flag=True, help="Print session events as JSON lines.")
@click.option("--quiet", is_flag=True, help="Print only the transcript.")
@click.option(
    "--log-dir",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="Write this run's records in DIR (default: runs/<timestamp>/).",
)
@click.option("--no-log", is_flag=True, help="Write no session records.")
@click.option("--record", is_flag=True, help="Also record audio.wav (caller left, agent right).")
@click.option("--watch", is_flag=True, help="Reload the graph when the file changes.")
@click.option(
    "--provider",
    type=click.Choice(["local", "openai"]),
    help="Override the graph's model provider.",
)
@click.option(
    "--approval-timeout",
    type=float,
    default=60.0,
    show_default=True,
    metavar="S",
    help="Seconds to wait for an operator approval before denying.",
)
def run(
    graph: Path,
    say: tuple[str, ...],
    text: bool,
    input_path: Path | None,
    output_path: Path | None,
    fast: bool,
    input_device: str | None,
    output_device: str | None,
    as_json: bool,
    quiet: bool,
    log_dir: Path | None,
    no_log: bool,
    record: bool,
    watch: bool,
    provider: str | None,
    approval_timeout: float,
) -> int:
    """Run a graph: microphone and speaker by default, or WAV files, or text.

    \b
    agentgraph run examples/graphs/weather.yaml --say "Weather in Tokyo?" --output reply.wav
    agentgraph run graph.yaml --input caller.wav --output reply.wav
    agentgraph run graph.yaml --text
    agentgraph run graph.yaml            # microphone and speaker

    Uses the embedded offline engine unless OPENAI_API_KEY is set (or the graph's model
    says otherwise). Latency per turn = caller stops speaking -> first agent audio played.
    """
    from agentgraph.app.run import RunOptions, run_app

    if as_json and quiet:
        raise UsageError("--json and --quiet don't go together: pick one")
    if (say or text) and input_path is not None:
        raise UsageError("--input is caller audio; it can't be combined with --say/--text")
    if say and text:
        raise UsageError("--say sends fixed turns and --text reads typed ones: pick one")
    if (input_device or output_device) and (say or text or input_path or output_path):
        raise UsageError(
            "--input-device/--output-device are for the microphone mode; "
            "drop --say/--text/--input/--output to use them"
        )
    if no_log and (log_dir or record):
        raise UsageError("--no-log writes no records, so --log-dir/--record do nothing")
    opts = RunOptions(
        graph=graph,
        say=list(say),
        text=text,
        input_path=input_path,
        output_path=output_path,
        fast=fast,
        input_device=input_device,
        output_device=output_device,
        console="json" if as_json else "quiet" if quiet else "text",
        log_dir=log_dir,
        no_records=no_log,
        record=record,
        watch=watch,
        provider=provider,
        approval_timeout_s=approval_timeout,
    )
    try:
        result = asyncio.run(run_app(opts))
    except KeyboardInterrupt:
        click.echo("stopped.", err=True)
        return 130
    if not result.answered:
        click.echo("error: the agent did not answer in time", err=True)
        return 1
    return 0


@click.command()
@click.argument("tests_file", type=_path(exists=True))
@click.option("--graph", type=_path(exists=True), help="Graph to test (default: from the file).")
@click.option("--junit", type=_path(), metavar="XML", help="Also write JUnit XML for CI.")
@click.option(
    "--provider",
    type=click.Choice(["local", "openai"]),
    default="local",
    show_default=True,
    help="Model backend (tests run offline by default).",
)
@click.option("-k", "select", metavar="TEXT", help="Only run tests whose name contains TEXT.")
@click.option("-v", "--verbose", is_flag=True, help="Show every turn's events.")
def test(
    tests_file: Path,
    graph: Path | None,
    junit: Path | None,
    provider: str,
    select: str | None,
    verbose: bool,
) -> int:
    """Run scripted conversation tests against a graph (embedded engine by default)."""
    from agentgraph.app.testing import run_test_file

    report = asyncio.run(
        run_test_file(tests_file, graph=graph, provider=provider, select=select, verbose=verbose)
    )
    if junit is not None:
        report.write_junit(junit)
    click.echo(report.summary_line())
    return 0 if report.ok else 1


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the devices as JSON.")
def devices(as_json: bool) -> int:
    """List audio input and output devices (for --input-device/--output-device)."""
    from agentgraph.transports.local import list_devices

    found = list_devices()
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return 0
    if not found:
        click.echo("no audio devices found (PortAudio sees none)")
        return 0
    for dev in found:
        marks = []
        if dev["default_input"]:
            marks.append("default input")
        if dev["default_output"]:
            marks.append("default output")
        extra = f"  [{', '.join(marks)}]" if marks else ""
        click.echo(
            f"{dev['index']:>3}  {dev['name']}  ({dev['hostapi']}, "
            f"{dev['max_input_channels']} in, {dev['max_output_channels']} out)"
            f"{extra}"
        )
    return 0
