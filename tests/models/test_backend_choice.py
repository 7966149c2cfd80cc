"""Where `runner.run()` connects: a given URL, OpenAI with a key, else the embedded engine
(`$AGENTGRAPH_ENGINE_URL` when one is running, otherwise one started for the session);
the seed's `config={"model": sip_model}`; the greeting as the first response."""

from __future__ import annotations

import logging

import pytest

from agentgraph.errors import UsageError
from agentgraph.realtime import (
    Greeting,
    ModelSettingsError,
    OpenAIRealtimeSIPModel,
    OpenAIRealtimeWebSocketModel,
    RealtimeAgent,
    RealtimeRunner,
)
from tests.fakes import FakeRealtimeServer


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("AGENTGRAPH_ENGINE_URL", raising=False)


def agent(**fields: object) -> RealtimeAgent:
    return RealtimeAgent(name="desk", instructions="Answer the phone.", **fields)  # type: ignore[arg-type]


async def test_a_running_engine_from_the_environment_is_used_with_a_local_token(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeRealtimeServer() as server:
        monkeypatch.setenv("AGENTGRAPH_ENGINE_URL", server.url)
        with caplog.at_level(logging.INFO, logger="agentgraph"):
            session = await RealtimeRunner(agent()).run()
        async with session:
            conn = await server.next_connection()
            await conn.wait_for("session.update")
        assert conn.headers["Authorization"] == "Bearer agentgraph-local"
        assert conn.query == {"model": "gpt-realtime"}
        assert "using the embedded engine at " + server.url in caplog.text


async def test_provider_local_never_sends_the_openai_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    async with FakeRealtimeServer() as server:
        monkeypatch.setenv("AGENTGRAPH_ENGINE_URL", server.url)
        session = await RealtimeRunner(agent()).run(model_config={"provider": "local"})
        async with session:
            conn = await server.next_connection()
            await conn.wait_for("session.update")
        assert "sk-secret-value" not in str(conn.headers)


async def test_a_key_means_openai_and_provider_openai_needs_one(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    runner = RealtimeRunner(agent())
    with pytest.raises(UsageError, match="provider openai needs a key"):
        await runner.run(model_config={"provider": "openai"})
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with caplog.at_level(logging.DEBUG, logger="agentgraph"):
        await runner.run()  # not connected; nothing local is started or used
    assert "engine" not in caplog.text


async def test_bad_provider_and_bad_config_model_are_clear_errors() -> None:
    with pytest.raises(ModelSettingsError, match="unknown provider 'cloud'"):
        await RealtimeRunner(agent()).run(model_config={"provider": "cloud"})
    with pytest.raises(ModelSettingsError, match="model_settings'\\]\\['model_name'\\]"):
        RealtimeRunner(agent(), config={"model": "gpt-realtime"})
    with pytest.raises(ModelSettingsError, match="give the model once"):
        RealtimeRunner(
            agent(),
            config={"model": OpenAIRealtimeSIPModel()},
            model=OpenAIRealtimeWebSocketModel(),
        )
    with pytest.raises(ModelSettingsError, match="exactly one of text"):
        RealtimeRunner(agent(), config={"greeting": {"text": "Hi", "instructions": "Greet"}})
    with pytest.raises(ValueError, match="exactly one of text"):
        agent(greeting="   ")


async def test_sip_model_from_config_attaches_by_call_id_and_greets_first() -> None:
    sip_model = OpenAIRealtimeSIPModel(model_name="gpt-realtime", voice="ash")
    runner = RealtimeRunner(
        agent(greeting="Thanks for calling."),
        config={"model": sip_model, "model_settings": {"turn_detection": None}},
    )
    assert runner.model is sip_model
    async with FakeRealtimeServer() as server:
        session = await runner.run(model_config={"url": server.url}, call_id="rtc_9")
        async with session:
            conn = await server.next_connection()
            first = await conn.wait_for("response.create")
        assert conn.query == {"call_id": "rtc_9"}
        assert conn.types()[:2] == ["session.update", "response.create"]
        update = conn.of_type("session.update")[0]["session"]
        assert "model" not in update and update["audio"]["output"]["voice"] == "ash"
        assert first["response"] == {
            "instructions": "Say exactly: Thanks for calling.",
            "tool_choice": "none",
        }
        # push-to-talk sessions greet too, without committing an empty buffer
        assert "input_audio_buffer.commit" not in conn.types()


async def test_the_agents_greeting_wins_over_the_graphs() -> None:
    async with FakeRealtimeServer() as server:
        for own, expected in (
            (None, "Welcome to Acme."),
            (Greeting(instructions="Greet in French."), "Greet in French."),
        ):
            runner = RealtimeRunner(agent(greeting=own), config={"greeting": "Welcome to Acme."})
            session = await runner.run(model_config={"url": server.url})
            async with session:
                conn = await server.next_connection()
                first = await conn.wait_for("response.create")
            assert first["response"]["instructions"].endswith(expected)
