"""`run --watch`: invalid saves keep the running graph; valid ones apply at the next turn."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agentgraph.app.run import load_compiled
from agentgraph.app.watch import diff_graphs

REPO = Path(__file__).resolve().parents[2]
WEATHER = (REPO / "examples/graphs/weather.yaml").read_text()
WITH_SEARCH = WEATHER.replace(
    "  get_weather: {entry_point: get_weather}\n",
    "  get_weather: {entry_point: get_weather}\n"
    "  search_knowledge_base: {entry_point: search_knowledge_base}\n",
).replace("    tools: [get_weather]", "    tools: [get_weather, search_knowledge_base]")


def write(path: Path, text: str) -> None:
    path.write_text(text)
    stamp = time.time() + 1  # a new mtime even on coarse file systems
    os.utime(path, (stamp, stamp))


def test_diff_graphs_separates_live_changes_from_next_session(tmp_path: Path) -> None:
    graph = tmp_path / "g.yaml"
    graph.write_text(WEATHER)
    old = load_compiled(graph)
    graph.write_text(WITH_SEARCH.replace("voice: marin", "voice: cedar"))
    new = load_compiled(graph)
    diff = diff_graphs(old, new)
    assert diff.agents_changed == ["weather"]
    assert diff.next_session == ["voice"]
    assert diff_graphs(old, load_compiled(REPO / "examples/graphs/weather.yaml")).empty


@pytest.mark.slow
def test_watch_reloads_a_running_session(tmp_path: Path) -> None:
    graph = tmp_path / "weather.yaml"
    graph.write_text(WEATHER)
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentgraph", "run", str(graph), "--text", "--watch", "--no-log"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        lines.extend(line.rstrip("\n") for line in proc.stdout)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def wait_for(text: str, timeout_s: float = 20) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(text in line for line in list(lines)):
                return
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never printed; got {lines}")

    def say(text: str) -> None:
        assert proc.stdin is not None
        proc.stdin.write(text + "\n")
        proc.stdin.flush()

    try:
        wait_for("watching")
        say("What's the weather in Tokyo?")
        wait_for('-> get_weather(city="Tokyo")')
        write(graph, WEATHER.replace("voice: marin", "voice: marinn"))
        wait_for("is not valid; still running the previous graph")
        wait_for("marinn")
        say("What's the weather in Paris?")  # the running graph still works
        wait_for('-> get_weather(city="Paris")')
        write(graph, WITH_SEARCH.replace("voice: marin", "voice: cedar"))
        wait_for("updated weather (applies at the next turn)")
        wait_for("voice changed: takes effect in the next session")
        say("Can you search the knowledge base?")
        say("parking")
        wait_for("-> search_knowledge_base(")  # the new tool is live
        say("/quit")
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr


class RecordingSession:
    """Records `update_agent` calls (the watcher's only use of the session)."""

    def __init__(self) -> None:
        self.updated: list[object] = []

    async def update_agent(self, agent: object) -> None:
        self.updated.append(agent)


async def test_prompt_file_changes_reload_the_agent(tmp_path: Path) -> None:
    import shutil

    from agentgraph.app.run import graph_files, load_spec
    from agentgraph.app.watch import GraphWatcher

    shutil.copy(REPO / "examples/graphs/booking.yaml", tmp_path / "booking.yaml")
    shutil.copytree(REPO / "examples/graphs/prompts", tmp_path / "prompts")
    graph = tmp_path / "booking.yaml"
    spec, compiled = load_spec(graph)
    files = graph_files(graph, spec)
    assert files == [graph, tmp_path / "prompts/booking.md"]
    notes: list[str] = []
    session = RecordingSession()
    watcher = GraphWatcher(
        graph,
        session,
        compiled,
        note=notes.append,
        current_agent=lambda: "booking",
        files=files,
        interval_s=0.05,
    )
    watcher.start()
    try:
        prompt = tmp_path / "prompts/booking.md"
        write(prompt, prompt.read_text() + "\nAlways greet the caller by name.\n")
        for _ in range(100):
            if session.updated:
                break
            await asyncio.sleep(0.05)
    finally:
        await watcher.stop()
    assert len(session.updated) == 1
    agent = session.updated[0]
    assert "Always greet the caller by name." in str(getattr(agent, "instructions", ""))
    assert any("updated booking (applies at the next turn)" in n for n in notes)
