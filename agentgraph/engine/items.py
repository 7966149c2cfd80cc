"""Conversation items: validation of client-created items and their policy view.

Pure helpers for the server core (`protocol.py`): `validate_item` checks a
`conversation.item.create` item (realtime-protocol.md §4.1) and returns a private copy;
`item_turn` reduces an item to the `Turn` a dialogue policy reads.
"""

from __future__ import annotations

import json
from typing import Any

from agentgraph.engine.policy.base import Turn
from agentgraph.engine.session_config import SessionError

__all__ = ["item_turn", "public_item", "validate_item"]


def public_item(item: dict[str, Any]) -> dict[str, Any]:
    """A copy of `item` safe to put in an event (content parts copied too)."""
    out = dict(item)
    if "content" in out:
        out["content"] = [dict(p) for p in out["content"]]
    return out


_ITEM_TYPES = ("message", "function_call", "function_call_output")


def validate_item(raw: Any) -> dict[str, Any]:
    """Check a client item and return a private copy with defaults filled in.

    Raises:
        SessionError: the item is malformed (the error event's code and param).
    """
    if not isinstance(raw, dict):
        raise SessionError(
            "missing_required_parameter", "Missing required parameter: 'item'.", "item"
        )
    item: dict[str, Any] = json.loads(json.dumps(raw))  # a private deep copy of plain JSON
    kind = item.get("type")
    if kind not in _ITEM_TYPES:
        raise SessionError(
            "invalid_value",
            f"Invalid value: {kind!r}. Supported values are: "
            "'message', 'function_call', 'function_call_output'.",
            "item.type",
        )
    item.setdefault("object", "realtime.item")
    if kind == "message":
        role = item.get("role")
        if role not in ("user", "assistant", "system"):
            raise SessionError(
                "invalid_value",
                f"Invalid value: {role!r}. Supported values are: 'user', 'assistant', 'system'.",
                "item.role",
            )
        content = item.get("content")
        if not isinstance(content, list):
            raise SessionError(
                "missing_required_parameter",
                "Missing required parameter: 'item.content'.",
                "item.content",
            )
        allowed = {
            "user": ("input_text", "input_audio", "input_image"),
            "system": ("input_text",),
            "assistant": ("output_text", "text"),
        }[role]
        for i, part in enumerate(content):
            ptype = part.get("type") if isinstance(part, dict) else None
            if ptype not in allowed:
                msg = (
                    "Cannot create assistant audio items."
                    if ptype in ("output_audio", "audio")
                    else f"Invalid value: {ptype!r}."
                )
                raise SessionError("invalid_value", msg, f"item.content[{i}].type")
        item.setdefault("status", "completed")
    elif kind == "function_call":
        for key in ("call_id", "name"):
            if not isinstance(item.get(key), str):
                raise SessionError(
                    "missing_required_parameter",
                    f"Missing required parameter: 'item.{key}'.",
                    f"item.{key}",
                )
        item.setdefault("arguments", "")
        item.setdefault("status", "completed")
    else:
        if not isinstance(item.get("call_id"), str):
            raise SessionError(
                "missing_required_parameter",
                "Missing required parameter: 'item.call_id'.",
                "item.call_id",
            )
        if not isinstance(item.get("output"), str):
            raise SessionError(
                "missing_required_parameter",
                "Missing required parameter: 'item.output'.",
                "item.output",
            )
    return item


def item_turn(item: dict[str, Any]) -> Turn | None:
    """The policy's view of an item (None for item types a policy ignores)."""
    kind = item.get("type")
    if kind == "message":
        texts = []
        content = item.get("content") or []
        for part in content:
            if not isinstance(part, dict):
                continue
            text = part.get("text") if "text" in part else part.get("transcript")
            if isinstance(text, str) and text:
                texts.append(text)
        role = item.get("role")
        if role not in ("user", "assistant", "system"):
            return None
        heard = any(isinstance(p, dict) and p.get("type") == "input_audio" for p in content)
        return Turn(role, " ".join(texts), heard=heard)
    if kind == "function_call":
        return Turn(
            "function_call",
            name=str(item.get("name", "")),
            call_id=str(item.get("call_id", "")),
            arguments=str(item.get("arguments", "")),
        )
    if kind == "function_call_output":
        return Turn(
            "function_call_output",
            text=str(item.get("output", "")),
            call_id=str(item.get("call_id", "")),
        )
    return None
