"""The console: a live, readable view of a session (or JSON lines, or only the transcript).

```
connected: local engine (ws://127.0.0.1:40123/v1/realtime)
you: What's the weather in Tokyo?
  -> get_weather(city="Tokyo")
  <- get_weather: Sunny, 24 °C, light breeze.
weather: In Tokyo it is sunny and 24 degrees.   [612 ms]
```

Modes: `text` (the above), `json` (every session event as one JSON line, audio as byte
counts, secrets redacted) and `quiet` (only the transcript lines). The console never reads
input; operator approval prompts are printed by `agentgraph.app.approvals`.
"""

from __future__ import annotations

import json
import sys
from typing import Any, Literal, TextIO

from agentgraph.app.eventdata import (
    display_name,
    event_to_dict,
    event_type,
    redact_secrets,
    redact_text,
)
from agentgraph.realtime import events as se

__all__ = ["ConsoleMode", "ConsoleRenderer", "format_call"]

ConsoleMode = Literal["text", "json", "quiet"]

_MAX_RESULT_CHARS = 200
# Events too frequent or too internal for the text view.
_SILENT = frozenset(
    {
        "audio_delta",
        "audio_done",
        "transcript_delta",
        "input_transcript_delta",
        "history_added",
        "raw_model_event",
        "agent_end",
        "speech_stopped",
    }
)


def _terminal_colors() -> bool:
    """Colour is welcome: NO_COLOR (https://no-color.org) is unset and TERM is not dumb."""
    import os

    return not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def format_call(tool_name: str, arguments: str | dict[str, Any], *, full: bool = False) -> str:
    """`book_appointment(date="2026-12-01", time="18:00")` from JSON arguments.

    Args:
        full: show every argument in full (approval prompts); otherwise long calls are
            clipped for the running view.
    """
    clip = (lambda text: text) if full else _clip
    args: Any = arguments
    if isinstance(arguments, str):
        try:
            args = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return f"{tool_name}({clip(redact_text(arguments))})"
    if not isinstance(args, dict):
        return f"{tool_name}({clip(redact_text(json.dumps(args)))})"
    inner = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in args.items())
    return f"{tool_name}({clip(redact_text(inner))})"


def _clip(text: str, limit: int = _MAX_RESULT_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ConsoleRenderer:
    """Prints a session as it happens; a `HubObserver`.

    Args:
        mode: `text`, `json` or `quiet`.
        out: where to print (stdout by default).
        color: style agent names and notes (default: when `out` is a terminal that shows
            colour and NO_COLOR is not set).
        caller_transcripts: the session transcribes the caller (else "you spoke" lines).
        secrets: values never to print (the graph's `${ENV}` values).
    """

    def __init__(
        self,
        mode: ConsoleMode = "text",
        *,
        out: TextIO | None = None,
        color: bool | None = None,
        caller_transcripts: bool = True,
        secrets: frozenset[str] = frozenset(),
    ) -> None:
        self.mode = mode
        self.secrets = secrets
        self.caller_transcripts = caller_transcripts
        self._speech_start_ms: int | None = None
        self.out = out if out is not None else sys.stdout
        isatty = getattr(self.out, "isatty", None)
        if color is None:  # a terminal that can show colour, unless NO_COLOR says no
            color = callable(isatty) and bool(isatty()) and _terminal_colors()
        self.color = bool(color)
        self.agent = ""
        self._pending_latency_ms: float | None = None
        self._printed_items: set[str] = set()

    # -- HubObserver ------------------------------------------------------------------
    def on_event(self, event: Any, now: float) -> None:
        if self.mode == "json":
            if event_type(event) != "raw_model_event":
                self._line(json.dumps(event_to_dict(event), ensure_ascii=False))
            return
        kind = event_type(event)
        match event:
            case se.RealtimeAgentStartEvent():
                self.agent = display_name(event.agent)
            case se.RealtimeHandoffEvent():
                self.agent = display_name(event.to_agent)
            case se.RealtimeTranscriptDoneEvent():
                self._agent_line(event.item_id, event.transcript)
                return
            case se.RealtimeInputTranscriptDoneEvent():
                if event.transcript.strip():
                    self._line(f"{self._style('you', 'cyan')}: {event.transcript.strip()}")
                return
            case se.RealtimeSpeechStartedEvent():
                self._speech_start_ms = event.audio_start_ms
            case se.RealtimeSpeechStoppedEvent() if not self.caller_transcripts:
                # without transcription the caller's words are unknown: show that they spoke
                start, end = self._speech_start_ms, event.audio_end_ms
                length = f" {(end - start) / 1000:.1f} s" if start is not None and end else ""
                self._line(f"{self._style('you', 'cyan')}: (spoke{length}; transcription is off)")
                return
        if self.mode == "quiet" or kind in _SILENT:
            return
        note = self._note(kind, event)
        if note:
            self._line(self._style(note, "bright_black" if kind != "error" else "red"))

    def on_caller_text(self, text: str, now: float) -> None:
        if self.mode != "json":
            self._line(f"{self._style('you', 'cyan')}: {text}")

    def on_caller_audio(self, audio: bytes, now: float) -> None:
        pass

    def on_agent_played(self, agent: str, audio: bytes, now: float) -> None:
        pass

    def on_latency(self, agent: str, latency_ms: float) -> None:
        if self.mode == "json":
            self._line(
                json.dumps({"type": "latency", "agent": agent, "latency_ms": round(latency_ms, 1)})
            )
        elif self.mode == "text":
            self._pending_latency_ms = latency_ms

    def on_interrupted(self, item_id: str, heard_ms: float) -> None:
        if self.mode == "json":
            self._line(
                json.dumps(
                    {
                        "type": "playback_interrupted",
                        "item_id": item_id,
                        "heard_ms": round(heard_ms, 1),
                    }
                )
            )
        elif self.mode == "text":
            self._line(
                self._style(
                    f"  ~ interrupted: the caller heard {heard_ms / 1000:.2f} s of that reply",
                    "bright_black",
                )
            )

    # -- app notes (not session events) --------------------------------------------------
    def note(self, text: str) -> None:
        """An app-level line (which backend, records path, reload findings)."""
        if self.mode == "json":
            self._line(json.dumps({"type": "note", "text": text}, ensure_ascii=False))
        elif self.mode == "text":
            self._line(self._style(text, "bright_black"))

    # -- internals ---------------------------------------------------------------------
    def _agent_line(self, item_id: str, transcript: str) -> None:
        text = transcript.strip()
        if not text:
            return
        if item_id:
            self._printed_items.add(item_id)
        line = f"{self._style(self.agent or 'agent', 'green')}: {text}"
        if self.mode == "text" and self._pending_latency_ms is not None:
            line += self._style(f"   [{self._pending_latency_ms:.0f} ms]", "bright_black")
            self._pending_latency_ms = None
        self._line(line)

    def _note(self, kind: str, event: Any) -> str | None:
        match event:
            case se.RealtimeToolStartEvent():
                return f"  -> {format_call(event.tool_name, event.arguments)}"
            case se.RealtimeToolEndEvent():
                mark = "<-" if event.ok else "<- failed"
                return f"  {mark} {event.tool_name}: {_clip(redact_text(str(event.output)))}"
            case se.RealtimeToolApprovalRequiredEvent():
                call = format_call(event.tool_name, event.arguments, full=True)
                return f"  ? approval {event.approval_id} needed: {call}"
            case se.RealtimeApprovalDecidedEvent():
                verdict = "approved" if event.approved else "denied"
                how = f" ({_clip(event.answer, 60)!r})" if event.answer else ""
                return (
                    f"  {'✓' if event.approved else '✗'} approval {event.approval_id} "
                    f"{verdict} by {event.answered_by}{how}: {event.tool_name}"
                )
            case se.RealtimeHandoffEvent():
                return (
                    f"  => handoff: {display_name(event.from_agent)} -> "
                    f"{display_name(event.to_agent)}"
                )
            case se.RealtimeGuardrailTrippedEvent():
                blocked = _clip(redact_text(event.text))
                return (
                    f"  ! guardrail {event.guardrail_name} blocked (not said): {blocked}\n"
                    f"  ! said instead: {_clip(event.message)}"
                )
            case se.RealtimeDtmfEvent():
                return f"  # caller pressed {event.digits}"
            case se.RealtimeConnectionEvent(status="reconnecting"):
                reason = f": {event.reason}" if event.reason else ""
                return f"  reconnecting (attempt {event.attempt}){reason}"
            case se.RealtimeConnectionEvent(status="connected") if event.attempt:
                return "  reconnected"
            case se.RealtimeConnectionEvent(status="closed"):
                return "  session closed"
            case se.RealtimeErrorEvent():
                error = event.error
                message = error.get("message") if isinstance(error, dict) else str(error)
                return f"  error: {redact_text(str(message))}"
            case _:
                return None  # audio_interrupted: see on_interrupted (it knows what was heard)

    def _style(self, text: str, fg: str) -> str:
        if not self.color:
            return text
        import click

        return click.style(text, fg=fg)

    def _line(self, text: str) -> None:
        if self.secrets:
            text = redact_secrets(text, self.secrets)
        self.out.write(text + "\n")
        self.out.flush()
