"""The conversation state machine: every rule in one table (after h11's `_state.py`).

States:

    IDLE           nobody is speaking and no response is wanted
    USER_SPEAKING  server VAD hears the caller
    THINKING       a response is wanted (caller finished, tool output sent, message sent)
    RESPONDING     a response is active on the server
    INTERRUPTED    the caller barged in over a response; the response is being cancelled

Triggers come from the wire (speech started/stopped, response created/done) and from the
app (`interrupt()`, a response request). Barge-in is the transition
`(RESPONDING, SPEECH_STARTED) -> INTERRUPTED`; the session performs the interruption
(stop playback, truncate, cancel) when it takes that edge. A pair missing from the table
is a bug and raises `InvalidState`.

The response slot is a second, smaller machine (`ResponseSlot`): the protocol allows one
response at a time, and "is a response active" is answered by this table alone.

    FREE       no response on the server, none requested
    REQUESTED  our `response.create` is on its way (no `response.created` yet)
    ACTIVE     a response runs on the server (ours, or the server's own after VAD)
"""

from __future__ import annotations

import enum

from agentgraph.errors import InvalidState

__all__ = [
    "SLOT_TRANSITIONS",
    "TRANSITIONS",
    "ConversationState",
    "ResponseSlot",
    "SlotTrigger",
    "Trigger",
    "mermaid",
    "slot_transition",
    "transition",
]


class ConversationState(enum.Enum):
    IDLE = "idle"
    USER_SPEAKING = "user_speaking"
    THINKING = "thinking"
    RESPONDING = "responding"
    INTERRUPTED = "interrupted"


class Trigger(enum.Enum):
    SPEECH_STARTED = "speech_started"
    SPEECH_STOPPED = "speech_stopped"
    RESPONSE_REQUESTED = "response_requested"
    RESPONSE_CREATED = "response_created"
    RESPONSE_DONE = "response_done"
    INTERRUPT = "interrupt"


S, T = ConversationState, Trigger

TRANSITIONS: dict[tuple[ConversationState, Trigger], ConversationState] = {
    # The caller starts talking.
    (S.IDLE, T.SPEECH_STARTED): S.USER_SPEAKING,
    (S.USER_SPEAKING, T.SPEECH_STARTED): S.USER_SPEAKING,
    (S.THINKING, T.SPEECH_STARTED): S.USER_SPEAKING,
    (S.RESPONDING, T.SPEECH_STARTED): S.INTERRUPTED,  # barge-in
    (S.INTERRUPTED, T.SPEECH_STARTED): S.INTERRUPTED,
    # The caller stops: a response is coming (server VAD) or will be asked for.
    (S.IDLE, T.SPEECH_STOPPED): S.THINKING,
    (S.USER_SPEAKING, T.SPEECH_STOPPED): S.THINKING,
    (S.THINKING, T.SPEECH_STOPPED): S.THINKING,
    (S.RESPONDING, T.SPEECH_STOPPED): S.RESPONDING,
    (S.INTERRUPTED, T.SPEECH_STOPPED): S.THINKING,
    # Someone asks for a response (send_message, tool output, generate_response).
    (S.IDLE, T.RESPONSE_REQUESTED): S.THINKING,
    (S.USER_SPEAKING, T.RESPONSE_REQUESTED): S.USER_SPEAKING,
    (S.THINKING, T.RESPONSE_REQUESTED): S.THINKING,
    (S.RESPONDING, T.RESPONSE_REQUESTED): S.RESPONDING,
    (S.INTERRUPTED, T.RESPONSE_REQUESTED): S.INTERRUPTED,
    # The server starts a response (ours or its own after VAD).
    (S.IDLE, T.RESPONSE_CREATED): S.RESPONDING,
    (S.USER_SPEAKING, T.RESPONSE_CREATED): S.RESPONDING,
    (S.THINKING, T.RESPONSE_CREATED): S.RESPONDING,
    (S.RESPONDING, T.RESPONSE_CREATED): S.RESPONDING,
    (S.INTERRUPTED, T.RESPONSE_CREATED): S.RESPONDING,
    # The response ends (completed, cancelled, failed).
    (S.IDLE, T.RESPONSE_DONE): S.IDLE,
    (S.USER_SPEAKING, T.RESPONSE_DONE): S.USER_SPEAKING,
    (S.THINKING, T.RESPONSE_DONE): S.THINKING,
    (S.RESPONDING, T.RESPONSE_DONE): S.IDLE,
    (S.INTERRUPTED, T.RESPONSE_DONE): S.USER_SPEAKING,
    # The app calls interrupt(): whatever was happening, the agent stops.
    (S.IDLE, T.INTERRUPT): S.IDLE,
    (S.USER_SPEAKING, T.INTERRUPT): S.USER_SPEAKING,
    (S.THINKING, T.INTERRUPT): S.IDLE,
    (S.RESPONDING, T.INTERRUPT): S.IDLE,
    (S.INTERRUPTED, T.INTERRUPT): S.INTERRUPTED,
}


def transition(state: ConversationState, trigger: Trigger) -> ConversationState:
    """The next state.

    Raises:
        InvalidState: the table has no rule for this pair.
    """
    try:
        return TRANSITIONS[(state, trigger)]
    except KeyError:
        raise InvalidState(f"cannot handle {trigger.value} in state {state.value}") from None


def mermaid() -> str:
    """The state diagram for the docs, generated from the table."""
    lines = ["stateDiagram-v2"]
    for (src, trig), dst in TRANSITIONS.items():
        if src is not dst:
            lines.append(f"    {src.value} --> {dst.value}: {trig.value}")
    return "\n".join(lines)


class ResponseSlot(enum.Enum):
    FREE = "free"
    REQUESTED = "requested"
    ACTIVE = "active"


class SlotTrigger(enum.Enum):
    CREATE_SENT = "create_sent"  # we sent response.create
    CREATED = "created"  # response.created (ours or the server's)
    DONE = "done"  # response.done
    LOST_RACE = "lost_race"  # conversation_already_has_active_response for our create
    RESET = "reset"  # a new model session: nothing is active there


R, ST = ResponseSlot, SlotTrigger

SLOT_TRANSITIONS: dict[tuple[ResponseSlot, SlotTrigger], ResponseSlot] = {
    (R.FREE, ST.CREATE_SENT): R.REQUESTED,
    (R.FREE, ST.CREATED): R.ACTIVE,
    (R.FREE, ST.DONE): R.FREE,
    (R.FREE, ST.LOST_RACE): R.ACTIVE,
    (R.REQUESTED, ST.CREATED): R.ACTIVE,
    (R.REQUESTED, ST.DONE): R.FREE,
    (R.REQUESTED, ST.LOST_RACE): R.ACTIVE,  # the server's own response holds the slot
    (R.ACTIVE, ST.CREATED): R.ACTIVE,
    (R.ACTIVE, ST.DONE): R.FREE,
    (R.ACTIVE, ST.LOST_RACE): R.ACTIVE,
    (R.FREE, ST.RESET): R.FREE,
    (R.REQUESTED, ST.RESET): R.FREE,
    (R.ACTIVE, ST.RESET): R.FREE,
}


def slot_transition(slot: ResponseSlot, trigger: SlotTrigger) -> ResponseSlot:
    """The response slot after `trigger`.

    Raises:
        InvalidState: the table has no rule for this pair (e.g. sending a second create).
    """
    try:
        return SLOT_TRANSITIONS[(slot, trigger)]
    except KeyError:
        raise InvalidState(
            f"cannot handle {trigger.value} with the response slot {slot.value}"
        ) from None
