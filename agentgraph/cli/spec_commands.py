"""`agentgraph validate | schema | graph | init | tools`: the graph language's commands.

Only flag parsing and printing live here. `validate` and `--help` never import the
runtime, audio or engine; `validate` reads the parameters of tools with approval rules
from their source (importing only a tool whose source cannot be read that way), and
`validate --import` and `tools --describe` import plugin code, on request.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from agentgraph.errors import PluginError, UsageError

__all__ = ["TESTS_SUFFIX", "graph", "init", "schema", "tools", "validate"]

#: Files with this suffix hold conversation tests (`agentgraph test`), not graphs.
TESTS_SUFFIX = ".tests.yaml"


@click.command(
    help="Check graph files and report every finding (file:line:col, code, hint)."
    "\n\nExit status: 0 valid, 1 findings, 2 a file cannot be read. Files named "
    "*.tests.yaml are checked as conversation tests."
)
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for machines.",
)
@click.option(
    "--import",
    "do_import",
    is_flag=True,
    help="Also import the tools and guardrails and check their signatures.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def validate(files: tuple[str, ...], fmt: str, do_import: bool, strict: bool) -> int:
    """Exit 0 when every file is valid, 1 on findings, 2 when a file cannot be read."""
    # Approval rules are checked against their tools' real parameters, read from source
    # (no plugin code runs) where it can be, else imported as `run` would.
    from agentgraph.compile.check import validate_graph, validate_with_imports

    exit_code = 0
    reports: list[dict[str, Any]] = []
    for file in files:
        if file.endswith(TESTS_SUFFIX):
            # Conversation tests sit next to graphs (examples/graphs/*.tests.yaml) and are
            # checked by their own schema, as strictly as graphs.
            from agentgraph.spec.testfile import validate_tests_file

            result: Any = validate_tests_file(file)
        else:
            result = validate_with_imports(file) if do_import else validate_graph(file)
        errors = sum(1 for f in result.findings if f.severity == "error")
        warnings = len(result.findings) - errors
        unreadable = any(f.code == "AG001" for f in result.findings)
        failed = errors > 0 or (strict and warnings > 0)
        if unreadable:
            exit_code = 2
        elif failed and exit_code == 0:
            exit_code = 1
        if fmt == "json":
            reports.append(
                {
                    "file": file,
                    "valid": not failed,
                    "errors": errors,
                    "warnings": warnings,
                    "findings": [f.to_json() for f in result.findings],
                }
            )
            continue
        for finding in result.findings:
            click.echo(finding.format())
        status = "invalid" if failed else "ok"
        click.echo(f"{file}: {status} ({errors} error(s), {warnings} warning(s))")
    if fmt == "json":
        click.echo(json.dumps({"files": reports, "valid": exit_code == 0}, indent=2))
    return exit_code


@click.command(help="Print the JSON Schema of the graph language.")
def schema() -> None:
    """The schema editors use to autocomplete graph files."""
    from agentgraph.spec import schema_text

    click.echo(schema_text(), nl=False)


@click.command(
    help="Draw a graph's agents, handoffs, tools (approval marked) and guardrails "
    "as Mermaid, DOT with --format dot, or a picture with --format svg (> graph.svg)."
)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["mermaid", "dot", "svg"]),
    default="mermaid",
    show_default=True,
)
def graph(file: str, fmt: str) -> None:
    """Print the graph as Mermaid (paste into Markdown), DOT or SVG (open in a browser)."""
    from agentgraph.spec import load_graph
    from agentgraph.spec.draw import to_dot, to_mermaid
    from agentgraph.spec.draw_svg import to_svg

    spec = load_graph(file)
    draw = {"dot": to_dot, "svg": to_svg}.get(fmt, to_mermaid)
    click.echo(draw(spec), nl=False)


_TEMPLATE = """\
# yaml-language-server: $schema={schema}
# Purpose: {title} — describe in one line what this graph is for.
version: 1
name: {title}
model: {{provider: auto, name: gpt-realtime}}  # auto: OpenAI if OPENAI_API_KEY is set
voice: marin
transcription: {{model: gpt-4o-mini-transcribe}}  # show what the caller said
turn_detection: {{type: server_vad, silence_duration_ms: 500}}
tools:
  get_weather: {{entry_point: get_weather}}     # from the agentgraph-demo plugin
agents:
  {agent}:
    instructions: {{file: prompts/{slug}.md}}
    tools: [get_weather]
"""
_PROMPT = """\
You are {title}, a friendly voice assistant. Keep answers short: this is spoken aloud.
When someone asks about the weather in a city, call get_weather.
"""


@click.command(
    help="Create NAME.yaml (with the $schema line editors use) and "
    "prompts/NAME.md; the new graph validates as is."
)
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Where to create NAME.yaml and prompts/.",
)
@click.option("--force", is_flag=True, help="Overwrite existing files.")
def init(name: str, directory: str, force: bool) -> None:
    """Scaffold NAME.yaml (with the schema line) and prompts/NAME.md."""
    slug = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
    if not slug:
        raise UsageError(f"'{name}' has no letters or digits to name a file after")
    agent = slug if slug[0].isalpha() else f"agent_{slug}"
    base = Path(directory)
    graph_file = base / f"{slug}.yaml"
    prompt_file = base / "prompts" / f"{slug}.md"
    for path in (graph_file, prompt_file):
        if path.exists() and not force:
            raise UsageError(f"{path} already exists (use --force to overwrite)")
    from agentgraph.spec import schema_text

    # Editors need a schema they can open: a checkout's schemas/ file, else a local copy.
    schema_ref = _find_repo_schema(base)
    local_schema = base / "agentgraph.schema.json"
    title = name.strip() or slug
    try:
        prompt_file.parent.mkdir(parents=True, exist_ok=True)
        if schema_ref is None:
            local_schema.write_text(schema_text(), encoding="utf-8")
            schema_ref = "./agentgraph.schema.json"
        graph_file.write_text(
            _TEMPLATE.format(schema=schema_ref, title=title, agent=agent, slug=slug),
            encoding="utf-8",
        )
        prompt_file.write_text(_PROMPT.format(title=title), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {graph_file}: {exc.strerror or exc}") from exc
    click.echo(f"created {graph_file} and {prompt_file}")
    click.echo(f"next: agentgraph validate {graph_file} && agentgraph run {graph_file}")


def _find_repo_schema(start: Path) -> str | None:
    """A relative path to a checkout's schemas/agentgraph.schema.json, if there is one."""
    here = start.resolve()
    for parent in (here, *here.parents):
        candidate = parent / "schemas" / "agentgraph.schema.json"
        if candidate.is_file():
            rel = Path(*([".."] * len(here.relative_to(parent).parts)))
            return (rel / "schemas" / "agentgraph.schema.json").as_posix()
    return None


@click.command(
    help="List installed tools and guardrails (entry points of groups "
    "agentgraph.tools and agentgraph.guardrails) without importing them."
)
@click.option(
    "--describe",
    "describe",
    metavar="NAME",
    default=None,
    help="Import one tool or guardrail and show its parameters.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def tools(describe: str | None, fmt: str) -> None:
    """Without --describe nothing is imported: only package metadata is read."""
    from agentgraph.plugins import list_entries

    entries = list_entries()
    if describe is None:
        if fmt == "json":
            click.echo(
                json.dumps(
                    [
                        {
                            "name": e.name,
                            "kind": e.kind,
                            "group": e.group,
                            "value": e.value,
                            "distribution": e.dist,
                            "version": e.version,
                        }
                        for e in entries
                    ],
                    indent=2,
                )
            )
            return
        if not entries:
            click.echo(
                "no tools or guardrails installed (try: pip install -e plugins/agentgraph-demo)"
            )
            return
        width = max(len(e.name) for e in entries)
        for e in entries:
            click.echo(f"{e.kind:<9} {e.name:<{width}}  {e.dist} {e.version}  {e.value}")
        return
    from agentgraph.plugins import describe_tool, load_ref

    matches = [e for e in entries if e.name == describe]
    if not matches:
        raise PluginError(
            f"no installed tool or guardrail is named '{describe}' (agentgraph tools lists them)"
        )
    entry = matches[0]
    target = load_ref(entry.value)
    sig = describe_tool(target, name=entry.name)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "name": entry.name,
                    "kind": entry.kind,
                    "distribution": entry.dist,
                    "version": entry.version,
                    "value": entry.value,
                    "description": sig.description,
                    "parameters": sig.parameters,
                },
                indent=2,
            )
        )
        return
    click.echo(f"{entry.kind} {entry.name}  ({entry.dist} {entry.version}, {entry.value})")
    if sig.description:
        click.echo(f"  {sig.description}")
    click.echo("parameters:")
    click.echo(json.dumps(sig.parameters, indent=2))
