"""What the playground page shows and answers: session events, operator approvals, saves.

`PageObserver` is a hub observer (like the console) that turns session activity into the
page's JSON messages: caller and agent lines with the agent's name, tool calls with
arguments and results, handoffs, guardrail trips, errors, interruptions and each turn's
latency (the hub's one definition). `PageApprovals` answers `tool_approval_required` from
the page's Approve / Deny buttons and denies on the console's timeout (fail closed).
`save_graph` writes the editor's text and validates it with the same findings as
`agentgraph validate`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from agentgraph.app.eventdata import display_name, event_type, redact_secrets, redact_text
from agentgraph.transports.browser import BrowserLink

__all__ = ["PageApprovals", "PageObserver", "save_graph"]

_MAX_OUTPUT_CHARS = 500


def _clip(text: str, limit: int = _MAX_OUTPUT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class PageObserver:
    """Sends a session's events to the page, redacted (a `HubObserver`).

    Args:
        link: the page's websocket.
        secrets: values never to send (the graph's `${ENV}` values).
    """

    def __init__(
        self,
        link: BrowserLink,
        *,
        secrets: frozenset[str] = frozenset(),
        caller_transcripts: bool = True,
    ) -> None:
        self.link = link
        self.secrets = secrets
        self.caller_transcripts = caller_transcripts
        self.agent = ""
        self._speech_start_ms: int | None = None

    def send(self, message: dict[str, Any]) -> None:
        """Send one message, with secrets and API keys taken out of every string."""
        text = redact_text(json.dumps(message, ensure_ascii=False))
        if self.secrets:
            text = redact_secrets(text, self.secrets)
        self.link.send_json(json.loads(text))

    def on_event(self, event: Any, now: float) -> None:
        kind = event_type(event)
        if kind == "agent_start":
            self.agent = display_name(event.agent)
            self.send({"type": "agent_start", "agent": self.agent})
        elif kind == "handoff":
            self.agent = display_name(event.to_agent)
            self.send(
                {
                    "type": "handoff",
                    "from_agent": display_name(event.from_agent),
                    "to_agent": self.agent,
                }
            )
        elif kind == "transcript_done":
            text = str(getattr(event, "transcript", "")).strip()
            if text:
                self.send({"type": "agent", "agent": self.agent, "text": text})
        elif kind == "input_transcript_done":
            text = str(getattr(event, "transcript", "")).strip()
            if text:
                self.send({"type": "caller", "text": text})
        elif kind == "speech_started":
            self._speech_start_ms = getattr(event, "audio_start_ms", None)
            self.send({"type": "speech", "state": "started"})
        elif kind == "speech_stopped":
            self.send({"type": "speech", "state": "stopped"})
            if not self.caller_transcripts:  # as the console says it: the words are unknown
                start, end = self._speech_start_ms, getattr(event, "audio_end_ms", None)
                length = f" {(end - start) / 1000:.1f} s" if start is not None and end else ""
                self.send({"type": "caller", "text": f"(spoke{length}; transcription is off)"})
        elif kind == "tool_start":
            self.send(
                {
                    "type": "tool_start",
                    "agent": display_name(event.agent),
                    "tool_name": event.tool_name,
                    "call_id": event.call_id,
                    "arguments": event.arguments,
                }
            )
        elif kind == "tool_end":
            self.send(
                {
                    "type": "tool_end",
                    "tool_name": event.tool_name,
                    "call_id": event.call_id,
                    "output": _clip(str(event.output)),
                    "ok": bool(getattr(event, "ok", True)),
                }
            )
        elif kind == "guardrail_tripped":
            self.send(
                {
                    "type": "guardrail",
                    "guardrail_name": event.guardrail_name,
                    "message": event.message,
                }
            )
        elif kind == "error":
            error = getattr(event, "error", {})
            message = error.get("message") if isinstance(error, dict) else str(error)
            self.send({"type": "error", "message": str(message)})
        elif kind == "dtmf":
            self.send({"type": "note", "text": f"  # caller pressed {event.digits}"})
        elif kind == "connection" and event.status == "reconnecting":
            self.send({"type": "note", "text": f"  reconnecting (attempt {event.attempt})"})

    def on_caller_text(self, text: str, now: float) -> None:
        self.send({"type": "caller", "text": text})

    def on_caller_audio(self, audio: bytes, now: float) -> None:
        pass

    def on_agent_played(self, agent: str, audio: bytes, now: float) -> None:
        pass

    def on_latency(self, agent: str, latency_ms: float) -> None:
        self.send({"type": "latency", "agent": agent, "latency_ms": round(latency_ms, 1)})

    def on_interrupted(self, item_id: str, heard_ms: float) -> None:
        self.send({"type": "interrupted", "item_id": item_id, "heard_ms": round(heard_ms, 1)})

    def note(self, text: str) -> None:
        """An app-level line (reloads, records path)."""
        self.send({"type": "note", "text": text})


class PageApprovals:
    """Operator approvals from the page's buttons; no answer within `timeout_s` denies.

    Args:
        session: the real session (`approve_tool_call` / `reject_tool_call`).
        page: where the question is shown.
        timeout_s: the console's approval timeout.
    """

    def __init__(self, session: Any, page: PageObserver, *, timeout_s: float = 60.0) -> None:
        self.session = session
        self.page = page
        self.timeout_s = timeout_s
        self.decisions: list[tuple[str, bool]] = []
        self._waiting: dict[str, asyncio.Future[bool]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def on_event(self, event: Any) -> None:
        """Hub listener: ask the page about each approval request."""
        if event_type(event) != "tool_approval_required":
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._waiting[event.call_id] = future
        self.page.send(
            {
                "type": "approval",
                "call_id": event.call_id,
                "tool_name": event.tool_name,
                "arguments": event.arguments,
                "message": getattr(event, "message", ""),
            }
        )
        task = loop.create_task(self._decide(event.call_id, event.tool_name, future))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def answer(self, call_id: str, approved: bool) -> bool:
        """The operator clicked Approve or Deny; False if nothing waits for that call."""
        future = self._waiting.get(call_id)
        if future is None or future.done():
            return False
        future.set_result(approved)
        return True

    async def _decide(self, call_id: str, tool_name: str, future: asyncio.Future[bool]) -> None:
        reason = ""
        try:
            approved = await asyncio.wait_for(future, self.timeout_s)
        except TimeoutError:
            approved, reason = False, "no answer"
        finally:
            self._waiting.pop(call_id, None)
        self.decisions.append((call_id, approved))
        self.page.send(
            {
                "type": "approval_closed",
                "call_id": call_id,
                "tool_name": tool_name,
                "approved": approved,
                "reason": reason,
            }
        )
        if approved:
            await self.session.approve_tool_call(call_id)
        else:
            await self.session.reject_tool_call(call_id, "The operator did not approve.")

    async def close(self) -> None:
        """Deny what still waits (the page went away) and stop."""
        for future in list(self._waiting.values()):
            if not future.done():
                future.set_result(False)
        for task in list(self._tasks):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 5)


def save_graph(path: Path, text: str) -> list[dict[str, Any]]:
    """Write the editor's text to the graph file and validate it.

    Returns the findings as `validate --format json` gives them (empty when clean).
    The file is written first, as an editor would, so the user never loses an edit.
    """
    from agentgraph.compile.check import validate_graph  # what plain `validate` runs

    path.write_text(text, encoding="utf-8")
    result = validate_graph(path)
    return [finding.to_json() for finding in result.findings]
