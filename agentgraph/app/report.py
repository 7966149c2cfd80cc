"""`agentgraph report runs/<ts>`: one self-contained `report.html` for a run's records.

A timeline of the conversation (caller and agent speech with the agent's name, tool calls
with arguments and results, approvals, handoffs, guardrail trips, interruptions, errors,
and each turn's latency), the summary's counts and latency per agent, and the stereo
recording inline when the run had `--record` (click a line to hear that moment). Everything
is in the one file (styles inline, audio as a data URI), so it can be mailed or archived.

Built only from the records `SessionRecorder` writes, which are already redacted.
"""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path
from typing import Any

from agentgraph.errors import UsageError

__all__ = ["render_report", "timeline", "write_report"]

_MAX_TEXT = 600

_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 960px; color: #1d1d1f; }
h1 { font-size: 20px; margin: 0 0 4px; } .meta { color: #6e6e73; margin-bottom: 12px; }
table { border-collapse: collapse; width: 100%; } td { padding: 3px 8px; vertical-align: top; }
tr.row { cursor: pointer; } tr.row:hover { background: #f2f5fa; }
td.t { color: #6e6e73; font: 12px ui-monospace, monospace; white-space: nowrap; text-align: right; }
td.who { font-weight: 600; white-space: nowrap; } .caller td.who { color: #0b62c4; }
.agent td.who { color: #0a7d44; } .tool td, .handoff td, .note td { color: #444; }
.approval td { color: #b25000; } .error td, .guardrail td { color: #c0162c; }
.lat { color: #6e6e73; font-size: 12px; } code { font: 12px ui-monospace, monospace; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 12px 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 6px 12px; }
.card b { display: block; font-size: 18px; } audio { width: 100%; margin: 8px 0; }
"""

_SEEK = (
    "document.querySelectorAll('tr.row').forEach(r=>r.onclick=()=>{const a="
    "document.querySelector('audio');if(a){a.currentTime=+r.dataset.t;a.play();}});"
)


def _clip(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def _call(name: str, arguments: Any) -> str:
    try:
        args = json.loads(arguments) if isinstance(arguments, str) and arguments.strip() else {}
    except ValueError:
        return f"{name}({arguments})"
    if not isinstance(args, dict):
        return f"{name}({json.dumps(args)})"
    return (
        f"{name}("
        + ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in args.items())
        + ")"
    )


def timeline(events: list[dict[str, Any]]) -> list[tuple[float, str, str, str]]:
    """`(t, kind, who, text)` rows from events.jsonl records, in order."""
    rows: list[tuple[float, str, str, str]] = []
    agent = ""
    pending_latency: float | None = None
    for ev in events:
        t = float(ev.get("t", 0.0))
        kind = ev.get("type")
        if kind == "agent_start":
            agent = str(ev.get("agent", "")) or agent
        elif kind == "handoff":
            agent = str(ev.get("to_agent", "")) or agent
            rows.append((t, "handoff", "handoff", f"{ev.get('from_agent')} → {agent}"))
        elif kind == "caller_text" or kind == "input_transcript_done":
            text = str(ev.get("text") or ev.get("transcript") or "").strip()
            if text:
                rows.append((t, "caller", "caller", _clip(text)))
        elif kind == "transcript_done":
            text = str(ev.get("transcript", "")).strip()
            if text:
                lat = f"{pending_latency:.0f}" if pending_latency is not None else ""
                rows.append(
                    (t, "agent", agent or "agent", _clip(text) + (f"\x00{lat}" if lat else ""))
                )
                pending_latency = None
        elif kind == "latency":
            pending_latency = float(ev.get("latency_ms", 0.0))
        elif kind == "tool_start":
            rows.append(
                (
                    t,
                    "tool",
                    "tool",
                    "→ " + _clip(_call(str(ev.get("tool_name")), ev.get("arguments"))),
                )
            )
        elif kind == "tool_end":
            mark = "←" if ev.get("ok", True) else "← failed"
            rows.append(
                (t, "tool", "tool", f"{mark} {ev.get('tool_name')}: {_clip(ev.get('output', ''))}")
            )
        elif kind == "tool_approval_required":
            call = _call(str(ev.get("tool_name")), ev.get("arguments"))
            message = ev.get("message") or ""
            rows.append(
                (t, "approval", "approval", _clip(f"{message} — {call}" if message else call))
            )
        elif kind == "guardrail_tripped":
            rows.append(
                (
                    t,
                    "guardrail",
                    "guardrail",
                    _clip(f"{ev.get('guardrail_name')}: {ev.get('message')}"),
                )
            )
        elif kind == "playback_interrupted":
            heard = float(ev.get("heard_ms", 0.0)) / 1000
            rows.append((t, "note", "barge-in", f"the caller heard {heard:.2f} s of that reply"))
        elif kind == "error":
            error = ev.get("error")
            message = error.get("message", error) if isinstance(error, dict) else error
            rows.append((t, "error", "error", _clip(str(message))))
    return rows


def _row(t: float, kind: str, who: str, text: str) -> str:
    body, _, lat = text.partition("\x00")
    extra = f' <span class="lat">[{escape(lat)} ms]</span>' if lat else ""
    return (
        f'<tr class="row {kind}" data-t="{t:.3f}"><td class="t">{t:7.2f} s</td>'
        f'<td class="who">{escape(who)}</td><td>{escape(body)}{extra}</td></tr>'
    )


def render_report(run_dir: Path) -> str:
    """The report for one run directory, as HTML text.

    Raises:
        UsageError: `run_dir` holds no session records.
    """
    events_path = run_dir / "events.jsonl"
    if not events_path.is_file():
        raise UsageError(f"{run_dir} has no events.jsonl: pass a run directory such as runs/<ts>")
    events = []
    for line in events_path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a run cut short may end mid-line
        if isinstance(record, dict):
            events.append(record)
    summary: dict[str, Any] = {}
    summary_path = run_dir / "summary.json"
    if summary_path.is_file():
        try:
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
        except ValueError:
            summary = {}
    turns = summary.get("turns") or {}
    latency = (summary.get("latency") or {}).get("all") or {}
    cards = [
        ("caller turns", turns.get("caller_turns", "–")),
        ("agent turns", turns.get("agent_turns", "–")),
        ("tool calls", len(summary.get("tool_calls") or [])),
        ("approvals", len(summary.get("approvals") or [])),
        ("handoffs", len(summary.get("handoffs") or [])),
        ("interruptions", turns.get("interruptions", "–")),
        ("latency p50", f"{latency['p50_ms']:.0f} ms" if "p50_ms" in latency else "–"),
        ("latency p95", f"{latency['p95_ms']:.0f} ms" if "p95_ms" in latency else "–"),
    ]
    audio = ""
    wav = run_dir / "audio.wav"
    if wav.is_file():
        data = base64.b64encode(wav.read_bytes()).decode("ascii")
        audio = (
            '<audio controls preload="metadata" '
            f'src="data:audio/wav;base64,{data}"></audio>'
            '<div class="meta">left: caller, right: agent; click a line to hear it</div>'
        )
    meta = " · ".join(
        escape(str(summary[k])) for k in ("graph", "provider", "model") if summary.get(k)
    )
    rows = "".join(_row(*row) for row in timeline(events))
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>agentgraph report {escape(run_dir.name)}</title>"
        '<link rel="icon" href="data:,">'
        f"<style>{_CSS}</style></head><body>"
        f'<h1>Conversation {escape(run_dir.name)}</h1><div class="meta">{meta}'
        f"{' · ' if meta else ''}{summary.get('duration_s', 0)} s</div>"
        '<div class="cards">'
        + "".join(f'<div class="card"><b>{escape(str(v))}</b>{escape(k)}</div>' for k, v in cards)
        + f"</div>{audio}<table>{rows}</table><script>{_SEEK}</script></body></html>\n"
    )


def write_report(run_dir: Path) -> Path:
    """Write `run_dir/report.html`; returns its path."""
    path = run_dir / "report.html"
    path.write_text(render_report(run_dir), encoding="utf-8")
    return path
