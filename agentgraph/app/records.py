"""Session records: `runs/<timestamp>/` with events.jsonl, transcript.txt, summary.json and,
with `--record`, a stereo audio.wav (caller left, agent right).

events.jsonl has every session event (audio as byte counts, secrets redacted) with `t`,
seconds since the session started. summary.json counts turns, tool calls, approvals,
handoffs, guardrail trips, interruptions and errors, and gives turn latency p50/p95 per
agent (see `agentgraph.app.latency` for the definition).

Records must survive what happens to processes: every line is flushed as it is written
(a SIGTERM or a crash keeps what was said so far), and a write that fails (full disk,
unwritable folder) logs one warning naming the folder and stops recording; it never
raises into the conversation. Secrets are replaced in every value before it is
serialised, and the serialised text is checked once more for escaped spellings.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from agentgraph.app.eventdata import (
    display_name,
    event_to_dict,
    event_type,
    redact_secrets,
    redact_text,
    redact_value,
)
from agentgraph.app.latency import LatencyMeter
from agentgraph.audio import AudioFormat, resample_pcm16, write_wav_pcm16
from agentgraph.audio.g711 import alaw_to_pcm16, ulaw_to_pcm16

__all__ = ["CallRecords", "SessionRecorder", "new_run_dir"]

log = logging.getLogger(__name__)
_RATE_HZ = 24000


def new_run_dir(base: str | Path = "runs", *, when: _dt.datetime | None = None) -> Path:
    """Create and return a fresh `base/<YYYYmmdd-HHMMSS>` directory (suffixed if taken)."""
    stamp = (when or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    root = Path(base)
    candidate = root / stamp
    n = 1
    while candidate.exists():
        n += 1
        candidate = root / f"{stamp}-{n}"
    # on failure the recorder reports it once and the conversation goes on without records
    with contextlib.suppress(OSError):
        candidate.mkdir(parents=True)
    return candidate


class _RecordFile:
    """A text file that never receives a secret, is flushed per write, and on a failed
    write reports (once, through `failed`) and goes quiet instead of raising."""

    def __init__(
        self, path: Path, secrets: frozenset[str], failed: Callable[[OSError], None]
    ) -> None:
        self.secrets = secrets
        self.failed = failed
        self.file: TextIO | None = None
        try:
            self.file = path.open("w", encoding="utf-8")
        except OSError as exc:
            failed(exc)

    def write(self, text: str) -> None:
        if self.file is None:
            return
        try:
            self.file.write(redact_secrets(text, self.secrets) if self.secrets else text)
            self.file.flush()
        except OSError as exc:
            self._drop()
            self.failed(exc)

    def close(self) -> None:
        if self.file is not None:
            try:
                self.file.close()
            except OSError as exc:
                self.failed(exc)
            self.file = None

    def _drop(self) -> None:
        file, self.file = self.file, None
        try:
            if file is not None:
                file.close()
        except OSError:
            pass  # its buffer holds what could not be written; nothing more to do


class _Track:
    """One mono channel laid out on the session timeline (pcm16 24 kHz)."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def add(self, pcm: bytes, at_s: float) -> None:
        position = int(max(0.0, at_s) * _RATE_HZ) * 2
        if position > len(self.buf):
            self.buf += bytes(position - len(self.buf))
        self.buf += pcm


class SessionRecorder:
    """Writes one session's records; a `HubObserver`.

    Args:
        directory: the run directory (see `new_run_dir`).
        latency: the hub's latency meter (summary.json reports it).
        record_audio: also write the stereo `audio.wav`.
        audio_format: format of caller and agent audio (converted to pcm16 24 kHz).
        meta: extra facts for summary.json (graph name, backend).
        secrets: values never to write (the graph's `${ENV}` values).
    """

    def __init__(
        self,
        directory: Path,
        *,
        latency: LatencyMeter,
        record_audio: bool = False,
        audio_format: AudioFormat = AudioFormat.PCM16,
        meta: dict[str, Any] | None = None,
        secrets: frozenset[str] = frozenset(),
    ) -> None:
        self.directory = directory
        self.latency = latency
        self.record_audio = record_audio
        self.audio_format = audio_format
        self.meta = dict(meta or {})
        self.secrets = secrets
        self.write_error: str | None = None
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._failed(exc)
        self._events = _RecordFile(directory / "events.jsonl", secrets, self._failed)
        self._transcript = _RecordFile(directory / "transcript.txt", secrets, self._failed)
        self._t0: float | None = None
        self._last_t = 0.0
        self._agent = ""
        self._caller = _Track()
        self._agent_track = _Track()
        self.counts = {
            "caller_turns": 0,
            "agent_turns": 0,
            "interruptions": 0,
            "guardrail_trips": 0,
        }
        self.tool_calls: list[dict[str, Any]] = []
        self.approvals: list[dict[str, Any]] = []
        self.handoffs: list[dict[str, str]] = []
        self.errors: list[str] = []
        self.closed = False

    def _t(self, now: float) -> float:
        if self._t0 is None:
            self._t0 = now
        self._last_t = now - self._t0
        return self._last_t

    def _failed(self, exc: OSError) -> None:
        """The first write failure is one warning; later ones are silent."""
        if self.write_error is not None:
            return
        self.write_error = f"{exc.strerror or exc}"
        log.warning(
            "cannot write records in %s (%s); the conversation goes on without them",
            self.directory,
            self.write_error,
        )

    def _line(self, record: dict[str, Any]) -> None:
        safe = redact_value(record, self.secrets) if self.secrets else record
        self._events.write(json.dumps(safe, ensure_ascii=False) + "\n")

    # -- HubObserver ------------------------------------------------------------------
    def on_event(self, event: Any, now: float) -> None:
        kind = event_type(event)
        if kind == "raw_model_event":
            return
        record = event_to_dict(event)
        record["t"] = round(self._t(now), 3)
        self._line(record)
        match kind:
            case "agent_start":
                self._agent = display_name(event.agent)
            case "handoff":
                self._agent = display_name(event.to_agent)
                self.handoffs.append(
                    {"from": display_name(event.from_agent), "to": display_name(event.to_agent)}
                )
            case "transcript_done":
                text = event.transcript.strip()
                if text:
                    self.counts["agent_turns"] += 1
                    self._transcript.write(f"{self._agent or 'agent'}: {text}\n")
            case "input_transcript_done":
                text = event.transcript.strip()
                if text:
                    self.counts["caller_turns"] += 1
                    self._transcript.write(f"caller: {text}\n")
            case "tool_end":
                self.tool_calls.append(
                    {
                        "name": event.tool_name,
                        "arguments": redact_text(event.arguments),
                        "output": redact_text(str(event.output))[:2000],
                        "ok": bool(getattr(event, "ok", True)),
                    }
                )
            case "approval_decided":  # every kind: caller, operator, app, policy, timeout
                self.approvals.append(
                    {
                        "id": event.approval_id,
                        "tool": event.tool_name,
                        "arguments": redact_text(event.arguments),
                        "question": redact_text(event.question),
                        "by": event.by,
                        "approved": bool(event.approved),
                        "answered_by": event.answered_by,
                        "answer": redact_text(event.answer),
                    }
                )
            case "guardrail_tripped":
                self.counts["guardrail_trips"] += 1
                blocked = str(getattr(event, "text", "")).strip()
                if blocked:
                    self._transcript.write(
                        f"{self._agent or 'agent'} [blocked, not said]: {blocked}\n"
                    )
            case "audio_interrupted":
                self.counts["interruptions"] += 1
            case "error":
                error = event.error
                message = error.get("message", error) if isinstance(error, dict) else error
                self.errors.append(redact_text(str(message)))
            case _:
                pass

    def on_caller_text(self, text: str, now: float) -> None:
        self._t(now)
        self.counts["caller_turns"] += 1
        self._transcript.write(f"caller: {text}\n")
        self._line({"type": "caller_text", "text": redact_text(text), "t": round(self._last_t, 3)})

    def on_caller_audio(self, audio: bytes, now: float) -> None:
        if self.record_audio:
            self._caller.add(self._to_pcm16(audio), self._t(now))

    def on_agent_played(self, agent: str, audio: bytes, now: float) -> None:
        if self.record_audio and audio:
            self._agent_track.add(self._to_pcm16(audio), self._t(now))

    def on_latency(self, agent: str, latency_ms: float) -> None:
        self._line(
            {
                "type": "latency",
                "agent": agent,
                "latency_ms": round(latency_ms, 1),
                "t": round(self._last_t, 3),
            }
        )

    def on_interrupted(self, item_id: str, heard_ms: float) -> None:
        self._line(
            {
                "type": "playback_interrupted",
                "item_id": item_id,
                "heard_ms": round(heard_ms, 1),
                "t": round(self._last_t, 3),
            }
        )

    # -- finish ------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """The content of summary.json."""
        return {
            **self.meta,
            "duration_s": round(self._last_t, 3),
            "turns": dict(self.counts),
            "tool_calls": self.tool_calls,
            "approvals": self.approvals,
            "handoffs": self.handoffs,
            "errors": self.errors,
            "latency": self.latency.summary(),
        }

    def close(self) -> None:
        """Flush everything and write summary.json (and audio.wav); idempotent."""
        if self.closed:
            return
        self.closed = True
        self._events.close()
        self._transcript.close()
        summary = redact_value(self.summary(), self.secrets)
        text = json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
        try:
            (self.directory / "summary.json").write_text(
                redact_secrets(text, self.secrets), encoding="utf-8"
            )
            if self.record_audio:
                self._write_stereo(self.directory / "audio.wav")
        except OSError as exc:
            self._failed(exc)

    def _to_pcm16(self, audio: bytes) -> bytes:
        if self.audio_format is AudioFormat.PCM16:
            return audio
        pcm = (
            ulaw_to_pcm16(audio)
            if self.audio_format is AudioFormat.G711_ULAW
            else (alaw_to_pcm16(audio))
        )
        return resample_pcm16(pcm, 8000, _RATE_HZ)

    def _write_stereo(self, path: Path) -> None:
        import numpy as np

        left = np.frombuffer(bytes(self._caller.buf), dtype="<i2")
        right = np.frombuffer(bytes(self._agent_track.buf), dtype="<i2")
        n = max(left.size, right.size)
        stereo = np.zeros((n, 2), dtype="<i2")
        stereo[: left.size, 0] = left
        stereo[: right.size, 1] = right
        write_wav_pcm16(path, stereo.tobytes(), rate_hz=_RATE_HZ, channels=2)


class CallRecords:
    """Records for `serve`: one folder per call under `directory`, as `run` writes them.

    A call's recorder starts with its first event and closes (writing summary.json) when
    its model connection closes, or at `close()`. At most `max_open` calls are recorded
    at once; the oldest is closed first.
    """

    def __init__(
        self,
        directory: Path,
        *,
        clock: Callable[[], float],
        secrets: frozenset[str] = frozenset(),
        meta: dict[str, Any] | None = None,
        max_open: int = 256,
    ) -> None:
        self.directory = directory
        self.clock = clock
        self.secrets = secrets
        self.meta = dict(meta or {})
        self.max_open = max_open
        self.open: dict[str, SessionRecorder] = {}
        self.finished = 0

    def on_event(self, call_id: str, event: Any) -> None:
        """A `CallSessions.on_event` observer."""
        recorder = self.open.get(call_id)
        if recorder is None:
            if len(self.open) >= self.max_open:
                self._finish(next(iter(self.open)))
            recorder = self.open[call_id] = SessionRecorder(
                self._folder(call_id),
                latency=LatencyMeter(),
                secrets=self.secrets,
                meta={**self.meta, "call_id": call_id},
            )
        recorder.on_event(event, self.clock())
        if event_type(event) == "connection" and getattr(event, "status", "") == "closed":
            self._finish(call_id)

    def close(self) -> None:
        """Close every call still recording (at shutdown)."""
        for call_id in list(self.open):
            self._finish(call_id)

    def _finish(self, call_id: str) -> None:
        recorder = self.open.pop(call_id, None)
        if recorder is not None:
            recorder.close()
            self.finished += 1

    def _folder(self, call_id: str) -> Path:
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", call_id)[:64].lstrip(".") or "call"
        folder = self.directory / name
        n = 1
        while folder.exists():
            n += 1
            folder = self.directory / f"{name}-{n}"
        return folder
