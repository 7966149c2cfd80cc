"""Choosing and starting the model backend for a run.

`provider: local` starts the embedded offline engine in this process on an ephemeral
loopback port; `openai` uses the OpenAI Realtime API (or the graph's `base_url`) and needs
a key; `auto` picks OpenAI when OPENAI_API_KEY (or the graph's `api_key`) is set and the
embedded engine otherwise. `describe()` is the one line the console prints about it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from agentgraph.errors import ConnectionClosed, UsageError

__all__ = ["Backend", "choose_provider", "connect_failure", "open_backend"]

OPENAI_URL = "wss://api.openai.com/v1/realtime"
LOCAL_KEY = "agentgraph-local"


@dataclass(frozen=True, slots=True)
class Backend:
    """Where the session connects.

    Attributes:
        provider: `openai` or `local`.
        url: the websocket base URL (`ws://127.0.0.1:PORT/v1/realtime` for the engine).
        api_key: the key to send, if any (never printed).
        model_name: the model the session asks for.
        reason: why this provider was chosen (for the console line).
    """

    provider: str
    url: str
    api_key: str | None
    model_name: str
    reason: str

    def describe(self) -> str:
        """One line for the console; never contains the key."""
        if self.provider == "local":
            return f"model: embedded offline engine at {self.url} ({self.reason})"
        return f"model: OpenAI Realtime {self.model_name} at {self.url} ({self.reason})"


def connect_failure(backend: Backend, exc: ConnectionClosed) -> UsageError | ConnectionClosed:
    """What to tell the user when the first connection to the model fails.

    A fake key with no network used to end in `gaierror: [Errno -2]`; say instead that
    OpenAI is unreachable (or refused the key) and that `--provider local` runs offline.
    Other failures pass through unchanged.
    """
    if backend.provider != "openai" or exc.code is not None:
        return exc
    reason = exc.reason
    where = "OpenAI" if backend.url == OPENAI_URL else backend.url
    if "refused the websocket (HTTP 401)" in reason or "(HTTP 403)" in reason:
        return UsageError(
            f"{where} refused the API key ({reason.rsplit('(', 1)[-1].rstrip(')')}): check "
            "OPENAI_API_KEY, or run offline on the embedded engine with --provider local"
        )
    if "cannot connect to" in reason:
        detail = reason.rsplit(": ", 1)[-1]
        return UsageError(
            f"{where} is unreachable ({detail}): check the network, or run offline on the "
            "embedded engine with --provider local"
        )
    return exc


def _field(model: Any, name: str) -> Any:
    if isinstance(model, Mapping):
        return model.get(name)
    return getattr(model, name, None)


def choose_provider(model: Any, env: Mapping[str, str]) -> tuple[str, str]:
    """`(provider, reason)` for a compiled `ModelChoice` (or a mapping) and environment.

    Raises:
        UsageError: `openai` was asked for without any API key, or an unknown provider.
    """
    provider = str(_field(model, "provider") or "auto")
    key = _field(model, "api_key") or env.get("OPENAI_API_KEY")
    if provider == "auto":
        if key:
            return "openai", "provider auto: OPENAI_API_KEY is set"
        return "local", "provider auto: OPENAI_API_KEY is not set"
    if provider == "openai":
        if not key and not _field(model, "base_url"):
            raise UsageError(
                "the graph asks for provider openai but OPENAI_API_KEY is not set: export "
                "it, or use `model: {provider: local}` for the offline engine"
            )
        return "openai", "provider openai"
    if provider == "local":
        return "local", "provider local"
    raise UsageError(f"unknown model provider {provider!r}: use auto, openai or local")


def _ws_url(base_url: str) -> str:
    """`https://host/v1` -> `wss://host/v1/realtime`; websocket URLs pass through."""
    url = base_url.rstrip("/")
    if url.startswith("https://"):
        url = "wss://" + url[len("https://") :]
    elif url.startswith("http://"):
        url = "ws://" + url[len("http://") :]
    if not url.endswith("/realtime"):
        url += "/realtime"
    return url


@contextlib.asynccontextmanager
async def open_backend(
    model: Any,
    *,
    env: Mapping[str, str] | None = None,
    force_provider: str | None = None,
    engine_options: Mapping[str, Any] | None = None,
) -> AsyncIterator[Backend]:
    """Yield the backend for a run, starting the embedded engine when it is local.

    Args:
        model: the compiled graph's `ModelChoice` (provider, name, base_url, api_key).
        env: environment to read OPENAI_API_KEY from (default `os.environ`).
        force_provider: `local`/`openai` from the command line, overriding the graph.
        engine_options: extra `EmbeddedEngine` arguments (tests speed up its audio).
    """
    env = os.environ if env is None else env
    if force_provider:
        provider, reason = force_provider, f"--provider {force_provider}"
        if provider == "openai":
            choose_provider(
                {
                    "provider": "openai",
                    "api_key": _field(model, "api_key"),
                    "base_url": _field(model, "base_url"),
                },
                env,
            )
    else:
        provider, reason = choose_provider(model, env)
    name = str(_field(model, "name") or "gpt-realtime")
    base_url = _field(model, "base_url")
    if provider == "openai":
        key = _field(model, "api_key") or env.get("OPENAI_API_KEY")
        url = _ws_url(str(base_url)) if base_url else OPENAI_URL
        yield Backend("openai", url, key, name, reason)
        return
    # The engine, like OpenAI, wants a bearer token; any value does (it is loopback only).
    if base_url:  # a local engine that is already running (`agentgraph engine serve`)
        yield Backend("local", _ws_url(str(base_url)), LOCAL_KEY, name, reason)
        return
    from agentgraph.engine import EmbeddedEngine

    async with EmbeddedEngine(**dict(engine_options or {})) as engine:
        yield Backend("local", engine.url, LOCAL_KEY, name, reason)
