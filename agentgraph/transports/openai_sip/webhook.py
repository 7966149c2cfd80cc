"""Standard Webhooks verification and `realtime.call.incoming` parsing (pure functions).

Follows realtime-protocol.md §8.3: the signed content is `"{id}.{timestamp}.{raw body}"`,
the key is the base64-decoded part of a `whsec_` secret, the header holds space-separated
`v1,<base64>` signatures (any may match, compared in constant time), and deliveries older
or newer than the tolerance (300 s) are refused. Time is an argument.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from agentgraph.errors import AgentGraphError, UsageError

__all__ = [
    "IncomingCallEvent",
    "ReplayGuard",
    "WebhookError",
    "check_secret",
    "parse_incoming_call",
    "precheck_delivery",
    "sign_webhook",
    "verify_webhook",
]

TOLERANCE_S = 300
MAX_BODY_BYTES = 64 * 1024


class WebhookError(AgentGraphError):
    """A webhook delivery was refused; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[6:], validate=True)
        except binascii.Error:
            raise WebhookError("webhook secret is not valid base64 after 'whsec_'", 500) from None
    return secret.encode()


def check_secret(secret: str) -> None:
    """Fail at startup, not per delivery, when the signing secret cannot be used.

    Raises:
        UsageError: empty, or a `whsec_` secret whose rest is not base64.
    """
    if not secret:
        raise UsageError("the OpenAI webhook secret is empty (sip.openai.webhook_secret)")
    try:
        _key(secret)
    except WebhookError:
        raise UsageError(
            "sip.openai.webhook_secret starts with 'whsec_' but the rest is not "
            "base64: copy the signing secret from the OpenAI dashboard"
        ) from None


def sign_webhook(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for a delivery (used by tests and fakes)."""
    content = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_webhook(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    *,
    now: float,
    tolerance_s: int = TOLERANCE_S,
) -> str:
    """Check a delivery's signature and timestamp; returns its webhook id.

    Args:
        body: the raw request body, exactly as received.
        headers: request headers with lower-case names.
        secret: the `whsec_...` signing secret.
        now: current unix time in seconds.

    Raises:
        WebhookError: a header is missing, the timestamp is outside the tolerance, or no
            signature matches (status 400 or 401).
    """
    webhook_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not webhook_id or not timestamp or not signatures:
        raise WebhookError("missing webhook-id, webhook-timestamp or webhook-signature header")
    if not timestamp.isdigit():
        raise WebhookError("webhook-timestamp is not a number")
    ts = int(timestamp)
    if now - ts > tolerance_s:
        raise WebhookError("webhook timestamp too old", 401)
    if ts > now + tolerance_s:
        raise WebhookError("webhook timestamp too new", 401)
    expected = sign_webhook(secret, webhook_id, ts, body)[3:]
    for candidate in signatures.split():
        value = candidate[3:] if candidate.startswith("v1,") else candidate
        if hmac.compare_digest(expected.encode(), value.encode()):
            return webhook_id
    raise WebhookError("webhook signature does not match", 401)


def precheck_delivery(
    method: str, path: str, headers: Mapping[str, str], *, expected_path: str, now: float
) -> tuple[int, bytes] | None:
    """Refuse a delivery from its request line and headers alone, before its body is read.

    Wrong path (404), not POST (405), missing signature headers (400) or a timestamp
    outside the tolerance (401): an unauthenticated sender never gets to make us buffer
    a body. None means: read the body and verify the signature.
    """
    if path.split("?", 1)[0] != expected_path:
        return 404, b"not found\n"
    if method != "POST":
        return 405, b"POST only\n"
    timestamp = headers.get("webhook-timestamp", "")
    if not headers.get("webhook-id") or not headers.get("webhook-signature"):
        return 400, b"missing webhook-id, webhook-timestamp or webhook-signature header\n"
    if not timestamp.isdigit() or abs(now - int(timestamp)) > TOLERANCE_S:
        return 401, b"webhook timestamp outside the tolerance\n"
    return None


class ReplayGuard:
    """Remembers webhook ids for the tolerance window (bounded), to refuse replays."""

    def __init__(self, *, window_s: float = 2 * TOLERANCE_S, capacity: int = 10_000) -> None:
        self.window_s = window_s
        self.capacity = capacity
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, webhook_id: str, now: float) -> bool:
        """True the first time an id is seen inside the window; records it."""
        while self._seen:
            oldest, seen_at = next(iter(self._seen.items()))
            if now - seen_at <= self.window_s and len(self._seen) < self.capacity:
                break
            del self._seen[oldest]
        if webhook_id in self._seen:
            return False
        self._seen[webhook_id] = now
        return True


@dataclass(frozen=True, slots=True)
class IncomingCallEvent:
    """`realtime.call.incoming`: the call id and the (untrusted) SIP headers."""

    event_id: str
    call_id: str
    sip_headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.sip_headers if k.lower() == low), None)

    @property
    def dialled_number(self) -> str | None:
        """The user part of the To header (`sip:+1415...@...` -> `+1415...`)."""
        to = self.header("To") or ""
        start = to.find("sip:")
        if start < 0:
            start = to.find("tel:")
        if start < 0:
            return None
        user = to[start + 4 :].split("@")[0].split(">")[0].split(";")[0]
        return user or None


def parse_incoming_call(body: bytes) -> IncomingCallEvent | None:
    """Parse a verified delivery; None for other event types.

    Raises:
        WebhookError: the body is not the JSON shape of §8.2 (status 400).
    """
    if len(body) > MAX_BODY_BYTES:
        raise WebhookError("webhook body too large", 413)
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookError("webhook body is not JSON") from None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise WebhookError("webhook body is not an event object")
    if event["type"] != "realtime.call.incoming":
        return None
    data = event.get("data")
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("call_id"), str)
        or not data["call_id"]
    ):
        raise WebhookError("realtime.call.incoming without data.call_id")
    headers: list[tuple[str, str]] = []
    for item in data.get("sip_headers") or []:
        if (
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and isinstance(item.get("value"), str)
        ):
            headers.append((item["name"][:100], item["value"][:1000]))
    return IncomingCallEvent(str(event.get("id", "")), data["call_id"], tuple(headers))
