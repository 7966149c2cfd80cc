"""Interop: the OpenAI Agents SDK (openai-agents 0.24) against `agentgraph engine serve`.

The SDK is installed by the fixture into its own virtualenv (cached under the pytest
cache), so it never mixes with agentgraph's dependencies. The test is skipped only when
the package registry cannot be reached.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.peer, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SDK_PIN = "openai-agents==0.24.*"

CLIENT = r'''
import asyncio, json, sys
from agents import function_tool
from agents.realtime import RealtimeAgent, RealtimeRunner

@function_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny and 21 degrees in {city}."

def out(**kw):
    print(json.dumps(kw), flush=True)

history = []

async def turn(session, text, want_tool):
    await session.send_message(text)
    try:
        await asyncio.wait_for(_events(session, want_tool), 30)
    except TimeoutError:
        out(type="error", error="turn timed out")

async def _events(session, want_tool):
    loop = asyncio.get_running_loop()
    events = session.__aiter__()
    tool_done, deadline = False, None
    while True:
        wait = None if deadline is None else max(0.0, deadline - loop.time())
        try:
            event = await asyncio.wait_for(events.__anext__(), wait)
        except TimeoutError:
            return
        if event.type in ("tool_start", "tool_end"):
            out(type=event.type, tool=event.tool.name, output=getattr(event, "output", None))
            tool_done = tool_done or event.type == "tool_end"
        elif event.type == "audio":
            out(type="audio", bytes=len(event.audio.data))
        elif event.type == "history_updated":
            history[:] = event.history
        elif event.type == "error":
            out(type="error", error=str(event.error)[:500])
        elif event.type == "audio_end" and (tool_done or not want_tool):
            # read on briefly: the transcript reaches the history after the audio
            deadline = loop.time() + 0.3

def assistant_texts():
    texts = []
    for item in history:
        if getattr(item, "role", None) == "assistant":
            for part in item.content or []:
                text = getattr(part, "transcript", None) or getattr(part, "text", None)
                if text:
                    texts.append(text)
    return texts

async def main(url):
    agent = RealtimeAgent(name="weather", instructions="You are a weather assistant.",
                          tools=[get_weather])
    runner = RealtimeRunner(agent, config={"model_settings": {
        "model_name": "gpt-realtime", "voice": "ash",
        "turn_detection": {"type": "server_vad", "silence_duration_ms": 300}}})
    session = await runner.run(model_config={"url": url, "api_key": "sk-local"})
    async with session:
        await turn(session, "Hello", want_tool=False)
        out(type="assistant", texts=assistant_texts())
        await turn(session, "What's the weather in Tokyo?", want_tool=True)
        out(type="assistant", texts=assistant_texts())
    out(type="finished")

asyncio.run(main(sys.argv[1]))
'''


@pytest.fixture(scope="session")
def sdk_python(pytestconfig: pytest.Config) -> Iterator[Path]:
    """A virtualenv with openai-agents 0.24 (created once, reused from the pytest cache)."""
    assert pytestconfig.cache is not None
    root = Path(pytestconfig.cache.mkdir("openai-agents-0.24-venv"))
    python = root / "bin" / "python"
    marker = root / "installed.ok"
    if not marker.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(root)
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", SDK_PIN],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            unreachable = re.search(
                r"(Could not find a version|No matching distribution|Temporary failure|"
                r"Failed to establish|NewConnectionError|Name or service not known|"
                r"Network is unreachable|Connection refused|timed out)",
                done.stderr,
            )
            if unreachable:
                pytest.skip(f"package registry unreachable: {unreachable.group(0)}")
            pytest.fail(f"installing {SDK_PIN} failed:\n{done.stderr[-2000:]}")
        marker.write_text("ok")
    yield python


@pytest.fixture
def engine_url() -> Iterator[str]:
    """`agentgraph engine serve` on an OS-chosen loopback port."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentgraph", "engine", "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        m = re.search(r"(ws://\S+?/v1/realtime)", line)
        assert m, line
        yield m.group(1) + "?model=gpt-realtime"
    finally:
        proc.terminate()
        proc.wait(10)


def test_agents_sdk_text_turn_and_tool_call(sdk_python: Path, engine_url: str) -> None:
    done = subprocess.run(
        [str(sdk_python), "-c", CLIENT, engine_url], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "finished"
    assert "error" not in kinds, events
    after_hello, after_tool = (e["texts"] for e in events if e["type"] == "assistant")
    assert after_hello and after_hello[0].startswith("Hello")  # the greeting, spoken
    tool_end = next(e for e in events if e["type"] == "tool_end")
    assert tool_end["tool"] == "get_weather" and "Tokyo" in tool_end["output"]
    assert after_tool[-1] == "It is sunny and 21 degrees in Tokyo."  # read back
    assert sum(e["bytes"] for e in events if e["type"] == "audio") > 48_000
