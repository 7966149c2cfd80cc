"""Model backends: the OpenAI Realtime client (sans-I/O core + asyncio shell)."""

from agentgraph.models.chat import ChatCompletionsClient, ChatError, ChatReply
from agentgraph.models.connection import DEFAULT_URL, RealtimeConnection, build_url, redact_url
from agentgraph.models.openai import (
    OpenAIRealtimeSIPModel,
    OpenAIRealtimeWebSocketModel,
    RealtimeModel,
)
from agentgraph.models.protocol import RECONNECT_CLOSE_CODES, ClientState, RealtimeClientProtocol

__all__ = [
    "DEFAULT_URL",
    "RECONNECT_CLOSE_CODES",
    "ChatCompletionsClient",
    "ChatError",
    "ChatReply",
    "ClientState",
    "OpenAIRealtimeSIPModel",
    "OpenAIRealtimeWebSocketModel",
    "RealtimeClientProtocol",
    "RealtimeConnection",
    "RealtimeModel",
    "build_url",
    "redact_url",
]
