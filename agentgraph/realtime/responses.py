"""The response slot of a session core: one `response.create` in flight (§6b).

Requests queue; the next one goes out when the `ResponseSlot` (state.py) is free, the
connection can send, and no open tool call holds it back (responses marked with response
metadata `agentgraph` — filler speech, approval questions, guardrail messages — may run
while calls are open). A `conversation_already_has_active_response` for our own create
puts it back at the head of the queue: the server's own (VAD) response holds the slot.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentgraph.protocol import events as wire
from agentgraph.realtime.state import ResponseSlot, SlotTrigger, slot_transition

if TYPE_CHECKING:
    from agentgraph.realtime.host import SessionHost

__all__ = ["ResponseQueue"]

Params = dict[str, Any] | None


class ResponseQueue:
    """Queued `response.create`s and the slot they wait for.

    Args:
        host: the core.
        blocks: whether open tool calls hold back the queued `head` request.
        on_sent: told the metadata of each create that goes out.
    """

    def __init__(
        self,
        host: SessionHost,
        *,
        blocks: Callable[[Params], bool],
        on_sent: Callable[[dict[str, Any] | None], None],
    ) -> None:
        self.host = host
        self.slot = ResponseSlot.FREE
        self._blocks = blocks
        self._on_sent = on_sent
        self._pending: collections.deque[Params] = collections.deque()
        self._last_create: tuple[str, Params] | None = None
        self._seq = 0

    @property
    def active(self) -> bool:
        """A response is requested or running on the server."""
        return self.slot is not ResponseSlot.FREE

    def request(self, params: Params) -> None:
        """Queue a create (plain requests in a row collapse into one)."""
        if not (params is None and self._pending and self._pending[-1] is None):
            self._pending.append(params)
        self.start_next()

    def clear(self) -> None:
        """Forget queued requests (`interrupt()`)."""
        self._pending.clear()

    def start_next(self) -> None:
        """Send the next queued create if the slot is free."""
        if self.active or not self._pending or not self.host.can_send:
            return
        if self._blocks(self._pending[0]):
            return
        params = self._pending.popleft()
        self._seq += 1
        event_id = f"agr_{self._seq}"
        self._last_create = (event_id, params)
        self.slot = slot_transition(self.slot, SlotTrigger.CREATE_SENT)
        self.host.send(wire.ResponseCreate(response=params, event_id=event_id))
        if params is not None:
            self._on_sent(params.get("metadata"))

    def reset(self) -> None:
        """A new (or no) model session: nothing is active there."""
        self.slot = slot_transition(self.slot, SlotTrigger.RESET)

    def lost_race(self, event_id: object) -> bool:
        """`conversation_already_has_active_response` for `event_id`: True if it was ours
        (re-queued to go after the server's response)."""
        if self._last_create is None or event_id != self._last_create[0]:
            return False
        self._pending.appendleft(self._last_create[1])
        self._last_create = None
        self.slot = slot_transition(self.slot, SlotTrigger.LOST_RACE)
        return True

    def created(self, response: dict[str, Any]) -> dict[str, Any] | None:
        """`response.created`: the slot is taken; returns the response's metadata (from
        the server's echo, else ours when we were waiting for our create)."""
        if "metadata" in response:
            metadata = response.get("metadata")
        else:
            params = self._last_create[1] if self._last_create else None
            waiting = self.slot is ResponseSlot.REQUESTED
            metadata = params.get("metadata") if (waiting and params) else None
        self.slot = slot_transition(self.slot, SlotTrigger.CREATED)
        return metadata if isinstance(metadata, dict) else None

    def done(self) -> None:
        """`response.done`: the slot is free again."""
        self.slot = slot_transition(self.slot, SlotTrigger.DONE)
        self._last_create = None
