"""Run configuration and model-settings normalisation.

Model settings come in two shapes and both end up as one `ModelSettings`:

* the reference SDK's flat shape: `model_name`, `voice`, `modalities`,
  `input_audio_format` (`"pcm16"`, `"g711_ulaw"`, `"g711_alaw"`), `output_audio_format`,
  `input_audio_transcription`, `turn_detection`, `speed`, `tool_choice`, ...;
* the GA nested shape: `model`, `output_modalities`, `audio.input.{format, transcription,
  turn_detection, noise_reduction}`, `audio.output.{format, voice, speed}`, ...

`turn_detection: "vad"` (or `{"type": "vad"}`) means `server_vad`; `None` means manual
turns (push-to-talk: the app commits and asks for responses). An unknown voice, format,
modality or key raises `ModelSettingsError` here, before any connection is made.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from agentgraph.audio import AudioFormat
from agentgraph.errors import AgentGraphError
from agentgraph.protocol.voices import GA_VOICES, VOICES
from agentgraph.realtime.greeting import Greeting, GreetingLike, normalize_greeting
from agentgraph.realtime.guardrails import RealtimeOutputGuardrail

__all__ = [
    "GA_VOICES",
    "VOICES",
    "ModelSettings",
    "ModelSettingsError",
    "RealtimeRunConfig",
    "RunSettings",
    "normalize_model_settings",
    "normalize_run_config",
]

#: What semantic_vad takes on gpt-realtime; other keys (the seed writes threshold,
#: prefix_padding_ms, silence_duration_ms) are dropped with one warning naming them.
_SEMANTIC_KEYS = frozenset({"type", "eagerness", "create_response", "interrupt_response"})
_log = logging.getLogger("agentgraph.realtime")
_WARNED: set[tuple[str, ...]] = set()
_TURN_TYPES = {"server_vad": "server_vad", "vad": "server_vad", "semantic_vad": "semantic_vad"}
_MANUAL = frozenset({"none", "manual", "off"})
_EAGERNESS = ("low", "medium", "high", "auto")
_FLAT_KEYS = frozenset(
    {
        "model_name",
        "model",
        "voice",
        "modalities",
        "output_modalities",
        "input_audio_format",
        "output_audio_format",
        "input_audio_transcription",
        "transcription",
        "turn_detection",
        "input_audio_noise_reduction",
        "noise_reduction",
        "speed",
        "tool_choice",
        "max_output_tokens",
        "max_response_output_tokens",
        "tracing",
        "truncation",
        "prompt",
        "include",
        "temperature",
        "audio",
        "type",
        "instructions",
        "tools",
    }
)
_PASSTHROUGH = ("tracing", "truncation", "prompt", "include")


class ModelSettingsError(AgentGraphError, ValueError):
    """The model settings name a voice, format or option the Realtime API does not have."""


def _fail(what: str, value: object, choices: tuple[str, ...] | list[str]) -> ModelSettingsError:
    close = difflib.get_close_matches(str(value), list(choices), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ModelSettingsError(
        f"unknown {what} {value!r}{hint}; allowed: {', '.join(map(str, choices))}"
    )


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """Session-wide model settings in one normalised shape.

    Attributes:
        model_name: e.g. `gpt-realtime` (unused when attaching to a SIP call).
        voice: one of `VOICES`, a custom `{"id": ...}`, or None for the server default.
        output_modalities: `["audio"]` or `["text"]`.
        input_format: what `send_audio` takes.
        output_format: what `audio_delta` events carry.
        transcription: GA `audio.input.transcription` (None = off).
        turn_detection: GA turn detection object; None = manual turns.
        turn_detection_set: False leaves the server's default (server VAD) alone.
        extra: other GA session fields passed through (speed, tool_choice, tracing, ...).
    """

    model_name: str = "gpt-realtime"
    voice: str | dict[str, Any] | None = None
    output_modalities: tuple[str, ...] = ("audio",)
    input_format: AudioFormat = AudioFormat.PCM16
    output_format: AudioFormat = AudioFormat.PCM16
    transcription: dict[str, Any] | None = None
    turn_detection: dict[str, Any] | None = None
    turn_detection_set: bool = False
    noise_reduction: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def manual_turns(self) -> bool:
        """True when the server does no turn detection (the app commits turns)."""
        return self.turn_detection_set and self.turn_detection is None

    @property
    def server_interrupts(self) -> bool:
        """Whether the server cancels a response itself when the caller barges in."""
        if not self.turn_detection_set:
            return True  # the server default is server_vad with interrupt_response on
        td = self.turn_detection
        return td is not None and bool(td.get("interrupt_response", True))

    def session_wire(
        self,
        *,
        instructions: str,
        tools: list[dict[str, Any]],
        turn_detection: dict[str, Any] | None = None,
        include_model: bool = True,
    ) -> dict[str, Any]:
        """The GA `session` object for `session.update`.

        Args:
            instructions: the active agent's instructions.
            tools: the active agent's tools (function and handoff tools).
            turn_detection: an agent's own turn detection, overriding the session's.
            include_model: False when attached to a call (the model is already fixed).
        """
        audio_in: dict[str, Any] = {"format": self.input_format.wire}
        if self.transcription is not None:
            audio_in["transcription"] = self.transcription
        if self.noise_reduction is not None:
            audio_in["noise_reduction"] = self.noise_reduction
        if turn_detection is not None:
            audio_in["turn_detection"] = turn_detection
        elif self.turn_detection_set:
            audio_in["turn_detection"] = self.turn_detection
        audio_out: dict[str, Any] = {"format": self.output_format.wire}
        if self.voice is not None:
            audio_out["voice"] = self.voice
        if "speed" in self.extra:
            audio_out["speed"] = self.extra["speed"]
        session: dict[str, Any] = {"type": "realtime"}
        if include_model and self.model_name:
            session["model"] = self.model_name
        session["output_modalities"] = list(self.output_modalities)
        session["instructions"] = instructions
        session["audio"] = {"input": audio_in, "output": audio_out}
        session["tools"] = tools
        for key, value in self.extra.items():
            if key != "speed":
                session[key] = value
        return session


def _format(value: object, what: str) -> AudioFormat:
    if isinstance(value, AudioFormat):
        return value
    try:
        return AudioFormat.from_wire(value)
    except ValueError:
        raise _fail(what, value, ["pcm16", "g711_ulaw", "g711_alaw"]) from None


def _voice(value: object) -> str | dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return dict(value)
    if isinstance(value, str) and value in VOICES:
        return value
    raise _fail("voice", value, VOICES)


def _turn_detection(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        if value.lower() in _MANUAL:
            return None
        if value not in _TURN_TYPES:
            raise _fail("turn_detection type", value, [*_TURN_TYPES, "none"])
        return {"type": _TURN_TYPES[value]}
    if not isinstance(value, Mapping):
        raise ModelSettingsError(
            f"turn_detection must be a mapping, a type name or None, not {type(value).__name__}"
        )
    td = dict(value)
    kind = td.get("type", "server_vad")
    if isinstance(kind, str) and kind.lower() in _MANUAL:
        return None
    if kind not in _TURN_TYPES:
        raise _fail("turn_detection type", kind, [*_TURN_TYPES, "none"])
    td["type"] = _TURN_TYPES[kind]
    if "eagerness" in td and td["eagerness"] not in _EAGERNESS:
        raise _fail("semantic_vad eagerness", td["eagerness"], _EAGERNESS)
    if td["type"] == "semantic_vad":
        dropped = sorted(k for k in td if k not in _SEMANTIC_KEYS)
        if dropped:
            # gpt-realtime rejects the whole session.update for these (and the agent would
            # run without instructions and tools): drop them, say so once per process.
            if tuple(dropped) not in _WARNED:
                _WARNED.add(tuple(dropped))
                _log.warning(
                    "semantic_vad does not take %s; dropped (use server_vad to tune them)",
                    ", ".join(dropped),
                )
            td = {k: v for k, v in td.items() if k in _SEMANTIC_KEYS}
    return td


def _transcription(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return {"model": value}
    if isinstance(value, Mapping) and isinstance(value.get("model", ""), str):
        return dict(value)
    raise ModelSettingsError(
        "input_audio_transcription must be {'model': ...}, a model name or None"
    )


def _modalities(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise ModelSettingsError("modalities must be a list such as ['audio'] or ['text']")
    for item in value:
        if item not in ("audio", "text"):
            raise _fail("modality", item, ("audio", "text"))
    # GA allows exactly one; the SDK's ["text", "audio"] means audio with a transcript.
    return ("audio",) if "audio" in value else ("text",)


def normalize_model_settings(settings: Mapping[str, Any] | ModelSettings | None) -> ModelSettings:
    """Turn flat (SDK) or nested (GA) model settings into `ModelSettings`.

    Args:
        settings: a mapping in either shape, a `ModelSettings`, or None for defaults.

    Raises:
        ModelSettingsError: an unknown key, voice, audio format, modality or turn type.
    """
    if settings is None:
        return ModelSettings()
    if isinstance(settings, ModelSettings):
        return settings
    unknown = [k for k in settings if k not in _FLAT_KEYS]
    if unknown:
        raise _fail("model setting", unknown[0], sorted(_FLAT_KEYS - {"type", "audio"}))
    audio = settings.get("audio") or {}
    if not isinstance(audio, Mapping):
        raise ModelSettingsError("model setting 'audio' must be a mapping")
    audio_in = audio.get("input") or {}
    audio_out = audio.get("output") or {}
    values: dict[str, Any] = {}
    model_name = settings.get("model_name", settings.get("model"))
    if model_name is not None:
        if not isinstance(model_name, str) or not model_name:
            raise ModelSettingsError("model_name must be a non-empty string")
        values["model_name"] = model_name
    voice = settings.get("voice", audio_out.get("voice"))
    values["voice"] = _voice(voice)
    modalities = settings.get("output_modalities", settings.get("modalities"))
    if modalities is not None:
        values["output_modalities"] = _modalities(modalities)
    fmt_in = settings.get("input_audio_format", audio_in.get("format"))
    if fmt_in is not None:
        values["input_format"] = _format(fmt_in, "input audio format")
    fmt_out = settings.get("output_audio_format", audio_out.get("format"))
    if fmt_out is not None:
        values["output_format"] = _format(fmt_out, "output audio format")
    for key in ("input_audio_transcription", "transcription"):
        if key in settings:
            values["transcription"] = _transcription(settings[key])
    if "transcription" in audio_in:
        values["transcription"] = _transcription(audio_in["transcription"])
    if "turn_detection" in settings:
        values["turn_detection"] = _turn_detection(settings["turn_detection"])
        values["turn_detection_set"] = True
    elif "turn_detection" in audio_in:
        values["turn_detection"] = _turn_detection(audio_in["turn_detection"])
        values["turn_detection_set"] = True
    noise = settings.get(
        "input_audio_noise_reduction",
        settings.get("noise_reduction", audio_in.get("noise_reduction")),
    )
    if noise is not None:
        values["noise_reduction"] = dict(noise)
    extra: dict[str, Any] = {}
    speed = settings.get("speed", audio_out.get("speed"))
    if speed is not None:
        if not isinstance(speed, (int, float)) or not 0.25 <= speed <= 1.5:
            raise ModelSettingsError(f"speed must be between 0.25 and 1.5, not {speed!r}")
        extra["speed"] = speed
    if "tool_choice" in settings:
        extra["tool_choice"] = settings["tool_choice"]
    max_tokens = settings.get("max_output_tokens", settings.get("max_response_output_tokens"))
    if max_tokens is not None:
        extra["max_output_tokens"] = max_tokens
    for key in _PASSTHROUGH:
        if key in settings:
            extra[key] = settings[key]
    # `temperature` does not exist in GA; accepted and dropped so SDK examples keep working.
    values["extra"] = extra
    return ModelSettings(**values)


class RealtimeRunConfig(TypedDict, total=False):
    """`RealtimeRunner(config=...)`: everything about a run that is not an agent.

    Keys:
        model_settings: flat or GA model settings (see module docstring).
        output_guardrails: guardrails applied to every agent.
        tool_filler_after_s: say a short filler when a tool takes longer than this (None: off).
        tool_filler_instructions: what the filler response is told to say.
        reconnect_max_attempts: how many reconnects per outage before giving up.
        reconnect_audio_buffer_ms: caller audio kept while reconnecting.
        session_rollover_s: move to a fresh model session this many seconds before the
            server's `expires_at`, at the first quiet moment (None: wait for the 1001 close).
        raw_model_events: also yield `raw_model_event` for every wire event.
        audio_send_interval_ms: coalesce caller audio into appends of this length (0: each).
        greeting: what the starting agent says first when it has no greeting of its own
            (text said word for word, or a `Greeting`).
    """

    model_settings: dict[str, Any] | ModelSettings
    output_guardrails: list[RealtimeOutputGuardrail]
    tool_filler_after_s: float | None
    tool_filler_instructions: str
    reconnect_max_attempts: int
    reconnect_audio_buffer_ms: int
    session_rollover_s: float | None
    raw_model_events: bool
    audio_send_interval_ms: int
    greeting: GreetingLike


@dataclass(frozen=True, slots=True)
class RunSettings:
    """The normalised run config."""

    model: ModelSettings = field(default_factory=ModelSettings)
    output_guardrails: tuple[RealtimeOutputGuardrail, ...] = ()
    tool_filler_after_s: float | None = None
    tool_filler_instructions: str = (
        "Say one short sentence telling the caller you are still working on it. "
        "Do not call any tool."
    )
    reconnect_max_attempts: int = 5
    reconnect_audio_buffer_ms: int = 10_000
    session_rollover_s: float | None = 120.0
    raw_model_events: bool = False
    audio_send_interval_ms: int = 0
    greeting: Greeting | None = None


_RUN_KEYS = frozenset(RealtimeRunConfig.__annotations__)


def normalize_run_config(config: Mapping[str, Any] | None) -> RunSettings:
    """Validate a `RealtimeRunConfig` mapping into `RunSettings`.

    Raises:
        ModelSettingsError: an unknown key or a bad value.
    """
    if not config:
        return RunSettings()
    unknown = [k for k in config if k not in _RUN_KEYS]
    if unknown:
        raise _fail("run config key", unknown[0], sorted(_RUN_KEYS))
    filler = config.get("tool_filler_after_s")
    if filler is not None and (not isinstance(filler, (int, float)) or filler <= 0):
        raise ModelSettingsError("tool_filler_after_s must be a positive number or None")
    defaults = RunSettings()
    try:
        greeting = normalize_greeting(config.get("greeting"))
    except ValueError as exc:
        raise ModelSettingsError(str(exc)) from None
    return RunSettings(
        model=normalize_model_settings(config.get("model_settings")),
        output_guardrails=tuple(config.get("output_guardrails") or ()),
        tool_filler_after_s=filler,
        tool_filler_instructions=config.get(
            "tool_filler_instructions", defaults.tool_filler_instructions
        ),
        reconnect_max_attempts=int(config.get("reconnect_max_attempts", 5)),
        reconnect_audio_buffer_ms=int(config.get("reconnect_audio_buffer_ms", 10_000)),
        session_rollover_s=config.get("session_rollover_s", defaults.session_rollover_s),
        raw_model_events=bool(config.get("raw_model_events", False)),
        audio_send_interval_ms=int(config.get("audio_send_interval_ms", 0)),
        greeting=greeting,
    )
