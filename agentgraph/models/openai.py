"""Model backends shaped like the reference SDK's: a websocket model and a SIP-call model.

`OpenAIRealtimeWebSocketModel` starts a new session (`?model=`); `OpenAIRealtimeSIPModel`
attaches to a SIP call the app accepted (`?call_id=`), where the model was fixed at accept
time, so `session.update` must not carry `model`. Any compatible server (Azure, a local
server, the embedded engine) works through `url`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from agentgraph.errors import UsageError
from agentgraph.models.connection import DEFAULT_URL, RealtimeConnection, build_url
from agentgraph.protocol import ServerEvent, UnknownEvent

__all__ = ["OpenAIRealtimeSIPModel", "OpenAIRealtimeWebSocketModel", "RealtimeModel"]


class OpenAIRealtimeWebSocketModel:
    """Connects sessions to an OpenAI Realtime (compatible) websocket endpoint.

    Args:
        url: base websocket URL (default OpenAI's); `?model=`/`?call_id=` are added.
        api_key: default key (else `model_config["api_key"]`, else `OPENAI_API_KEY`).
        model_name: default model when the settings name none.
    """

    attaches_to_call = False

    def __init__(
        self,
        *,
        url: str | None = None,
        api_key: str | None = None,
        model_name: str | None = None,
    ) -> None:
        self.url = url
        self.api_key = api_key
        self.model_name = model_name

    def resolve_url(self, url: str | None, *, model: str | None, call_id: str | None) -> str:
        """The final URL for one connection."""
        base = url or self.url or DEFAULT_URL
        return build_url(
            base, model=None if call_id else (model or self.model_name), call_id=call_id
        )

    def resolve_api_key(self, api_key: str | None, url: str) -> str | None:
        """The key to use; a missing key is an error only for api.openai.com."""
        key = api_key or self.api_key or os.environ.get("OPENAI_API_KEY")
        if not key and "api.openai.com" in url:
            raise UsageError(
                "no OpenAI API key: set OPENAI_API_KEY or pass model_config={'api_key': ...}"
            )
        return key

    def connection(
        self,
        url: str,
        *,
        on_event: Callable[[ServerEvent | UnknownEvent], None],
        on_close: Callable[[int | None, str], None],
        api_key: str | None,
        headers: Mapping[str, str] | None,
    ) -> RealtimeConnection:
        """A new (unopened) connection to `url`."""
        return RealtimeConnection(
            url, on_event=on_event, on_close=on_close, api_key=api_key, headers=headers
        )


class OpenAIRealtimeSIPModel(OpenAIRealtimeWebSocketModel):
    """Attaches to an accepted SIP call by `call_id` (`runner.run(call_id=...)`).

    Args:
        model_name: the model the call was accepted with (informational).
        voice: the voice the call was accepted with; kept in later `session.update`s.
        url: base websocket URL (default OpenAI's).
        api_key: default key.
    """

    attaches_to_call = True

    def __init__(
        self,
        *,
        model_name: str | None = None,
        voice: str | None = None,
        url: str | None = None,
        api_key: str | None = None,
    ) -> None:
        super().__init__(url=url, api_key=api_key, model_name=model_name)
        self.voice = voice


RealtimeModel = OpenAIRealtimeWebSocketModel
