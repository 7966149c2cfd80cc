"""TurnWatcher: when has the agent finished answering the caller?"""

from __future__ import annotations

from agentgraph.realtime import RealtimeAgent
from agentgraph.realtime import events as ev
from agentgraph.transports.turns import TurnWatcher

AGENT = RealtimeAgent(name="a", instructions="x")


def raw(kind: str) -> ev.RealtimeResponseStartedEvent | ev.RealtimeResponseDoneEvent:
    """Response boundaries are typed session events (no raw wire events needed)."""
    if kind == "response.created":
        return ev.RealtimeResponseStartedEvent(response_id="r")
    return ev.RealtimeResponseDoneEvent(response_id="r", status="completed")


def test_tool_call_answer_spans_two_responses() -> None:
    w = TurnWatcher(settle_s=0.4)
    w.caller_turn(0.0)
    assert not w.done(10.0)  # nothing answered yet
    w.feed(raw("response.created"), 0.1)
    w.feed(ev.RealtimeToolStartEvent(agent=AGENT, tool_name="t", call_id="c1", arguments="{}"), 0.2)
    w.feed(raw("response.done"), 0.2)
    w.feed(
        ev.RealtimeToolEndEvent(
            agent=AGENT, tool_name="t", call_id="c1", arguments="{}", output="ok"
        ),
        0.3,
    )
    assert not w.done(5.0)  # a follow-up response is expected
    w.feed(raw("response.created"), 0.4)
    w.feed(ev.RealtimeTranscriptDeltaEvent(item_id="i", delta="Sunny"), 0.5)
    assert not w.done(5.0)  # response still active
    w.feed(raw("response.done"), 0.6)
    assert not w.done(0.9)  # settling
    assert w.done(1.0)


def test_without_raw_events_output_then_quiet_is_done() -> None:
    w = TurnWatcher(settle_s=0.4)
    w.caller_turn(0.0)
    w.feed(ev.RealtimeAudioEvent(audio=b"\0\0", item_id="i"), 0.5)
    w.feed(ev.RealtimeTranscriptDoneEvent(item_id="i", transcript="hi"), 0.6)
    assert not w.done(0.8)
    assert w.done(1.0)


def test_pending_approval_and_speech_keep_it_busy() -> None:
    w = TurnWatcher(settle_s=0.1)
    w.caller_turn(0.0)
    w.feed(ev.RealtimeTranscriptDoneEvent(item_id="i", transcript="ok"), 0.1)
    w.feed(
        ev.RealtimeToolApprovalRequiredEvent(
            agent=AGENT, tool_name="book", call_id="c9", arguments="{}", message="Book?"
        ),
        0.2,
    )
    assert not w.done(9.0)
    w.feed(
        ev.RealtimeToolEndEvent(
            agent=AGENT, tool_name="book", call_id="c9", arguments="{}", output="rejected", ok=False
        ),
        0.3,
    )
    w.feed(ev.RealtimeTranscriptDoneEvent(item_id="j", transcript="Not booked."), 0.4)
    assert w.done(0.6)
    w.feed(ev.RealtimeSpeechStartedEvent(item_id="u2"), 1.0)
    assert not w.done(9.0)
    w.feed(ev.RealtimeSpeechStoppedEvent(item_id="u2"), 1.5)
    assert not w.done(9.0)  # a new caller turn waits for its own answer
    w.feed(ev.RealtimeTranscriptDoneEvent(item_id="k", transcript="Sure."), 2.0)
    assert w.done(2.2)


def test_closed_connection_ends_the_wait() -> None:
    w = TurnWatcher()
    w.caller_turn(0.0)
    w.feed(ev.RealtimeConnectionEvent(status="closed"), 0.1)
    assert w.done(0.1)
