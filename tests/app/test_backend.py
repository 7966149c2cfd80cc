"""Choosing the model backend: auto / openai / local, and the one line that says which."""

from __future__ import annotations

import pytest

from agentgraph.app.backend import Backend, choose_provider, open_backend
from agentgraph.compile.compiler import ModelChoice
from agentgraph.errors import UsageError


def test_auto_prefers_openai_when_a_key_is_set() -> None:
    model = ModelChoice(provider="auto", name="gpt-realtime", base_url=None)
    assert choose_provider(model, {"OPENAI_API_KEY": "sk-test"}) == (
        "openai",
        "provider auto: OPENAI_API_KEY is set",
    )
    assert choose_provider(model, {}) == ("local", "provider auto: OPENAI_API_KEY is not set")


def test_openai_without_key_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="OPENAI_API_KEY is not set"):
        choose_provider({"provider": "openai"}, {})
    with pytest.raises(UsageError, match="unknown model provider 'azure'"):
        choose_provider({"provider": "azure"}, {})


async def test_openai_backend_line_never_shows_the_key() -> None:
    async with open_backend(
        {"provider": "auto", "name": "gpt-realtime"}, env={"OPENAI_API_KEY": "sk-secret-123456"}
    ) as backend:
        assert backend.url == "wss://api.openai.com/v1/realtime"
        assert backend.api_key == "sk-secret-123456"
        line = backend.describe()
    assert "sk-secret" not in line
    assert line == (
        "model: OpenAI Realtime gpt-realtime at wss://api.openai.com/v1/realtime "
        "(provider auto: OPENAI_API_KEY is set)"
    )


async def test_compatible_server_url_is_made_a_websocket_url() -> None:
    async with open_backend(
        {"provider": "openai", "base_url": "https://example.test/v1"}, env={}
    ) as backend:
        assert backend.url == "wss://example.test/v1/realtime"


async def test_local_starts_the_embedded_engine_on_loopback() -> None:
    import websockets

    async with open_backend({"provider": "local"}, env={"OPENAI_API_KEY": "sk-x"}) as backend:
        assert isinstance(backend, Backend) and backend.provider == "local"
        assert backend.url.startswith("ws://127.0.0.1:")
        assert "embedded offline engine" in backend.describe()
        headers = {"Authorization": f"Bearer {backend.api_key}"}
        async with websockets.connect(
            backend.url + "?model=gpt-realtime", additional_headers=headers
        ) as ws:
            first = await ws.recv()
        assert '"session.created"' in str(first)
