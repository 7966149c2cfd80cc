"""Knowing when the agent has finished answering, so a scripted caller can go on or hang up.

A `--say` run, a WAV file and a conversation test all need the same judgement: after the
caller's turn, has the agent said everything it is going to say? One answer may span
several model responses (a function call, the tool running, an approval, a handoff, a
guardrail retry, then the spoken reply), so "a response finished" is not enough.

`TurnWatcher` is a pure state machine fed session events with explicit times:

- work in flight: a model response (`response_started` -> `response_done`), a tool
  (`tool_start` -> `tool_end`), an operator approval (`tool_approval_required` -> the
  call's `tool_end`), or the caller speaking;
- a follow-up is expected after `tool_end`, `handoff` and `guardrail_tripped` until the
  agent produces output again;
- the agent has answered once it produced output (audio or transcript) since the caller's
  turn and nothing is in flight or expected; `settle_s` of quiet then makes it final
  (responses are created by the session asynchronously, so a short grace period avoids
  hanging up between two responses).
"""

from __future__ import annotations

from typing import Any

from agentgraph.realtime import events as se

__all__ = ["TurnWatcher", "raw_type"]

_OUTPUT_EVENTS = frozenset({"audio_delta", "transcript_delta", "transcript_done", "audio_done"})
_FOLLOW_UP_EVENTS = frozenset({"tool_end", "handoff", "guardrail_tripped"})


def raw_type(event: Any) -> str:
    """The wire type inside a `raw_model_event` (e.g. `response.done`), or ''."""
    data = getattr(event, "data", None)
    if isinstance(data, dict):
        return str(data.get("type", ""))
    return str(getattr(data, "type", ""))


class TurnWatcher:
    """Tracks whether the agent is done answering the caller's latest turn.

    Args:
        settle_s: quiet time after the last activity before the answer counts as complete.
    """

    def __init__(self, *, settle_s: float = 0.4) -> None:
        self.settle_s = settle_s
        self.responses_active = 0
        self.tools_running: set[str] = set()
        self.approvals_pending: set[str] = set()
        self.caller_speaking = False
        self.follow_up_expected = False
        self.answered = False
        self.waiting_for_answer = False
        self.last_activity = 0.0
        self.turn_started = 0.0
        self.closed = False

    def caller_turn(self, now: float) -> None:
        """The caller finished a turn (message sent, or audio committed): expect an answer."""
        self.waiting_for_answer = True
        self.answered = False
        self.turn_started = now
        self.last_activity = now

    def feed(self, event: Any, now: float) -> None:
        """Update from one session event."""
        kind = str(getattr(event, "type", ""))
        self.last_activity = now
        if isinstance(event, se.RealtimeResponseStartedEvent):
            self.responses_active += 1
            return
        if isinstance(event, se.RealtimeResponseDoneEvent):
            self.responses_active = max(0, self.responses_active - 1)
            return
        if kind == "raw_model_event":
            return
        if kind in _OUTPUT_EVENTS:
            self.follow_up_expected = False
            if self.waiting_for_answer:
                self.answered = True
        elif kind == "speech_started":
            self.caller_speaking = True
        elif kind == "speech_stopped":
            self.caller_speaking = False
            self.caller_turn(now)
        elif kind == "tool_start":
            self.tools_running.add(str(getattr(event, "call_id", "")))
        elif kind == "tool_approval_required":
            self.approvals_pending.add(str(getattr(event, "call_id", "")))
        elif kind == "connection" and getattr(event, "status", "") == "closed":
            self.closed = True
        if kind == "tool_end":
            call_id = str(getattr(event, "call_id", ""))
            self.tools_running.discard(call_id)
            self.approvals_pending.discard(call_id)
        if kind in _FOLLOW_UP_EVENTS:
            self.follow_up_expected = True

    @property
    def busy(self) -> bool:
        """Whether something is in flight that will lead to more agent output."""
        return bool(
            self.responses_active
            or self.tools_running
            or self.approvals_pending
            or self.caller_speaking
            or self.follow_up_expected
        )

    def done(self, now: float) -> bool:
        """Whether the agent has finished answering and `settle_s` of quiet has passed."""
        if self.closed:
            return True
        if not self.answered or self.busy:
            return False
        return now - self.last_activity >= self.settle_s

    def next_check(self, now: float) -> float:
        """When `done()` could next become true (the shell sleeps until then at most)."""
        return max(now, self.last_activity + self.settle_s)

    def quiet_for(self, now: float) -> float:
        """Seconds since the last event (for "no answer at all" timeouts)."""
        return now - self.last_activity
