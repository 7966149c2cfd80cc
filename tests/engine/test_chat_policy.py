"""The chat policy against a streaming chat-completions server, at the policy and the wire."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import websockets

from agentgraph.engine import EmbeddedEngine
from agentgraph.engine.policy import PolicyContext, ToolCall, ToolSpec, Turn
from agentgraph.engine.policy.chat import ChatPolicy, ChatPolicyError, build_messages
from tests.fakes.chat_server import ChatReply, FakeChatServer

from .conftest import WEATHER_TOOL, WireClient

WEATHER = ToolSpec(WEATHER_TOOL["name"], WEATHER_TOOL["description"], WEATHER_TOOL["parameters"])


def weather_bot(request: dict[str, Any]) -> ChatReply:
    last = request["messages"][-1]
    if last["role"] == "tool":
        return f"Here you go. {json.loads(last['content'])['summary']}", []
    if "weather" in last["content"].lower():
        return "", [("get_weather", {"city": "Oslo"})]
    return "Hello there. I am a local model! How can I help?", []


def ctx(*turns: Turn) -> PolicyContext:
    return PolicyContext(
        "You are terse.",
        (WEATHER,),
        turns,
        dt.date(2026, 11, 28),
        response_instructions="Answer in English.",
    )


def test_messages_map_history_to_chat_roles() -> None:
    messages = build_messages(
        ctx(
            Turn("user", "weather in Oslo?"),
            Turn(
                "function_call", name="get_weather", call_id="call_1", arguments='{"city":"Oslo"}'
            ),
            Turn("function_call_output", text='"cold"', call_id="call_1"),
            Turn("assistant", "It is cold."),
        )
    )
    assert messages == [
        {"role": "system", "content": "You are terse.\n\nAnswer in English."},
        {"role": "user", "content": "weather in Oslo?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '"cold"'},
        {"role": "assistant", "content": "It is cold."},
    ]


@pytest.mark.parametrize("stream", [True, False])
async def test_streams_sentences_early_and_joins_tool_call_fragments(stream: bool) -> None:
    async with FakeChatServer(weather_bot, stream=stream) as server:
        policy = ChatPolicy(base_url=server.base_url, model="tiny", api_key="sk-local")
        early: list[str] = []
        greeting = await policy.decide(ctx(Turn("user", "hi")), early.append)
        call = await policy.decide(ctx(Turn("user", "What's the weather?")))
    spoken = " ".join([*early, greeting.text]).strip()
    assert spoken == "Hello there. I am a local model! How can I help?"
    if stream:  # each sentence is handed over as soon as it is complete
        assert early[:2] == ["Hello there.", "I am a local model!"]
    assert call.tool_calls == (ToolCall("get_weather", {"city": "Oslo"}),)
    request = server.requests[0]
    assert request["model"] == "tiny" and request["stream"] is True
    assert request["tools"][0]["function"]["name"] == "get_weather"
    assert request["tool_choice"] == "auto"
    assert server.headers[0]["authorization"] == "Bearer sk-local"


async def test_server_error_is_reported_without_crashing() -> None:
    async with FakeChatServer(weather_bot) as server:
        server.status = 500
        with pytest.raises(ChatPolicyError, match="HTTP 500"):
            await ChatPolicy(base_url=server.base_url, model="m").decide(ctx(Turn("user", "x")))


async def test_engine_with_chat_policy_round_trip() -> None:
    async with (
        FakeChatServer(weather_bot) as chat,
        EmbeddedEngine(
            policy="chat", chat_base_url=chat.base_url, chat_model="tiny", voice_input=False
        ) as engine,
        websockets.connect(
            engine.url + "?model=gpt-realtime", additional_headers={"Authorization": "Bearer x"}
        ) as ws,
    ):
        client = WireClient(ws)
        await client.until("session.created")
        await client.send(
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "tools": [WEATHER_TOOL],
                    "instructions": "Be a weather bot.",
                },
            }
        )
        await client.until("session.updated")
        await client.text_turn("What's the weather like?")
        await client.send({"type": "response.create"})
        events = await client.until("response.done")
        call = next(e for e in events if e["type"] == "response.function_call_arguments.done")
        assert json.loads(call["arguments"]) == {"city": "Oslo"}
        await client.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "function_call_output",
                    "call_id": call["call_id"],
                    "output": json.dumps({"summary": "Snow, minus two."}),
                },
            }
        )
        await client.send({"type": "response.create"})
        events = await client.until("response.done")
        said = next(e for e in events if e["type"] == "response.output_audio_transcript.done")
        assert said["transcript"] == "Here you go. Snow, minus two."
        assert any(e["type"] == "response.output_audio.delta" for e in events)
        # The model saw the engine's call id in both the call and the tool message.
        messages = chat.requests[-1]["messages"]
        assert messages[-1] == {
            "role": "tool",
            "tool_call_id": call["call_id"],
            "content": json.dumps({"summary": "Snow, minus two."}),
        }
        # A failing model server gives a spoken apology, not a dead session.
        chat.status = 500
        await client.text_turn("hello")
        await client.send({"type": "response.create"})
        events = await client.until("response.done")
        said = next(e for e in events if e["type"] == "response.output_audio_transcript.done")
        assert said["transcript"].startswith("Sorry")
