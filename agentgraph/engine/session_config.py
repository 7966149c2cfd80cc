"""The GA session object the engine keeps per connection: defaults, validation and merge.

`session.update` carries only the fields that change (realtime-protocol.md §2.1): present
fields replace, `null` clears `turn_detection`/`transcription`, `[]` clears tools, `""`
clears instructions. A bad update is rejected whole with one `SessionError` naming the
wire error code and the parameter path, and the session is left as it was. Pure module.
"""

from __future__ import annotations

import copy
from typing import Any

from agentgraph.audio import AudioFormat
from agentgraph.protocol.voices import VOICES

__all__ = [
    "DEFAULT_INSTRUCTIONS",
    "VOICE_NAMES",
    "SessionError",
    "default_session",
    "merge_session_update",
    "turn_detection_defaults",
]

VOICE_NAMES = VOICES
DEFAULT_INSTRUCTIONS = (
    "You are a helpful, friendly voice assistant running offline. Keep answers short."
)
_TOP_LEVEL = frozenset(
    {
        "type",
        "object",
        "id",
        "model",
        "output_modalities",
        "instructions",
        "audio",
        "tools",
        "tool_choice",
        "max_output_tokens",
        "tracing",
        "truncation",
        "prompt",
        "include",
        "expires_at",
        "reasoning",
        "parallel_tool_calls",
    }
)
_AUDIO_KEYS = {
    "input": frozenset({"format", "transcription", "noise_reduction", "turn_detection"}),
    "output": frozenset({"format", "voice", "speed"}),
}
_SERVER_VAD_KEYS = frozenset(
    {
        "type",
        "threshold",
        "prefix_padding_ms",
        "silence_duration_ms",
        "idle_timeout_ms",
        "create_response",
        "interrupt_response",
    }
)
_SEMANTIC_VAD_KEYS = frozenset({"type", "eagerness", "create_response", "interrupt_response"})
_EAGERNESS = ("low", "medium", "high", "auto")


class SessionError(Exception):
    """A rejected client request: the `error` event's code, message and param."""

    def __init__(self, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param


def turn_detection_defaults(kind: str) -> dict[str, Any]:
    """The full `turn_detection` object for `server_vad` or `semantic_vad`."""
    if kind == "semantic_vad":
        return {
            "type": "semantic_vad",
            "eagerness": "auto",
            "create_response": True,
            "interrupt_response": True,
        }
    return {
        "type": "server_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 500,
        "idle_timeout_ms": None,
        "create_response": True,
        "interrupt_response": True,
    }


def default_session(*, session_id: str, model: str, expires_at: int) -> dict[str, Any]:
    """The full default session sent in `session.created` (VAD on, marin, pcm 24 k)."""
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": session_id,
        "model": model,
        "output_modalities": ["audio"],
        "instructions": DEFAULT_INSTRUCTIONS,
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "expires_at": expires_at,
        "include": None,
        "audio": {
            "input": {
                "format": AudioFormat.PCM16.wire,
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": turn_detection_defaults("server_vad"),
            },
            "output": {"format": AudioFormat.PCM16.wire, "voice": "marin", "speed": 1.0},
        },
    }


def _invalid(param: str, value: Any, allowed: str) -> SessionError:
    shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    return SessionError(
        "invalid_value", f"Invalid value: {shown}. Supported values are: {allowed}.", param
    )


def _unknown(param: str) -> SessionError:
    return SessionError("unknown_parameter", f"Unknown parameter: '{param}'.", param)


def _check_keys(obj: dict[str, Any], allowed: frozenset[str], path: str) -> None:
    for key in obj:
        if key not in allowed:
            raise _unknown(f"{path}.{key}")


def _format(value: Any, param: str) -> dict[str, Any]:
    try:
        return AudioFormat.from_wire(value).wire
    except ValueError:
        raise _invalid(
            param,
            value,
            "{'type': 'audio/pcm', 'rate': 24000}, {'type': 'audio/pcmu'}, {'type': 'audio/pcma'}",
        ) from None


def _bool(obj: dict[str, Any], key: str, path: str) -> None:
    if key in obj and not isinstance(obj[key], bool):
        raise _invalid(f"{path}.{key}", obj[key], "true, false")


def _int_ms(obj: dict[str, Any], key: str, path: str, *, nullable: bool = False) -> None:
    if key not in obj or (nullable and obj[key] is None):
        return
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid(f"{path}.{key}", value, "a non-negative integer number of milliseconds")


def _turn_detection(value: Any, path: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _invalid(path, value, "null, an object with type server_vad or semantic_vad")
    kind = value.get("type", "server_vad")
    if kind not in ("server_vad", "semantic_vad"):
        raise _invalid(f"{path}.type", kind, "'server_vad', 'semantic_vad'")
    _check_keys(value, _SERVER_VAD_KEYS if kind == "server_vad" else _SEMANTIC_VAD_KEYS, path)
    out = turn_detection_defaults(kind)
    out.update(value)
    out["type"] = kind
    _bool(out, "create_response", path)
    _bool(out, "interrupt_response", path)
    if kind == "server_vad":
        threshold = out["threshold"]
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not (0.0 <= threshold <= 1.0)
        ):
            raise _invalid(f"{path}.threshold", threshold, "a number from 0.0 to 1.0")
        _int_ms(out, "prefix_padding_ms", path)
        _int_ms(out, "silence_duration_ms", path)
        _int_ms(out, "idle_timeout_ms", path, nullable=True)
    elif out["eagerness"] not in _EAGERNESS:
        raise _invalid(f"{path}.eagerness", out["eagerness"], ", ".join(map(repr, _EAGERNESS)))
    return out


def _tools(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _invalid("session.tools", value, "an array of tools")
    for i, tool in enumerate(value):
        path = f"session.tools[{i}]"
        if not isinstance(tool, dict):
            raise _invalid(path, tool, "a tool object")
        if tool.get("type", "function") not in ("function", "mcp"):
            raise _invalid(f"{path}.type", tool.get("type"), "'function', 'mcp'")
        if tool.get("type", "function") == "function":
            if not isinstance(tool.get("name"), str) or not tool["name"]:
                raise SessionError(
                    "missing_required_parameter",
                    f"Missing required parameter: '{path}.name'.",
                    f"{path}.name",
                )
            params = tool.get("parameters", {})
            if not isinstance(params, dict):
                raise _invalid(f"{path}.parameters", params, "a JSON Schema object")
    return copy.deepcopy(value)


def _tool_choice(value: Any) -> Any:
    if value in ("auto", "none", "required"):
        return value
    if (
        isinstance(value, dict)
        and value.get("type") in ("function", "mcp")
        and isinstance(value.get("name"), str)
    ):
        return dict(value)
    raise _invalid(
        "session.tool_choice",
        value,
        "'auto', 'none', 'required', {'type': 'function', 'name': ...}",
    )


def merge_session_update(
    current: dict[str, Any], update: Any, *, voice_locked: bool
) -> dict[str, Any]:
    """Return the new full session after applying `update`; `current` is not modified.

    Args:
        current: the full effective session.
        update: the `session` object of a `session.update` event.
        voice_locked: True once the session has produced assistant audio.

    Raises:
        SessionError: the update is invalid; nothing is applied.
    """
    if not isinstance(update, dict):
        raise SessionError(
            "missing_required_parameter", "Missing required parameter: 'session'.", "session"
        )
    if "type" not in update:
        raise SessionError(
            "missing_required_parameter",
            "Missing required parameter: 'session.type'.",
            "session.type",
        )
    if update["type"] != "realtime":
        raise _invalid("session.type", update["type"], "'realtime'")
    for key in update:
        if key not in _TOP_LEVEL:
            raise _unknown(f"session.{key}")
    new = copy.deepcopy(current)
    if "model" in update and update["model"] != current["model"]:
        if not isinstance(update["model"], str):
            raise _invalid("session.model", update["model"], "a model name")
        new["model"] = update["model"]  # the engine serves every model name the same way
    if "output_modalities" in update:
        mods = update["output_modalities"]
        if mods not in (["audio"], ["text"]):
            raise _invalid("session.output_modalities", mods, "['audio'], ['text']")
        new["output_modalities"] = list(mods)
    if "instructions" in update:
        if not isinstance(update["instructions"], str):
            raise _invalid("session.instructions", update["instructions"], "a string")
        new["instructions"] = update["instructions"]
    if "tools" in update:
        new["tools"] = _tools(update["tools"])
    if "tool_choice" in update:
        new["tool_choice"] = _tool_choice(update["tool_choice"])
    if "max_output_tokens" in update:
        mot = update["max_output_tokens"]
        if mot != "inf" and (
            isinstance(mot, bool) or not isinstance(mot, int) or not 1 <= mot <= 4096
        ):
            raise _invalid("session.max_output_tokens", mot, "an integer 1-4096, 'inf'")
        new["max_output_tokens"] = mot
    for key in ("tracing", "truncation", "prompt", "include", "reasoning", "parallel_tool_calls"):
        if key in update:
            new[key] = copy.deepcopy(update[key])
    if "audio" in update:
        _merge_audio(new, current, update["audio"], voice_locked=voice_locked)
    return new


def _merge_audio(
    new: dict[str, Any], current: dict[str, Any], audio: Any, *, voice_locked: bool
) -> None:
    if not isinstance(audio, dict):
        raise _invalid("session.audio", audio, "an object with input and output")
    _check_keys(audio, frozenset(_AUDIO_KEYS), "session.audio")
    for side in ("input", "output"):
        if side not in audio:
            continue
        part = audio[side]
        path = f"session.audio.{side}"
        if not isinstance(part, dict):
            raise _invalid(path, part, "an object")
        _check_keys(part, _AUDIO_KEYS[side], path)
        target = new["audio"][side]
        if "format" in part:
            target["format"] = _format(part["format"], f"{path}.format")
        if side == "input":
            if "turn_detection" in part:
                target["turn_detection"] = _turn_detection(
                    part["turn_detection"], f"{path}.turn_detection"
                )
            for key in ("transcription", "noise_reduction"):
                if key in part:
                    value = part[key]
                    if value is not None and not isinstance(value, dict):
                        raise _invalid(f"{path}.{key}", value, "null or an object")
                    target[key] = copy.deepcopy(value)
            continue
        if "voice" in part:
            voice = part["voice"]
            if isinstance(voice, dict) and isinstance(voice.get("id"), str):
                pass
            elif voice not in VOICE_NAMES:
                raise _invalid(f"{path}.voice", voice, ", ".join(map(repr, VOICE_NAMES)))
            if voice_locked and voice != current["audio"]["output"]["voice"]:
                raise SessionError(
                    "cannot_update_voice",
                    "Cannot update a conversation's voice if assistant audio is present.",
                    "session.audio.output.voice",
                )
            target["voice"] = copy.deepcopy(voice)
        if "speed" in part:
            speed = part["speed"]
            if (
                isinstance(speed, bool)
                or not isinstance(speed, int | float)
                or not (0.25 <= speed <= 1.5)
            ):
                raise _invalid(f"{path}.speed", speed, "a number from 0.25 to 1.5")
            target["speed"] = float(speed)
