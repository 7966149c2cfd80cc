"""The text Agent/Runner against the fake chat-completions server, and guardrails using it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from agentgraph.models import ChatError
from agentgraph.realtime import (
    Agent,
    GuardrailFunctionOutput,
    RealtimeAgent,
    RealtimeOutputGuardrail,
    Runner,
    instruction_guardrail,
)
from tests.fakes import FakeChatServer, FakeRealtimeServer
from tests.realtime.conftest import Harness


class ContentCheck(BaseModel):
    violates_policy: bool
    reason: str


async def test_structured_output_into_pydantic_type() -> None:
    async with FakeChatServer(
        reply=lambda r: '{"violates_policy": true, "reason": "price"}'
    ) as chat:
        checker = Agent(
            name="checker",
            instructions="Check the text.",
            output_type=ContentCheck,
            base_url=chat.base_url,
            api_key="sk-chat",
            model="judge-1",
        )
        result = await Runner.run(checker, "That costs $40.")
        check = result.final_output_as(ContentCheck)
    assert check == ContentCheck(violates_policy=True, reason="price")
    request = chat.requests[0]
    assert request["model"] == "judge-1"
    assert request["messages"][0] == {"role": "system", "content": "Check the text."}
    assert request["messages"][-1] == {"role": "user", "content": "That costs $40."}
    schema = request["response_format"]["json_schema"]
    assert schema["name"] == "ContentCheck"
    assert schema["schema"]["required"] == ["violates_policy", "reason"]
    assert chat.headers[0]["authorization"] == "Bearer sk-chat"


async def test_json_wrapped_in_prose_and_plain_text_output() -> None:
    replies = iter(['Sure! ```json\n{"violates_policy": false, "reason": "ok"}\n```', "hello"])
    async with FakeChatServer(reply=lambda r: next(replies)) as chat:
        checker = Agent(name="c", output_type=ContentCheck, base_url=chat.base_url)
        result = await Runner.run(checker, "hi")
        assert result.final_output_as(ContentCheck).violates_policy is False
        plain = await Runner.run(Agent(name="p", base_url=chat.base_url), "hi")
        assert plain.final_output == "hello"
        assert "response_format" not in chat.requests[1]


async def test_bad_answers_and_http_errors_are_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-shown")
    async with FakeChatServer(reply=lambda r: "no json here") as chat:
        checker = Agent(name="c", output_type=ContentCheck, base_url=chat.base_url)
        with pytest.raises(ChatError, match="does not fit ContentCheck"):
            await Runner.run(checker, "hi")
        chat.status = 500
        with pytest.raises(ChatError, match="HTTP 500: scripted failure") as info:
            await Runner.run(checker, "hi")
        assert "sk-never-shown" not in str(info.value)
        assert chat.headers[-1]["authorization"] == "Bearer sk-never-shown"
    with pytest.raises(ChatError, match="cannot reach"):
        await Runner.run(Agent(name="x", base_url="http://127.0.0.1:9/v1"), "hi")


async def test_guardrail_written_as_in_the_sdk_docs_trips_a_session(harness: Harness) -> None:
    def judge(request: dict[str, Any]) -> str:
        text = request["messages"][-1]["content"]
        return json.dumps({"violates_policy": "$" in text, "reason": "quotes a price"})

    async with FakeChatServer(reply=judge) as chat:
        checker = Agent(
            name="checker",
            instructions="Does it quote a price?",
            output_type=ContentCheck,
            base_url=chat.base_url,
        )

        async def no_prices(ctx: Any, agent: Any, transcript: str) -> GuardrailFunctionOutput:
            result = await Runner.run(checker, transcript)
            check = result.final_output_as(ContentCheck)
            return GuardrailFunctionOutput(
                output_info=check.reason, tripwire_triggered=check.violates_policy
            )

        guard = RealtimeOutputGuardrail(guardrail_function=no_prices, debounce_length=5)
        _, conn = await harness.start(RealtimeAgent(name="a", output_guardrails=[guard]))
        await conn.respond_audio("It is only $40 today")
        trip = await harness.wait_event("guardrail_tripped")
        # output_info is for logs; only a configured message is ever said (issue 10)
        assert trip.output_info == "quotes a price"
        assert trip.message == "Sorry, I can't help with that."
        await conn.wait_for("response.create")


async def test_instruction_guardrail(harness: Harness) -> None:
    def judge(request: dict[str, Any]) -> str:
        assert "Never promise refunds." in request["messages"][0]["content"]
        text = request["messages"][-1]["content"]
        return json.dumps({"violates": "refund" in text, "reason": "promised a refund"})

    async with FakeChatServer(reply=judge) as chat:
        guard = instruction_guardrail(
            "Never promise refunds.",
            name="no_refunds",
            message="Refunds are decided by the billing team.",
            debounce_length=10,
            base_url=chat.base_url,
        )
        _, conn = await harness.start(RealtimeAgent(name="a"), {"output_guardrails": [guard]})
        await conn.respond_audio("Sure, you will get a full refund tomorrow")
        trip = await harness.wait_event("guardrail_tripped")
        assert (trip.guardrail_name, trip.message) == (
            "no_refunds",
            "Refunds are decided by the billing team.",
        )
    assert isinstance(harness.server, FakeRealtimeServer)
