"""A small chat-completions client (OpenAI or any compatible server) for text checks.

Used by the text `Agent`/`Runner` (guardrails that ask a text model to judge a transcript).
Plain HTTP with the standard library in a worker thread: a guardrail check is one request
now and then, never per audio chunk, so no extra dependency is worth it. The API key is
sent in the Authorization header and never appears in errors or logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from agentgraph.errors import AgentGraphError

__all__ = ["ChatCompletionsClient", "ChatError", "ChatReply"]


class ChatError(AgentGraphError):
    """The chat-completions endpoint failed or answered something unusable."""


@dataclass(frozen=True, slots=True)
class ChatReply:
    """The assistant message content and the raw response body."""

    content: str
    raw: dict[str, Any]


class ChatCompletionsClient:
    """POSTs to `{base_url}/chat/completions`.

    Args:
        base_url: e.g. `https://api.openai.com/v1` or `http://127.0.0.1:8080/v1`.
        api_key: bearer token (optional for local servers).
        timeout_s: per request.
    """

    def __init__(
        self, base_url: str, *, api_key: str | None = None, timeout_s: float = 60.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout_s = timeout_s

    async def complete(self, body: dict[str, Any]) -> ChatReply:
        """Send one request body; returns the first choice's message content.

        Raises:
            ChatError: network failure, HTTP error or a malformed answer.
        """
        return await asyncio.to_thread(self._post, body)

    def _post(self, body: dict[str, Any]) -> ChatReply:
        url = f"{self.base_url}/chat/completions"
        headers = {"Content-Type": "application/json", "User-Agent": "agentgraph"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                data = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = ""
            with contextlib.suppress(ValueError, AttributeError):
                detail = json.loads(exc.read()).get("error", {}).get("message", "")
            raise ChatError(
                f"{url} answered HTTP {exc.code}" + (f": {detail[:200]}" if detail else "")
            ) from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ChatError(f"cannot reach {url}: {reason}") from None
        except ValueError:
            raise ChatError(f"{url} did not answer JSON") from None
        try:
            content = data["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise ChatError(f"{url} answered without choices[0].message.content") from None
        return ChatReply(content=str(content), raw=data)
