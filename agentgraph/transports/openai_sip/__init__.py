"""OpenAI's SIP connector: a signed webhook announces each call; we accept it with the
graph's session config and attach a session to it by `call_id`.

`webhook` (pure: Standard Webhooks verification, replay guard, event parsing), `rest`
(accept/reject/refer/hangup), `http` (a small HTTP/1.1 server for the webhook) and
`server` (the connector tying them to one realtime session per call).
"""

from agentgraph.transports.openai_sip.webhook import (
    IncomingCallEvent,
    ReplayGuard,
    WebhookError,
    parse_incoming_call,
    verify_webhook,
)

__all__ = [
    "IncomingCallEvent",
    "ReplayGuard",
    "WebhookError",
    "parse_incoming_call",
    "verify_webhook",
]
