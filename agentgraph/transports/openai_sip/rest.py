"""The call-control REST endpoints of OpenAI's SIP connector (realtime-protocol.md §8.4).

`accept` (with the GA session object), `reject`, `refer` and `hangup`, each a POST to
`{base}/realtime/calls/{call_id}/...` with the bearer key; success is any 2xx. The stdlib
HTTP client runs in a worker thread so the event loop never blocks; responses are small.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

from agentgraph.errors import AgentGraphError

__all__ = ["CallGone", "CallsClient", "RestError"]

TIMEOUT_S = 10.0


class RestError(AgentGraphError):
    """A call-control request failed; `status` is the HTTP status (0: no response)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class CallGone(RestError):
    """404: the call no longer exists (the caller hung up while it rang)."""


class CallsClient:
    """accept/reject/refer/hangup for one API base URL and key."""

    def __init__(
        self,
        base_url: str = "https://api.openai.com/v1",
        *,
        api_key: str | None = None,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout_s = timeout_s

    async def accept(self, call_id: str, session: dict[str, Any]) -> None:
        """Answer the call with this GA session config (`type: realtime` required)."""
        await self._post(call_id, "accept", {"type": "realtime", **session})

    async def reject(self, call_id: str, status_code: int = 603) -> None:
        """Refuse the call with a SIP status (default 603 Decline)."""
        await self._post(call_id, "reject", {"status_code": status_code})

    async def refer(self, call_id: str, target_uri: str) -> None:
        """Transfer the call (SIP REFER to `tel:` or `sip:` target)."""
        await self._post(call_id, "refer", {"target_uri": target_uri})

    async def hangup(self, call_id: str) -> None:
        """End the call."""
        await self._post(call_id, "hangup", None)

    async def _post(self, call_id: str, action: str, body: dict[str, Any] | None) -> None:
        url = f"{self.base_url}/realtime/calls/{quote(call_id, safe='')}/{action}"
        data = json.dumps(body).encode() if body is not None else b""
        headers = {"Content-Type": "application/json", "User-Agent": "agentgraph"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        await asyncio.to_thread(self._send, request, action, call_id)

    def _send(self, request: urllib.request.Request, action: str, call_id: str) -> None:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                response.read(65536)
        except urllib.error.HTTPError as exc:
            detail = exc.read(300).decode("utf-8", "replace").strip()
            cls = CallGone if exc.code == 404 else RestError
            raise cls(f"{action} {call_id}: HTTP {exc.code} {detail[:200]}", exc.code) from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise RestError(f"{action} {call_id}: {reason}") from None
