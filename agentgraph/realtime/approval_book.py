"""Approvals as records: who must say yes to which exact call, to which question, by when.

Every approval a call needs is an `ApprovalRecord` with a session-unique `id`, the call's
validated arguments (exactly what the tool will receive), the question and who may answer.
An answer always names a record, so it can never approve another call.

Caller approvals (`by="caller"`) are asked one at a time, oldest first. A caller's words
count for the record whose question was spoken *last*, and only words the caller started
saying *after* that question was spoken in full (the response that asked it completed):
a transcript of earlier words, arriving late, is not an answer. Typed messages count once
the question was spoken. "yes" approves, "no" rejects; anything else, or words that began
while the question was still being spoken, is asked again (at most `MAX_ASKS` times in all,
then rejected). A question cut off before its end (barge-in, reconnect) is put again.

Operator approvals (`by="operator"`) emit `tool_approval_required` with the record id and
wait for `approve(call_id)` / `reject(call_id)`. Any approval not answered within the
policy's `timeout_s` is rejected (a deadline of the core). Each record ends with one
`approval_decided` event (who answered and how); `approval_asked` marks the question put.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from agentgraph.realtime import events as se
from agentgraph.realtime.approval import is_affirmative, is_negative

if TYPE_CHECKING:
    from agentgraph.realtime.agent import RealtimeAgent
    from agentgraph.realtime.host import SessionHost

__all__ = ["MAX_ASKS", "ApprovalBook", "ApprovalRecord"]

MAX_ASKS = 3
_MARK = "agentgraph"

Status = Literal["queued", "asking", "asked", "waiting", "approved", "rejected"]


@dataclass(slots=True)
class ApprovalRecord:
    """One approval a tool call waits for."""

    id: int
    call_id: str
    tool_name: str
    agent: RealtimeAgent
    arguments: dict[str, Any]
    arguments_json: str
    question: str
    by: Literal["caller", "operator"]
    timeout_s: float
    status: Status = "queued"
    asks: int = 0
    response_id: str | None = None  # the response putting the question
    create_sent: bool = False
    asked: bool = False  # the question was put at least once (spoken in full / shown)
    answer_items: set[str] = field(default_factory=set)  # caller speech begun after asking
    answered_by: str = ""
    answer: str = ""


class ApprovalBook:
    """The approvals of one session core.

    Args:
        host: the core.
        on_decided: called with the record once it is approved or rejected.
    """

    def __init__(self, host: SessionHost, on_decided: Callable[[ApprovalRecord], None]) -> None:
        self.host = host
        self.on_decided = on_decided
        self.records: dict[str, ApprovalRecord] = {}  # call_id -> open record
        self._seq = 0
        self._queue: collections.deque[ApprovalRecord] = collections.deque()
        self.current: ApprovalRecord | None = None  # the caller question in play

    # -- opening

    def open(
        self,
        *,
        call_id: str,
        tool_name: str,
        agent: RealtimeAgent,
        arguments: dict[str, Any],
        arguments_json: str,
        question: str,
        by: Literal["caller", "operator"],
        timeout_s: float,
        now: float,
    ) -> ApprovalRecord:
        """A call needs an approval: make its record and put (or queue) its question."""
        self._seq += 1
        record = ApprovalRecord(
            self._seq,
            call_id,
            tool_name,
            agent,
            arguments,
            arguments_json,
            question,
            by,
            timeout_s,
        )
        self.records[call_id] = record
        self.host.deadlines.set(("approval", record.id), now + timeout_s)
        if by == "operator":
            record.status = "waiting"
            record.asked = True
            self.host.emit(
                se.RealtimeToolApprovalRequiredEvent(
                    agent=agent,
                    tool_name=tool_name,
                    call_id=call_id,
                    arguments=arguments_json,
                    message=question,
                    approval_id=record.id,
                )
            )
            self._emit_asked(record)
        else:
            self._queue.append(record)
            self._ask_next()
        return record

    def _emit_asked(self, record: ApprovalRecord) -> None:
        self.host.emit(
            se.RealtimeApprovalAskedEvent(
                approval_id=record.id,
                call_id=record.call_id,
                tool_name=record.tool_name,
                arguments=record.arguments_json,
                question=record.question,
                by=record.by,
            )
        )

    def _ask_next(self) -> None:
        if self.current is not None or not self._queue:
            return
        self.current = self._queue.popleft()
        self._ask(self.current)

    def _ask(self, record: ApprovalRecord, *, prefix: str = "") -> None:
        record.status = "asking"
        record.asks += 1
        record.response_id = None
        record.create_sent = False
        record.answer_items.clear()
        question = prefix + record.question
        self.host.request_response(
            {
                "instructions": (
                    "Ask the caller exactly this question and then stop and wait for "
                    f'their yes or no: "{question}"'
                ),
                "tool_choice": "none",
                "metadata": {_MARK: "approval", "approval_id": str(record.id)},
            }
        )

    def _ask_again(self, record: ApprovalRecord, why: str) -> None:
        if record.asks >= MAX_ASKS:
            self._decide(record, False, "caller", f"no clear answer ({why})")
            return
        self._ask(record, prefix="Sorry, I need a clear yes or no. ")

    # -- the response that puts a caller question

    def on_create_sent(self, metadata: dict[str, Any] | None) -> None:
        """Our `response.create` with this metadata went out."""
        record = self._record_of(metadata)
        if record is not None:
            record.create_sent = True

    def on_response_created(self, response_id: str, metadata: dict[str, Any] | None) -> None:
        record = self._record_of(metadata)
        if record is not None:
            record.response_id = response_id

    def on_response_done(self, response_id: str, status: str) -> None:
        """The question was spoken in full (completed), or must be put again."""
        record = self.current
        if record is None or record.status != "asking" or record.response_id != response_id:
            return
        if status == "completed":
            record.status = "asked"
            record.asked = True
            self._emit_asked(record)
        else:
            self._ask_again(record, f"the question was {status or 'cut off'}")

    def on_connection_reset(self) -> None:
        """A new model session: a question in flight on the old one is put again."""
        record = self.current
        if record is not None and record.status == "asking" and record.create_sent:
            record.asks -= 1  # not the caller's fault
            self._ask(record)

    def _record_of(self, metadata: dict[str, Any] | None) -> ApprovalRecord | None:
        record = self.current
        if (
            record is not None
            and isinstance(metadata, dict)
            and metadata.get(_MARK) == "approval"
            and metadata.get("approval_id") == str(record.id)
        ):
            return record
        return None

    # -- the caller's answers

    def on_caller_speech_started(self, item_id: str) -> None:
        """Server VAD: the caller began speaking; after a spoken question this is an answer."""
        record = self.current
        if record is not None and record.status == "asked" and item_id:
            record.answer_items.add(item_id)

    def on_caller_transcript(self, item_id: str | None, text: str) -> bool:
        """The caller's words (a transcript, or a typed message with `item_id=None`).

        Returns:
            True if the words were taken as (or in place of) an answer.
        """
        record = self.current
        if record is None or record.status != "asked":
            return False  # nothing asked yet: earlier words are no answer
        if item_id is not None and item_id not in record.answer_items:
            # Words that began before the question was spoken in full: unclear, ask again.
            if text.strip():
                self._ask_again(record, "the caller spoke over the question")
                return True
            return False
        if is_negative(text):
            self._decide(record, False, "caller", text)
        elif is_affirmative(text):
            self._decide(record, True, "caller", text)
        else:
            self._ask_again(record, f"the caller said {text!r}")
        return True

    # -- other answers

    def answer(self, call_id: str, approved: bool, message: str | None, *, who: str) -> bool:
        """An operator's or the app's decision for the call `call_id`.

        Returns:
            False when no approval of that call is open (decided already or timed out).
        """
        record = self.records.get(call_id)
        if record is None:
            return False
        answered_by = "operator" if record.by == "operator" else who
        self._decide(record, approved, answered_by, message or ("yes" if approved else "no"))
        return True

    def handle_deadline(self, key: object) -> bool:
        """A record's timeout: no answer is a rejection. False if `key` is not ours."""
        if not (isinstance(key, tuple) and len(key) == 2 and key[0] == "approval"):
            return False
        for record in list(self.records.values()):
            if record.id == key[1]:
                self._decide(record, False, "timeout", "")
        return True

    def _decide(
        self, record: ApprovalRecord, approved: bool, answered_by: str, answer: str
    ) -> None:
        if self.records.get(record.call_id) is not record:
            return
        del self.records[record.call_id]
        self.host.deadlines.clear(("approval", record.id))
        record.status = "approved" if approved else "rejected"
        record.answered_by = answered_by
        record.answer = answer
        if record in self._queue:
            self._queue.remove(record)
        if self.current is record:
            self.current = None
        self.host.emit(
            se.RealtimeApprovalDecidedEvent(
                approval_id=record.id,
                call_id=record.call_id,
                tool_name=record.tool_name,
                arguments=record.arguments_json,
                question=record.question,
                by=record.by,
                approved=approved,
                answered_by=answered_by,
                answer=answer,
            )
        )
        self.on_decided(record)
        self._ask_next()

    def has_open(self) -> bool:
        return bool(self.records)


def arguments_json(values: dict[str, Any]) -> str:
    """Arguments as shown in events when no JSON of them exists yet."""
    return json.dumps(values, default=str, ensure_ascii=False)
