"""`run --watch`: reload the graph file on save without dropping the conversation.

The graph file and the prompt files it names are polled for changes every `interval_s`.
A changed graph is validated and compiled again:

- invalid: the findings are printed and the running graph stays as it is;
- valid: per-agent changes (instructions, tools, handoffs, guardrails) are applied to the
  active agent with `session.update_agent()`, so they take effect at the next turn; the
  other agents are swapped in for later handoffs;
- session-wide settings the Realtime API fixes for a session (voice, model, audio formats,
  modalities) are listed as waiting for the next session.

`diff_graphs` is pure and tested on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentgraph.errors import AgentGraphError

__all__ = ["GraphDiff", "GraphWatcher", "diff_graphs"]

# Session-wide settings that cannot change in a running session (Realtime API rules).
_NEXT_SESSION_KEYS = {
    "voice": "voice",
    "model_name": "model",
    "model": "model",
    "modalities": "modalities",
    "output_modalities": "modalities",
    "input_audio_format": "audio format",
    "output_audio_format": "audio format",
}


class GraphDiff:
    """What changed between two compiled graphs."""

    def __init__(self) -> None:
        self.agents_changed: list[str] = []
        self.agents_added: list[str] = []
        self.agents_removed: list[str] = []
        self.next_session: list[str] = []

    @property
    def empty(self) -> bool:
        return not (
            self.agents_changed or self.agents_added or self.agents_removed or self.next_session
        )


def _agent_signature(agent: Any) -> tuple[Any, ...]:
    tools = tuple(sorted((t.name, t.description, repr(t.params_json_schema)) for t in agent.tools))
    handoffs = tuple(
        sorted(str(getattr(h, "tool_name", None) or getattr(h, "name", h)) for h in agent.handoffs)
    )
    guardrails = tuple(sorted(str(getattr(g, "name", g)) for g in agent.output_guardrails))
    instructions = (
        agent.instructions if isinstance(agent.instructions, str) else repr(agent.instructions)
    )
    return (instructions, tools, handoffs, guardrails, repr(agent.turn_detection))


def _settings(compiled: Any) -> dict[str, Any]:
    return dict((getattr(compiled, "run_config", None) or {}).get("model_settings") or {})


def diff_graphs(old: Any, new: Any) -> GraphDiff:
    """Compare two compiled graphs (`CompiledGraph`) for hot reload."""
    diff = GraphDiff()
    for name, agent in new.agents.items():
        if name not in old.agents:
            diff.agents_added.append(name)
        elif _agent_signature(agent) != _agent_signature(old.agents[name]):
            diff.agents_changed.append(name)
    diff.agents_removed = [name for name in old.agents if name not in new.agents]
    old_s, new_s = _settings(old), _settings(new)
    waiting = {
        label for key, label in _NEXT_SESSION_KEYS.items() if old_s.get(key) != new_s.get(key)
    }
    if getattr(old, "model", None) != getattr(new, "model", None):
        waiting.add("model")
    diff.next_session = sorted(waiting)
    return diff


class GraphWatcher:
    """Polls a graph file and applies valid changes to a running session.

    Args:
        path: the graph file.
        session: the running `RealtimeSession`.
        compiled: the graph the session runs now.
        note: prints one line on the console.
        current_agent: returns the active agent's name.
        files: every file to watch (the graph and its prompt files); default the graph.
        interval_s: how often to look at the files.
    """

    def __init__(
        self,
        path: Path,
        session: Any,
        compiled: Any,
        *,
        note: Callable[[str], None],
        current_agent: Callable[[], str],
        files: list[Path] | None = None,
        interval_s: float = 0.5,
    ) -> None:
        self.path = path
        self.session = session
        self.compiled = compiled
        self.note = note
        self.current_agent = current_agent
        self.interval_s = interval_s
        self.files = list(files) if files else [path]
        self.reloads = 0
        self._stamp = self._read_stamp()
        self._task: asyncio.Task[None] | None = None

    def _read_stamp(self) -> tuple[tuple[float, int] | None, ...]:
        stamps: list[tuple[float, int] | None] = []
        for file in self.files:
            try:
                stat = file.stat()
            except OSError:  # mid-save or deleted: compare as "missing"
                stamps.append(None)
            else:
                stamps.append((stat.st_mtime, stat.st_size))
        return tuple(stamps)

    def start(self) -> None:
        """Start polling in the background."""
        self._task = asyncio.get_running_loop().create_task(self._poll())
        self.note(f"watching {self.path} for changes")

    async def stop(self) -> None:
        """Stop polling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            stamp = self._read_stamp()
            if stamp == self._stamp or stamp[0] is None:
                continue
            self._stamp = stamp
            await self.reload()

    async def reload(self) -> bool:
        """Validate and apply the file now; returns whether the new graph was applied."""
        from agentgraph.app.run import graph_files, load_spec

        try:
            spec, new = await asyncio.to_thread(load_spec, self.path)
        except AgentGraphError as err:
            self.note(
                f"{self.path} changed but is not valid; still running the previous "
                f"graph:\n{err.format()}"
            )
            return False
        self.files = graph_files(self.path, spec)  # prompt files may have changed too
        self._stamp = self._read_stamp()
        diff = diff_graphs(self.compiled, new)
        if diff.empty:
            self.note(f"{self.path} saved: no changes that affect the session")
            self.compiled = new
            return True
        active = self.current_agent()
        applied: list[str] = []
        if active in new.agents:
            result = self.session.update_agent(new.agents[active])
            if inspect.isawaitable(result):
                await result
            applied.append(active)
        self.compiled = new
        self.reloads += 1
        parts = []
        if diff.agents_changed:
            parts.append(f"updated {', '.join(diff.agents_changed)}")
        if diff.agents_added:
            parts.append(f"added {', '.join(diff.agents_added)}")
        if diff.agents_removed:
            parts.append(f"removed {', '.join(diff.agents_removed)}")
        if parts:
            self.note(f"reloaded {self.path}: {'; '.join(parts)} (applies at the next turn)")
        if diff.next_session:
            self.note(
                f"{', '.join(diff.next_session)} changed: takes effect in the next "
                "session (the Realtime API fixes it for a running session)"
            )
        return True
