"""The `chat` dialogue policy: any OpenAI-compatible chat-completions endpoint.

A user with a local LLM server (llama.cpp, vLLM, Ollama's OpenAI API...) gets a real
language model offline. Each response is one `POST {base_url}/chat/completions` with the
session's instructions as the system message, the conversation as messages (function
calls as assistant `tool_calls`, outputs as `tool` messages) and the session's tools.
The request streams (`stream: true`, server-sent events): every finished sentence is
handed to `on_text` at once, so the engine starts speaking before the model has finished;
tool-call fragments are joined by index. A server that ignores `stream` and answers with
one JSON body works too.

The HTTP client is a few lines on asyncio streams (http and https), so the engine needs
no HTTP library; the API key only ever goes into the Authorization header.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

from agentgraph.engine.policy.base import Decision, PolicyContext, ToolCall, Turn

__all__ = ["ChatPolicy", "ChatPolicyError", "build_messages"]

_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
MAX_BODY_BYTES = 8 * 1024 * 1024
TIMEOUT_S = 60.0


class ChatPolicyError(Exception):
    """The chat-completions server failed or answered something unusable."""


def build_messages(ctx: PolicyContext) -> list[dict[str, Any]]:
    """The chat-completions `messages` for a policy context."""
    system = ctx.instructions.strip()
    if ctx.response_instructions:
        system = (system + "\n\n" + ctx.response_instructions).strip()
    messages: list[dict[str, Any]] = []
    if system:
        messages.append({"role": "system", "content": system})
    for turn in ctx.history:
        _append_turn(messages, turn)
    return messages


def _append_turn(messages: list[dict[str, Any]], turn: Turn) -> None:
    if turn.role in ("user", "system"):
        messages.append({"role": turn.role, "content": turn.text})
    elif turn.role == "assistant":
        messages.append({"role": "assistant", "content": turn.text})
    elif turn.role == "function_call":
        call = {
            "id": turn.call_id,
            "type": "function",
            "function": {"name": turn.name, "arguments": turn.arguments or "{}"},
        }
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "assistant" and "tool_calls" in last:
            last["tool_calls"].append(call)
        else:
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
    else:
        messages.append({"role": "tool", "tool_call_id": turn.call_id, "content": turn.text})


def _tool_choice(choice: str | dict[str, Any]) -> Any:
    if isinstance(choice, dict) and choice.get("name"):
        return {"type": "function", "function": {"name": choice["name"]}}
    return choice if choice in ("auto", "none", "required") else "auto"


class ChatPolicy:
    """Ask a chat-completions model for each response, streaming.

    Args:
        base_url: e.g. `http://127.0.0.1:8080/v1`.
        model: the model name the server expects.
        api_key: sent as a bearer token when set.
    """

    def __init__(self, *, base_url: str, model: str, api_key: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._api_key = api_key

    async def decide(
        self, ctx: PolicyContext, on_text: Callable[[str], None] | None = None
    ) -> Decision:
        """One chat completion; finished sentences go to `on_text` as they arrive.

        Returns:
            The remaining text (not yet given to `on_text`) and the tool calls.

        Raises:
            ChatPolicyError: the server failed or the answer was unusable.
        """
        body: dict[str, Any] = {
            "model": self.model,
            "messages": build_messages(ctx),
            "stream": True,
        }
        tools = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.parameters or {"type": "object", "properties": {}},
                },
            }
            for t in ctx.tools
        ]
        if tools:
            body["tools"] = tools
            body["tool_choice"] = _tool_choice(ctx.tool_choice)
        pending = ""
        calls: dict[int, dict[str, str]] = {}
        async for event in self._post(body):
            for choice in event.get("choices") or []:
                delta = choice.get("delta") or choice.get("message") or {}
                pending += delta.get("content") or ""
                for call in delta.get("tool_calls") or []:
                    slot = calls.setdefault(
                        int(call.get("index", len(calls))), {"name": "", "arguments": ""}
                    )
                    function = call.get("function") or {}
                    slot["name"] += function.get("name") or ""
                    slot["arguments"] += function.get("arguments") or ""
            if on_text is not None:
                ends = list(_SENTENCE_END.finditer(pending))
                if ends:
                    cut = ends[-1].end()
                    on_text(pending[:cut].strip())
                    pending = pending[cut:]
        tool_calls = []
        for index in sorted(calls):
            slot = calls[index]
            try:
                args = json.loads(slot["arguments"] or "{}")
            except ValueError:
                raise ChatPolicyError(
                    f"the model's arguments for {slot['name']!r} are not JSON"
                ) from None
            tool_calls.append(ToolCall(slot["name"], args if isinstance(args, dict) else {}))
        return Decision(text=pending.strip(), tool_calls=tuple(tool_calls))

    async def _post(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """POST and yield each JSON event (SSE `data:` lines, or one JSON body)."""
        url = urlsplit(self.base_url + "/chat/completions")
        secure = url.scheme == "https"
        host = url.hostname or "127.0.0.1"
        port = url.port or (443 if secure else 80)
        payload = json.dumps(body).encode()
        headers = [
            f"POST {url.path} HTTP/1.1",
            f"Host: {url.netloc}",
            "Content-Type: application/json",
            "Accept: text/event-stream",
            f"Content-Length: {len(payload)}",
            "Connection: close",
        ]
        if self._api_key:
            headers.append(f"Authorization: Bearer {self._api_key}")
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    host, port, ssl=ssl.create_default_context() if secure else None
                ),
                TIMEOUT_S,
            )
        except (OSError, TimeoutError) as exc:
            raise ChatPolicyError(f"cannot reach {self.base_url}: {exc}") from None
        try:
            writer.write(("\r\n".join(headers) + "\r\n\r\n").encode() + payload)
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), TIMEOUT_S)
            parts = status_line.decode("latin-1").split(" ", 2)
            status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            response_headers: dict[str, str] = {}
            while True:
                line = (await asyncio.wait_for(reader.readline(), TIMEOUT_S)).decode("latin-1")
                if line in ("\r\n", "\n", ""):
                    break
                name, _, value = line.partition(":")
                response_headers[name.strip().lower()] = value.strip().lower()
            lines = _body_lines(reader, response_headers)
            if status != 200:
                text = b"".join([chunk async for chunk in lines])[:300].decode("utf-8", "replace")
                raise ChatPolicyError(f"chat server answered HTTP {status}: {text}")
            if "text/event-stream" not in response_headers.get("content-type", ""):
                raw = b"".join([chunk async for chunk in lines])
                try:
                    yield json.loads(raw)
                except ValueError:
                    raise ChatPolicyError("chat server answered with invalid JSON") from None
                return
            async for line_bytes in lines:
                text = line_bytes.decode("utf-8", "replace").strip()
                if not text.startswith("data:"):
                    continue
                data = text[5:].strip()
                if data == "[DONE]":
                    return
                try:
                    yield json.loads(data)
                except ValueError:
                    raise ChatPolicyError("chat server sent an invalid event") from None
        finally:
            writer.close()


async def _body_lines(
    reader: asyncio.StreamReader, headers: dict[str, str]
) -> AsyncIterator[bytes]:
    """The response body as lines, undoing chunked transfer encoding."""
    total = 0
    if headers.get("transfer-encoding") == "chunked":
        buffer = b""
        while True:
            size_line = await asyncio.wait_for(reader.readline(), TIMEOUT_S)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                break
            buffer += await reader.readexactly(size)
            await reader.readline()
            total += size
            if total > MAX_BODY_BYTES:
                raise ChatPolicyError("chat server response too large")
            *complete, buffer = buffer.split(b"\n")
            for line in complete:
                yield line
        if buffer:
            yield buffer
        return
    length = headers.get("content-length")
    if length is not None:
        data = await reader.readexactly(min(int(length), MAX_BODY_BYTES))
        for line in data.split(b"\n"):
            yield line
        return
    while line := await asyncio.wait_for(reader.readline(), TIMEOUT_S):
        total += len(line)
        if total > MAX_BODY_BYTES:
            raise ChatPolicyError("chat server response too large")
        yield line
