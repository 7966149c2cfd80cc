"""`RealtimeRunner`: binds a starting agent and a run config to a model backend.

    runner = RealtimeRunner(starting_agent=agent, config={"model_settings": {...}})
    session = await runner.run(model_config={"url": "ws://127.0.0.1:8765/v1/realtime"})
    async with session:
        async for event in session: ...

Settings are validated in the constructor, so a bad voice or format fails before any
connection. `run()` returns an unconnected session; `async with` connects it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentgraph.models import OpenAIRealtimeSIPModel, OpenAIRealtimeWebSocketModel
from agentgraph.realtime.agent import RealtimeAgent
from agentgraph.realtime.config import (
    ModelSettingsError,
    RunSettings,
    normalize_model_settings,
    normalize_run_config,
)
from agentgraph.realtime.playback import RealtimePlaybackTracker
from agentgraph.realtime.session import RealtimeSession

__all__ = ["RealtimeModelConfig", "RealtimeRunner"]

_MODEL_CONFIG_KEYS = frozenset(
    {"url", "api_key", "headers", "initial_model_settings", "playback_tracker", "call_id"}
)

RealtimeModelConfig = Mapping[str, Any]


class RealtimeRunner:
    """Starts sessions for one agent graph.

    Args:
        starting_agent: the agent that greets the caller.
        config: a `RealtimeRunConfig` dict (model_settings, guardrails, filler, reconnect).
        model: the backend (default `OpenAIRealtimeWebSocketModel()`); use
            `OpenAIRealtimeSIPModel` to attach to SIP calls.

    Raises:
        ModelSettingsError: the config names an unknown voice, format or option.
    """

    def __init__(
        self,
        starting_agent: RealtimeAgent,
        *,
        config: Mapping[str, Any] | None = None,
        model: OpenAIRealtimeWebSocketModel | None = None,
    ) -> None:
        self.starting_agent = starting_agent
        self.settings: RunSettings = normalize_run_config(config)
        self.model = model or OpenAIRealtimeWebSocketModel()
        starting_agent.tools_wire()  # duplicate tool names fail here, not mid-call

    async def run(
        self,
        *,
        model_config: RealtimeModelConfig | None = None,
        call_id: str | None = None,
        context: Any = None,
    ) -> RealtimeSession:
        """Create a session (connect it with `async with session`).

        Args:
            model_config: `url`, `api_key`, `headers`, `initial_model_settings`,
                `playback_tracker`, `call_id`.
            call_id: attach to an accepted SIP/WebRTC call instead of starting a session.
            context: passed to dynamic instructions and guardrail functions.
        """
        cfg = dict(model_config or {})
        unknown = sorted(set(cfg) - _MODEL_CONFIG_KEYS)
        if unknown:
            raise ModelSettingsError(
                f"unknown model_config key {unknown[0]!r}; allowed: "
                + ", ".join(sorted(_MODEL_CONFIG_KEYS))
            )
        settings = self.settings
        initial = cfg.get("initial_model_settings")
        if initial:
            merged = _flat_overrides(settings, initial)
            settings = RunSettings(**{**_fields(settings), "model": merged})
        call_id = call_id or cfg.get("call_id")
        model = self.model
        if call_id and not model.attaches_to_call:
            model = OpenAIRealtimeSIPModel(
                url=model.url, api_key=model.api_key, model_name=model.model_name
            )
        url = model.resolve_url(cfg.get("url"), model=settings.model.model_name, call_id=call_id)
        api_key = model.resolve_api_key(cfg.get("api_key"), url)
        tracker = cfg.get("playback_tracker")
        if tracker is not None and not isinstance(tracker, RealtimePlaybackTracker):
            raise ModelSettingsError(
                "model_config['playback_tracker'] must be a RealtimePlaybackTracker"
            )
        return RealtimeSession(
            agent=self.starting_agent,
            settings=settings,
            model=model,
            url=cfg.get("url"),
            api_key=api_key,
            headers=cfg.get("headers"),
            call_id=call_id,
            playback_tracker=tracker,
            context=context,
        )


def _fields(settings: Any) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.__dataclass_fields__}


def _flat_overrides(settings: RunSettings, initial: Mapping[str, Any]) -> Any:
    """Apply `initial_model_settings` over the config's model settings (only keys given)."""
    base = settings.model
    override = normalize_model_settings(initial)
    values = _fields(base)
    keys = [k for k in initial if k != "audio"]
    audio = initial.get("audio") or {}
    keys += [f"audio.input.{k}" for k in (audio.get("input") or {})]
    keys += [f"audio.output.{k}" for k in (audio.get("output") or {})]
    for key in keys:
        for name in _SETTING_FIELDS.get(key, ()):
            values[name] = getattr(override, name)
    values["extra"] = {**base.extra, **override.extra}
    return type(base)(**values)


_SETTING_FIELDS: dict[str, tuple[str, ...]] = {
    "model_name": ("model_name",),
    "model": ("model_name",),
    "voice": ("voice",),
    "modalities": ("output_modalities",),
    "output_modalities": ("output_modalities",),
    "input_audio_format": ("input_format",),
    "output_audio_format": ("output_format",),
    "input_audio_transcription": ("transcription",),
    "transcription": ("transcription",),
    "turn_detection": ("turn_detection", "turn_detection_set"),
    "input_audio_noise_reduction": ("noise_reduction",),
    "noise_reduction": ("noise_reduction",),
    "audio.input.format": ("input_format",),
    "audio.input.transcription": ("transcription",),
    "audio.input.turn_detection": ("turn_detection", "turn_detection_set"),
    "audio.input.noise_reduction": ("noise_reduction",),
    "audio.output.format": ("output_format",),
    "audio.output.voice": ("voice",),
}
