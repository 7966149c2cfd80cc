"""The `agentgraph` command line.

Commands live in small modules per area (spec, run, engine, serve) and are imported only
when invoked, so `agentgraph --help` and `agentgraph validate` stay fast and never import
the runtime, audio or engine. This module is the one place that turns `AgentGraphError`
into a message and an exit code.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

from agentgraph.errors import AgentGraphError

__all__ = ["cli", "main"]

# command name -> (module, attribute, one-line help). The help is repeated here so that
# `agentgraph --help` can list commands without importing their modules.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "validate": (
        "agentgraph.cli.spec_commands",
        "validate",
        "Check graph files and report every finding.",
    ),
    "schema": (
        "agentgraph.cli.spec_commands",
        "schema",
        "Print the JSON Schema of the graph language.",
    ),
    "graph": (
        "agentgraph.cli.spec_commands",
        "graph",
        "Draw a graph's agents, handoffs and tools.",
    ),
    "init": ("agentgraph.cli.spec_commands", "init", "Create a new graph file with a prompt file."),
    "tools": ("agentgraph.cli.spec_commands", "tools", "List installed tools and guardrails."),
    "run": ("agentgraph.cli.run_commands", "run", "Run a graph: microphone, WAV files or text."),
    "test": (
        "agentgraph.cli.run_commands",
        "test",
        "Run scripted conversation tests against a graph.",
    ),
    "devices": ("agentgraph.cli.run_commands", "devices", "List audio input and output devices."),
    "engine": ("agentgraph.cli.engine_commands", "engine", "The embedded offline Realtime engine."),
    "play": (
        "agentgraph.cli.play_commands",
        "play",
        "Talk to a graph in the browser, watch it, approve and edit it.",
    ),
    "report": (
        "agentgraph.cli.play_commands",
        "report",
        "Write report.html for a run's records.",
    ),
    "call": (
        "agentgraph.cli.call_commands",
        "call",
        "Call phone numbers or SIP URIs; the graph talks when they answer.",
    ),
    "serve": (
        "agentgraph.cli.serve_commands",
        "serve",
        "Answer phone calls (SIP, OpenAI SIP, media streams).",
    ),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        module_name, attr, _ = spec
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return _missing_command(cmd_name)
        command = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _missing_command(name: str) -> click.Command:
    @click.command(name=name, help=COMMANDS[name][2])
    def not_yet() -> None:
        raise click.UsageError(f"'{name}' is not available in this build of agentgraph")

    return not_yet


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="agentgraph")
def cli() -> None:
    """Realtime voice agents described in YAML.

    Validate a graph with `agentgraph validate graph.yaml`, then talk to it with
    `agentgraph run graph.yaml` (embedded offline engine unless OPENAI_API_KEY is set).
    """


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; the one place errors become exit codes."""
    try:
        # With standalone_mode=False click returns ctx.exit() codes (and a command's own
        # return value): commands may return an int exit code.
        result = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except AgentGraphError as err:
        click.echo(err.format(), err=True)
        return err.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
