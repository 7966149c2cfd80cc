"""A small text `Agent`/`Runner` for guardrails that ask a text model to judge speech.

    class ContentCheck(BaseModel):
        violates_policy: bool
        reason: str

    checker = Agent(name="checker", instructions="Does this break the rules?",
                    output_type=ContentCheck)
    result = await Runner.run(checker, transcript)
    check = result.final_output_as(ContentCheck)

Works against any chat-completions endpoint: `base_url` / `api_key` / `model` on the agent,
else `OPENAI_BASE_URL` / `OPENAI_API_KEY` / `AGENTGRAPH_CHAT_MODEL` from the environment.
With an `output_type` the request asks for JSON matching the pydantic model's schema
(`response_format: json_schema`) and the answer is validated into that type.
`instruction_guardrail()` wraps this into a `RealtimeOutputGuardrail` (the YAML's
`check: "instruction"` guardrails).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pydantic

from agentgraph.models.chat import ChatCompletionsClient, ChatError
from agentgraph.realtime.guardrails import GuardrailFunctionOutput, RealtimeOutputGuardrail

__all__ = ["Agent", "ContentCheck", "RunResult", "Runner", "instruction_guardrail"]

T = TypeVar("T")
DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_CHAT_MODEL = "gpt-4o-mini"
_JSON_BLOCK = re.compile(r"\{.*\}", re.DOTALL)


@dataclass
class Agent:
    """A text agent: instructions plus an optional structured output type.

    Attributes:
        name: for logs and schema names.
        instructions: the system prompt.
        output_type: a pydantic model (or any type pydantic can validate) for the answer.
        model: chat model name.
        base_url: chat-completions base URL (ending in `/v1`).
        api_key: bearer token; never logged.
        model_settings: extra request fields (temperature, max_tokens, ...).
    """

    name: str
    instructions: str = ""
    output_type: Any = None
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    model_settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunResult:
    """What `Runner.run` returns."""

    final_output: Any
    raw: dict[str, Any]
    last_agent: Agent

    def final_output_as(self, cls: type[T], raise_if_incorrect_type: bool = False) -> T:
        """The final output as `cls` (validated again when it is not one yet)."""
        if isinstance(self.final_output, cls):
            return self.final_output
        if raise_if_incorrect_type:
            raise TypeError(
                f"final output is {type(self.final_output).__name__}, not {cls.__name__}"
            )
        return pydantic.TypeAdapter(cls).validate_python(self.final_output)


class Runner:
    """Runs a text `Agent` once (one chat-completions request)."""

    @classmethod
    async def run(
        cls, starting_agent: Agent, input: str | list[dict[str, Any]], *, context: Any = None
    ) -> RunResult:
        """Ask the agent's model; validate structured output into `output_type`.

        Raises:
            ChatError: the endpoint failed or the answer does not fit `output_type`.
        """
        agent = starting_agent
        base_url = agent.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        api_key = agent.api_key or os.environ.get("OPENAI_API_KEY")
        model = agent.model or os.environ.get("AGENTGRAPH_CHAT_MODEL") or DEFAULT_CHAT_MODEL
        messages: list[dict[str, Any]] = []
        if agent.instructions:
            messages.append({"role": "system", "content": agent.instructions})
        body: dict[str, Any] = {"model": model, "messages": messages, **agent.model_settings}
        adapter = None
        if agent.output_type is not None and agent.output_type is not str:
            adapter = pydantic.TypeAdapter(agent.output_type)
            schema = adapter.json_schema()
            name = re.sub(r"[^A-Za-z0-9_-]", "_", getattr(agent.output_type, "__name__", "output"))[
                :64
            ]
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": name, "schema": schema, "strict": False},
            }
            messages.append(
                {
                    "role": "system",
                    "content": (
                        "Answer only with a JSON object that matches this JSON Schema: "
                        + json.dumps(schema)
                    ),
                }
            )
        if isinstance(input, str):
            messages.append({"role": "user", "content": input})
        else:
            messages.extend(input)
        reply = await ChatCompletionsClient(base_url, api_key=api_key).complete(body)
        if adapter is None:
            return RunResult(reply.content, reply.raw, agent)
        return RunResult(_parse(adapter, reply.content, agent), reply.raw, agent)


def _parse(adapter: pydantic.TypeAdapter[Any], content: str, agent: Agent) -> Any:
    candidates = [content]
    match = _JSON_BLOCK.search(content)
    if match and match.group(0) != content:
        candidates.append(match.group(0))  # models like to wrap JSON in prose or fences
    error: Exception | None = None
    for text in candidates:
        try:
            return adapter.validate_json(text)
        except pydantic.ValidationError as exc:
            error = exc
    raise ChatError(
        f"agent {agent.name!r}: the model's answer does not fit "
        f"{getattr(agent.output_type, '__name__', 'the output type')}: "
        f"{str(error).splitlines()[0] if error else 'no JSON'}"
    )


class ContentCheck(pydantic.BaseModel):
    """The verdict an instruction guardrail asks the text model for."""

    violates: bool
    reason: str = ""


def instruction_guardrail(
    instruction: str,
    *,
    name: str,
    message: str | None = None,
    debounce_length: int = 100,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
) -> RealtimeOutputGuardrail:
    """A guardrail that asks a text model whether the agent's words break `instruction`.

    Args:
        instruction: the rule in words, e.g. "Never quote prices."
        name: the guardrail's name.
        message: guidance for the model after a trip (default: the model's reason).
        debounce_length: characters between checks.
        model: chat model (default from the environment).
        base_url: chat-completions endpoint (default from the environment).
        api_key: key for that endpoint.
    """
    checker = Agent(
        name=name,
        instructions=(
            "You check what a voice agent said against one rule. Rule: "
            + instruction
            + "\nSet violates to true only if the text breaks the rule; give a short reason."
        ),
        output_type=ContentCheck,
        model=model,
        base_url=base_url,
        api_key=api_key,
    )

    async def check(context: Any, agent: Any, text: str) -> GuardrailFunctionOutput:
        result = await Runner.run(checker, text)
        verdict = result.final_output_as(ContentCheck)
        return GuardrailFunctionOutput(
            output_info=verdict.reason or None, tripwire_triggered=verdict.violates
        )

    check.__name__ = name
    return RealtimeOutputGuardrail(
        check, name=name, debounce_length=debounce_length, message=message
    )
