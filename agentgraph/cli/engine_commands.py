"""`agentgraph engine serve`: run the embedded offline Realtime engine standalone."""

from __future__ import annotations

import asyncio

import click

__all__ = ["engine"]


@click.group(help="The embedded offline Realtime engine.")
def engine() -> None:
    """Commands for the embedded engine."""


@engine.command(help="Serve the Realtime GA protocol on a local websocket.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="TCP port (0 picks a free one).",
)
@click.option(
    "--policy",
    type=click.Choice(["rules", "chat"]),
    default="rules",
    show_default=True,
    help="Dialogue policy: deterministic rules or a chat LLM.",
)
@click.option(
    "--chat-url",
    default=None,
    metavar="URL",
    help="Base URL of an OpenAI-compatible chat-completions server (chat policy).",
)
@click.option("--chat-model", default=None, help="Model name for the chat policy.")
@click.option(
    "--chat-api-key",
    default=None,
    envvar="AGENTGRAPH_CHAT_API_KEY",
    show_envvar=True,
    help="Bearer key for the chat server (if it wants one).",
)
@click.option("--no-voice-input", is_flag=True, help="Text only: skip VAD and recognition.")
@click.option(
    "--asr-workers",
    type=click.IntRange(0, 64),
    default=None,
    help="Recognizer processes (default: one per core, up to 4; 0: in-process).",
)
@click.option(
    "--recognizer",
    type=click.Choice(["auto", "whisper", "sphinx"]),
    default="auto",
    show_default=True,
    help="Speech recognizer: whisper generalises; sphinx is cheaper (session words only); "
    "auto: sphinx for telephone (G.711) audio, whisper otherwise.",
)
@click.option(
    "--token",
    default=None,
    envvar="AGENTGRAPH_ENGINE_TOKEN",
    show_envvar=True,
    help="Bearer key clients must send (required when --host is not loopback).",
)
def serve(
    host: str,
    port: int,
    policy: str,
    chat_url: str | None,
    chat_model: str | None,
    chat_api_key: str | None,
    no_voice_input: bool,
    asr_workers: int | None,
    recognizer: str,
    token: str | None,
) -> int:
    """Serve until interrupted; prints the URL clients connect to."""
    from agentgraph.engine import EmbeddedEngine

    async def run() -> None:
        server = EmbeddedEngine(
            host=host,
            port=port,
            policy=policy,
            chat_base_url=chat_url,
            chat_model=chat_model,
            chat_api_key=chat_api_key,
            voice_input=not no_voice_input,
            asr_workers=asr_workers,
            recognizer=recognizer,
            token=token,
        )
        await server.start()
        click.echo(
            f"agentgraph engine: serving {server.url}?model=gpt-realtime "
            f"(policy {policy}); Ctrl-C to stop",
            err=True,
        )
        try:
            await server.serve_forever()
        finally:
            await server.close()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        return 130
    return 0
