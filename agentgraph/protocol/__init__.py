"""The Realtime wire vocabulary (events) and its JSON codec, shared by client and engine.

Imports nothing else from agentgraph except `errors`; no asyncio, no sockets.
"""

from agentgraph.protocol import events
from agentgraph.protocol.codec import (
    MAX_LOG_SIZE,
    decode_client_event,
    decode_server_event,
    encode_audio_append,
    encode_audio_delta,
    encode_event,
    loads_object,
    truncate_for_log,
)
from agentgraph.protocol.events import (
    BETA_ALIASES,
    CLIENT_EVENT_TYPES,
    EVENT_TYPES,
    ClientEvent,
    ServerEvent,
    UnknownEvent,
    WireEvent,
    event_from_wire,
)

__all__ = [
    "BETA_ALIASES",
    "CLIENT_EVENT_TYPES",
    "EVENT_TYPES",
    "MAX_LOG_SIZE",
    "ClientEvent",
    "ServerEvent",
    "UnknownEvent",
    "WireEvent",
    "decode_client_event",
    "decode_server_event",
    "encode_audio_append",
    "encode_audio_delta",
    "encode_event",
    "event_from_wire",
    "events",
    "loads_object",
    "truncate_for_log",
]
