"""A YAML greeting is spoken first: compiled onto the run config / agent and said by the
session before the caller says anything (embedded engine, offline)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agentgraph.compile import compile_graph
from agentgraph.realtime import RealtimeRunner
from agentgraph.spec import validate_text

HANG_GUARD_S = 60.0

GRAPH = """\
version: 1
name: greeter
model: {{provider: local}}
greeting: {greeting}
agents:
  desk:
    instructions: You answer questions about opening hours.
    {agent_greeting}
"""


async def first_reply(text: str) -> str:
    result = validate_text(text, env={})
    assert result.spec is not None, [f.format() for f in result.findings]
    compiled = compile_graph(result.spec)
    # the typed settings go to the runner as they are: nothing is parsed back
    runner = RealtimeRunner(starting_agent=compiled.starting_agent, config=compiled.config_for())
    session = await runner.run()
    async with session:
        async with asyncio.timeout(HANG_GUARD_S):
            async for event in session:
                if getattr(event, "type", "") == "transcript_done":
                    return str(event.transcript)
    raise AssertionError("the session ended before any reply")


@pytest.mark.parametrize(
    ("agent_greeting", "expected"),
    [
        ("", "Thanks for calling the clinic"),
        ("greeting: Hello from the desk agent.", "Hello from the desk agent"),
    ],
)
async def test_the_greeting_is_spoken_before_the_caller_speaks(
    agent_greeting: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    text = GRAPH.format(
        greeting="Thanks for calling the clinic. How can I help?", agent_greeting=agent_greeting
    )
    said: Any = await first_reply(text)
    assert expected.lower() in said.lower()
