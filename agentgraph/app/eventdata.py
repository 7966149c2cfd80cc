"""Session events as plain JSON-able dicts, without audio bytes and with secrets redacted.

Used by `--json` output and `events.jsonl`. Session events are frozen dataclasses
(`agentgraph.realtime.events`); their fields may hold agents and tools (shown by name),
bytes (shown as a length, never the audio) and raw wire dicts (walked, with audio payloads
and anything that looks like a credential removed).
"""

from __future__ import annotations

import dataclasses
import functools
import html
import json
import logging
import re
from typing import Any

from agentgraph.spec.secrets import map_strings

__all__ = [
    "display_name",
    "event_to_dict",
    "event_type",
    "redact_logs",
    "redact_secrets",
    "redact_text",
    "redact_value",
]

_SECRET_KEYS = re.compile(r"(api[_-]?key|authorization|secret|password|token|bearer)", re.I)
_SECRET_VALUES = re.compile(
    r"\b(sk-[A-Za-z0-9_\-]{6,}|ek_[A-Za-z0-9_\-]{6,}|whsec_[A-Za-z0-9+/=]+)"
)
# Token-count fields are not secrets even though their names contain "token".
_NOT_SECRET_KEYS = frozenset(
    {
        "input_tokens",
        "output_tokens",
        "total_tokens",
        "max_output_tokens",
        "text_tokens",
        "audio_tokens",
        "cached_tokens",
        "token_limits",
        "max_tokens",
    }
)
# Wire fields that carry base64 audio.
_AUDIO_KEYS = frozenset({"audio", "delta_audio"})
_MAX_DEPTH = 8
_NAMED_TYPES = frozenset({"RealtimeAgent", "FunctionTool", "Handoff", "RealtimeOutputGuardrail"})


def event_type(event: object) -> str:
    """The session event's `type` (e.g. `audio_delta`)."""
    return str(getattr(event, "type", type(event).__name__))


def display_name(value: object) -> str:
    """A short human name for an agent, tool, guardrail or plain value."""
    name = getattr(value, "name", None)
    if isinstance(name, str):
        return name
    return str(value)


def redact_text(text: str) -> str:
    """Replace API keys and client secrets inside free text."""
    return _SECRET_VALUES.sub("[redacted]", text)


@functools.lru_cache(maxsize=64)
def _spellings(secrets: frozenset[str]) -> tuple[str, ...]:
    """Every way a secret may appear in our outputs: as is, JSON-escaped (`\\"`, `\\\\`,
    `\\u00fc`), XML-escaped and as a Python repr; longest first so none leaves a tail."""
    out: set[str] = set()
    for secret in secrets:
        if len(secret) < 4:
            continue
        out.add(secret)
        out.add(json.dumps(secret, ensure_ascii=False)[1:-1])
        out.add(json.dumps(secret)[1:-1])
        out.add(html.escape(secret, quote=True))
        out.add(html.escape(secret, quote=False))
        out.add(repr(secret)[1:-1])
    return tuple(sorted(out, key=len, reverse=True))


def redact_secrets(text: str, secrets: frozenset[str]) -> str:
    """Replace known secret values (the graph's secrets) inside `text`, also in their
    escaped spellings, for text that was serialised before it got here."""
    if not secrets:
        return text
    for spelling in _spellings(secrets):
        if spelling in text:
            text = text.replace(spelling, "[redacted]")
    return text


def redact_value(value: Any, secrets: frozenset[str]) -> Any:
    """`value` (str, or dicts/lists of them) with secrets replaced in every string, keys
    included: redact before serialising, so no escaping can hide a secret."""
    if not secrets:
        return value
    return map_strings(value, lambda text: redact_secrets(text, secrets))


class _RedactingFilter(logging.Filter):
    def __init__(self, secrets: frozenset[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = redact_secrets(redact_text(record.getMessage()), self.secrets)
        record.msg, record.args = message, None
        if record.exc_info and record.exc_info[1] is not None:  # tracebacks quote values
            record.exc_text = redact_secrets(
                redact_text(logging.Formatter().formatException(record.exc_info)), self.secrets
            )
            record.exc_info = None
        return True


def redact_logs(secrets: frozenset[str]) -> None:
    """Mask secrets in every log line this process prints (the handlers of the root logger,
    or Python's last-resort stderr handler when none is configured)."""
    handlers = [*logging.getLogger().handlers, logging.lastResort]
    for handler in handlers:
        if handler is None:
            continue
        for old in [f for f in handler.filters if isinstance(f, _RedactingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(_RedactingFilter(secrets))


def event_to_dict(event: object) -> dict[str, Any]:
    """Convert one session event into a JSON-able dict for logs and `--json`."""
    out: dict[str, Any] = {"type": event_type(event)}
    if dataclasses.is_dataclass(event) and not isinstance(event, type):
        for field in dataclasses.fields(event):
            if field.name in ("type", "info"):
                continue
            out[field.name] = _convert(field.name, getattr(event, field.name), 0)
    return out


def _convert(key: str, value: Any, depth: int) -> Any:
    if key not in _NOT_SECRET_KEYS and _SECRET_KEYS.search(key) and value:
        return "[redacted]"
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": len(value)}
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if key in _AUDIO_KEYS and len(value) > 64:
            return {"base64_chars": len(value)}
        return redact_text(value)
    if depth >= _MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        converted = {str(k): _convert(str(k), v, depth + 1) for k, v in value.items()}
        # raw wire audio events carry base64 in `delta`
        wire_type = value.get("type")
        delta = value.get("delta")
        if isinstance(wire_type, str) and "audio" in wire_type and isinstance(delta, str):
            converted["delta"] = {"base64_chars": len(delta)}
        return converted
    if isinstance(value, list | tuple):
        return [_convert(key, v, depth + 1) for v in value]
    if type(value).__name__ in _NAMED_TYPES:
        return value.name  # agents, tools, handoffs, guardrails: by name
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _convert(f.name, getattr(value, f.name), depth + 1)
            for f in dataclasses.fields(value)
        }
    if isinstance(value, BaseException):
        return redact_text(f"{type(value).__name__}: {value}")
    return redact_text(str(value))
