"""Conversation history kept by the session, cheap to grow.

Transcript deltas are appended to a per-item list of parts (joined only when someone asks),
so the cost per delta stays constant however long the call is; the reference SDK copied
the whole history on every delta. `HistoryItem` is the frozen snapshot callers see.
Replaying the history after a reconnect uses the same records (as text items).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["History", "HistoryItem", "ItemKind", "Role", "wire_item_text"]

ItemKind = Literal["message", "function_call", "function_call_output"]
Role = Literal["user", "assistant", "system"]


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One conversation item as the session knows it.

    Attributes:
        item_id: the server's item id (or ours for items we created).
        kind: message, function_call or function_call_output.
        role: for messages, who spoke.
        text: the transcript or text (caller or agent); empty while unknown.
        name: function name for calls.
        call_id: function call id for calls and outputs.
        arguments: JSON arguments for calls.
        output: tool output for function_call_output.
        interrupted: the agent was cut off (text is what was heard, as far as known).
        agent_name: the agent active when the item was added.
    """

    item_id: str
    kind: ItemKind
    role: Role | None = None
    text: str = ""
    name: str = ""
    call_id: str = ""
    arguments: str = ""
    output: str = ""
    interrupted: bool = False
    agent_name: str = ""


class _Entry:
    __slots__ = (
        "agent_name",
        "arguments",
        "call_id",
        "interrupted",
        "item_id",
        "kind",
        "name",
        "output",
        "parts",
        "role",
        "text",
    )

    def __init__(self, item_id: str, kind: ItemKind, role: Role | None, agent_name: str) -> None:
        self.item_id = item_id
        self.kind = kind
        self.role = role
        self.agent_name = agent_name
        self.parts: list[str] = []
        self.text: str | None = None  # final text once known; parts until then
        self.name = ""
        self.call_id = ""
        self.arguments = ""
        self.output = ""
        self.interrupted = False

    def current_text(self) -> str:
        if self.text is not None:
            return self.text
        return "".join(self.parts)

    def snapshot(self) -> HistoryItem:
        return HistoryItem(
            item_id=self.item_id,
            kind=self.kind,
            role=self.role,
            text=self.current_text(),
            name=self.name,
            call_id=self.call_id,
            arguments=self.arguments,
            output=self.output,
            interrupted=self.interrupted,
            agent_name=self.agent_name,
        )


class History:
    """Ordered conversation items with O(1) append, lookup and delta."""

    __slots__ = ("_by_id", "_entries")

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._by_id: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._by_id

    def add(
        self,
        item_id: str,
        kind: ItemKind,
        role: Role | None = None,
        *,
        text: str | None = None,
        name: str = "",
        call_id: str = "",
        arguments: str = "",
        output: str = "",
        agent_name: str = "",
    ) -> HistoryItem | None:
        """Add an item; returns its snapshot, or None if it was already known."""
        if item_id in self._by_id:
            entry = self._by_id[item_id]
            if text:
                entry.text = text
            return None
        entry = _Entry(item_id, kind, role, agent_name)
        entry.text = text or None
        entry.name, entry.call_id, entry.arguments, entry.output = name, call_id, arguments, output
        self._entries.append(entry)
        self._by_id[item_id] = entry
        return entry.snapshot()

    def append_text(self, item_id: str, delta: str) -> None:
        """Add a transcript delta (O(1); unknown items are ignored)."""
        entry = self._by_id.get(item_id)
        if entry is not None and entry.text is None:
            entry.parts.append(delta)

    def set_text(self, item_id: str, text: str) -> None:
        """Set the final text of an item (transcript done / input transcription completed)."""
        entry = self._by_id.get(item_id)
        if entry is not None:
            entry.text = text
            entry.parts.clear()

    def text_of(self, item_id: str) -> str:
        entry = self._by_id.get(item_id)
        return "" if entry is None else entry.current_text()

    def mark_interrupted(self, item_id: str, heard_text: str | None = None) -> None:
        """Mark an agent item as cut off; optionally replace its text with what was heard."""
        entry = self._by_id.get(item_id)
        if entry is not None:
            entry.interrupted = True
            if heard_text is not None:
                entry.text = heard_text

    def items(self) -> list[HistoryItem]:
        """A snapshot of every item, oldest first (O(n); call on demand, not per delta)."""
        return [entry.snapshot() for entry in self._entries]

    def transcript(self) -> list[tuple[str, str]]:
        """`(role, text)` for every message with text: the replay material after reconnect."""
        out: list[tuple[str, str]] = []
        for entry in self._entries:
            if entry.kind == "message" and entry.role in ("user", "assistant"):
                text = entry.current_text()
                if text:
                    out.append((entry.role, text))
        return out

    def add_wire_item(self, item: dict[str, Any], agent_name: str) -> HistoryItem | None:
        """Add a GA conversation item (`conversation.item.added`/`.done`); its snapshot, or
        None when it was known already or is of a kind the history does not keep."""
        item_id = item.get("id") or ""
        kind = item.get("type")
        if kind == "message":
            text = wire_item_text(item)
            return self.add(
                item_id, "message", item.get("role"), text=text or None, agent_name=agent_name
            )
        if kind == "function_call":
            return self.add(
                item_id,
                "function_call",
                name=item.get("name", ""),
                call_id=item.get("call_id", ""),
                arguments=item.get("arguments", ""),
                agent_name=agent_name,
            )
        if kind == "function_call_output":
            return self.add(
                item_id,
                "function_call_output",
                call_id=item.get("call_id", ""),
                output=item.get("output", ""),
                agent_name=agent_name,
            )
        return None


def wire_item_text(item: dict[str, Any]) -> str:
    """The text (or transcript) parts of a GA message item, joined."""
    parts = []
    for content in item.get("content") or ():
        if not isinstance(content, dict):
            continue
        value = content.get("text") or content.get("transcript")
        if isinstance(value, str):
            parts.append(value)
    return "".join(parts)
