"""`RealtimeRunner`: binds a starting agent and a run config to a model backend.

    runner = RealtimeRunner(starting_agent=agent, config={"model_settings": {...}})
    session = await runner.run()
    async with session:
        async for event in session: ...

Where the session connects, like the CLI's `provider: auto`: `model_config["url"]` (or the
model's `url`) when given; else OpenAI when there is a key (`model_config["api_key"]`, the
model's, or `OPENAI_API_KEY`); else -- or with `model_config={"provider": "local"}` -- the
embedded offline engine: the one at `$AGENTGRAPH_ENGINE_URL` if that is set, otherwise one
started in this process for this session (one log line says so) and stopped when the
session closes.

Settings are validated in the constructor, so a bad voice or format fails before any
connection. `run()` returns an unconnected session; `async with` connects it, and a
greeting (the starting agent's, else the run config's) is asked for right after.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any, Protocol

from agentgraph.errors import UsageError
from agentgraph.models import OpenAIRealtimeSIPModel, OpenAIRealtimeWebSocketModel
from agentgraph.models.connection import redact_url
from agentgraph.realtime.agent import RealtimeAgent
from agentgraph.realtime.config import (
    ModelSettingsError,
    RunSettings,
    normalize_model_settings,
    normalize_run_config,
)
from agentgraph.realtime.greeting import Greeting, normalize_greeting
from agentgraph.realtime.playback import RealtimePlaybackTracker
from agentgraph.realtime.session import RealtimeSession


class LocalEngine(Protocol):
    """What the runner needs of the embedded engine (`agentgraph.engine.EmbeddedEngine`)."""

    @property
    def url(self) -> str: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


__all__ = ["ENGINE_URL_ENV", "RealtimeModelConfig", "RealtimeRunner"]

logger = logging.getLogger(__name__)

_MODEL_CONFIG_KEYS = frozenset(
    {
        "url",
        "api_key",
        "headers",
        "initial_model_settings",
        "playback_tracker",
        "call_id",
        "provider",
    }
)
_PROVIDERS = ("auto", "openai", "local")
#: A running embedded engine (`agentgraph engine serve`) that `provider: local` uses.
ENGINE_URL_ENV = "AGENTGRAPH_ENGINE_URL"
#: Entry point group naming the embedded engine class (pyproject.toml).
ENGINE_ENTRY_POINTS = "agentgraph.engines"
#: The engine wants a bearer token like OpenAI does; any value will do on loopback.
LOCAL_KEY = "agentgraph-local"

RealtimeModelConfig = Mapping[str, Any]


class RealtimeRunner:
    """Starts sessions for one agent graph.

    Args:
        starting_agent: the agent that greets the caller.
        config: a `RealtimeRunConfig` dict (model_settings, guardrails, filler, reconnect,
            greeting); `config["model"]` may name the backend, as `model=` does.
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
        config = dict(config or {})
        config_model = config.pop("model", None)
        if config_model is not None:
            if not isinstance(config_model, OpenAIRealtimeWebSocketModel):
                raise ModelSettingsError(
                    "config['model'] is the model backend, e.g. OpenAIRealtimeSIPModel(...), "
                    f"not {type(config_model).__name__}; name the model in "
                    "config['model_settings']['model_name']"
                )
            if model is not None and model is not config_model:
                raise ModelSettingsError("give the model once: model=... or config['model']")
            model = config_model
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
                `playback_tracker`, `call_id`, `provider` (`auto`, `openai`, `local`).
            call_id: attach to an accepted SIP/WebRTC call instead of starting a session.
            context: passed to dynamic instructions and guardrail functions.

        Raises:
            ModelSettingsError: an unknown `model_config` key or value.
            UsageError: `provider: openai` without a key, or the local engine cannot start.
        """
        cfg = dict(model_config or {})
        unknown = sorted(set(cfg) - _MODEL_CONFIG_KEYS)
        if unknown:
            raise ModelSettingsError(
                f"unknown model_config key {unknown[0]!r}; allowed: "
                + ", ".join(sorted(_MODEL_CONFIG_KEYS))
            )
        provider = cfg.pop("provider", None) or "auto"
        if provider not in _PROVIDERS:
            raise ModelSettingsError(
                f"unknown provider {provider!r}; allowed: {', '.join(_PROVIDERS)}"
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
        tracker = cfg.get("playback_tracker")
        if tracker is not None and not isinstance(tracker, RealtimePlaybackTracker):
            raise ModelSettingsError(
                "model_config['playback_tracker'] must be a RealtimePlaybackTracker"
            )
        try:
            greeting = normalize_greeting(self.starting_agent.greeting) or settings.greeting
        except ValueError as exc:
            raise ModelSettingsError(str(exc)) from None
        engine: LocalEngine | None = None
        if _is_local(provider, cfg, model):
            cfg["url"], engine = await _local_engine(cfg.get("url") or model.url, provider)
            cfg.setdefault("api_key", LOCAL_KEY)
        elif provider == "openai" and not _key(cfg, model):
            raise UsageError(
                "provider openai needs a key: set OPENAI_API_KEY or pass "
                "model_config={'api_key': ...}"
            )
        url = model.resolve_url(cfg.get("url"), model=settings.model.model_name, call_id=call_id)
        api_key = model.resolve_api_key(cfg.get("api_key"), url)
        return _RunnerSession(
            greeting=greeting,
            engine=engine,
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


def _key(cfg: Mapping[str, Any], model: OpenAIRealtimeWebSocketModel) -> str | None:
    return cfg.get("api_key") or model.api_key or os.environ.get("OPENAI_API_KEY") or None


def _is_local(provider: str, cfg: Mapping[str, Any], model: OpenAIRealtimeWebSocketModel) -> bool:
    """`provider: local`, or `auto` with no URL and no key anywhere (what the CLI does)."""
    if provider != "auto":
        return provider == "local"
    return not (cfg.get("url") or model.url) and not _key(cfg, model)


async def _local_engine(url: str | None, provider: str) -> tuple[str, LocalEngine | None]:
    """The URL of the embedded engine to use, and the engine if this call started it."""
    why = "provider local" if provider == "local" else "no OpenAI API key is set"
    url = url or os.environ.get(ENGINE_URL_ENV) or None
    if url:
        logger.info("realtime: %s: using the embedded engine at %s", why, redact_url(url))
        return url, None
    engine = _engine_factory()()
    await engine.start()
    if provider == "local":
        logger.info(
            "realtime: provider local: started the embedded offline engine at %s", engine.url
        )
    else:  # a warning, so a user who meant to talk to gpt-realtime sees it without logging set up
        logger.warning(
            "realtime: %s: started the embedded offline engine at %s for this session "
            "(set OPENAI_API_KEY to talk to gpt-realtime)",
            why,
            engine.url,
        )
    return engine.url, engine


def _engine_factory() -> Callable[[], LocalEngine]:
    """The embedded engine class, by its entry point (this layer never imports `engine`)."""
    found = entry_points(group=ENGINE_ENTRY_POINTS, name="embedded")
    for entry in found:
        factory: Callable[[], LocalEngine] = entry.load()
        return factory
    raise UsageError(
        f"no OpenAI API key is set and no embedded engine is registered ({ENGINE_ENTRY_POINTS} "
        "entry point): install agentgraph with `pip install 'agentgraph[engine]'`, or set "
        "OPENAI_API_KEY"
    )


class _RunnerSession(RealtimeSession):
    """The session `run()` returns: it asks for the greeting as soon as it is connected,
    and stops the embedded engine the runner started for it when it closes."""

    def __init__(
        self, *, greeting: Greeting | None, engine: LocalEngine | None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.greeting = greeting
        self._own_engine = engine

    async def connect(self) -> None:
        """Connect, then ask for the greeting (before the caller can say anything)."""
        try:
            await super().connect()
        except BaseException:
            await self._stop_engine()
            raise
        if self.greeting is not None:
            await self.generate_response(self.greeting.response())

    async def close(self) -> None:
        """Close the session, then the engine started for it (if any)."""
        try:
            await super().close()
        finally:
            await self._stop_engine()

    async def _stop_engine(self) -> None:
        engine, self._own_engine = self._own_engine, None
        if engine is not None:
            await engine.close()


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
