"""Property (issue 10): whatever the model, the caller, the operator and the network do, a
tool whose rule requires approval never runs without a matching approval for that exact
call, and every approval in the records matches a question that was put.

A scripted model (`CoreDriver`) produces any interleaving of: responses with one or several
`pay` calls (string, number or missing amounts, for caller- and operator-approved tools),
the server running queued responses (completed or cut off), caller words (yes, no, noise;
fresh or late transcripts), operator answers (right or wrong call ids), handoffs,
reconnects and time passing (timeouts).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentgraph.realtime import RealtimeAgent, handoff
from agentgraph.realtime import events as se
from tests.realtime.core_driver import CoreDriver, pay_tool

AMOUNT = st.one_of(
    st.integers(min_value=0, max_value=20000),
    st.integers(min_value=0, max_value=20000).map(str),
    st.none(),  # omitted: the default (5000) applies
    st.sampled_from(["lots", "1e4", ""]),  # invalid: never reaches the tool
)
CALL = st.tuples(
    st.sampled_from(["pay", "pay_op", "to_desk"]),
    st.sampled_from(["alice", "mallory"]),
    AMOUNT,
)
STEP = st.one_of(
    st.tuples(st.just("respond"), st.lists(CALL, min_size=1, max_size=3)),
    st.tuples(st.just("serve"), st.sampled_from(["completed", "completed", "cancelled"])),
    st.tuples(
        st.just("caller"),
        st.sampled_from(["yes", "yes please", "no", "uh", "hello there", "nope yes"]),
        st.booleans(),
    ),
    st.tuples(st.just("operator"), st.integers(0, 8), st.booleans()),
    st.tuples(st.just("typed"), st.sampled_from(["yes", "no", "maybe"])),
    st.tuples(st.just("reconnect"), st.just(0)),
    st.tuples(st.just("wait"), st.sampled_from([0.5, 5.0, 31.0])),
)


def _agents() -> RealtimeAgent:
    caller_pay = pay_tool(by="caller")
    operator_pay = dataclasses.replace(pay_tool(by="operator"), name="pay_op")
    desk = RealtimeAgent(name="desk", tools=[caller_pay, operator_pay])
    front = RealtimeAgent(
        name="front",
        tools=[caller_pay, operator_pay],
        handoffs=[handoff(desk, tool_name_override="to_desk")],
    )
    desk.handoffs = [handoff(front, tool_name_override="to_desk")]
    return front


def _arguments(to: str, amount: Any) -> dict[str, Any]:
    return {"to": to} if amount is None else {"to": to, "amount": amount}


def _requires(arguments_json: str) -> bool:
    return int(json.loads(arguments_json)["amount"]) > 1000


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(st.lists(STEP, min_size=1, max_size=25))
def test_no_tool_runs_without_its_own_approval(steps: list[tuple[Any, ...]]) -> None:
    d = CoreDriver(_agents())
    for step in steps:
        kind = step[0]
        if d.core.ended:
            break
        if kind == "respond":
            d.respond(calls=[(name, _arguments(to, amount)) for name, to, amount in step[1]])
        elif kind == "serve":
            d.answer_next_create(step[1])
        elif kind == "caller":
            d.caller_says(step[1], started_before=step[2])
        elif kind == "typed":
            d.core.send_message(step[1], d.now)
            d.pump()
        elif kind == "operator":
            asks = d.of(se.RealtimeToolApprovalRequiredEvent)
            if asks:
                call_id = asks[step[1] % len(asks)].call_id
                d.core.resolve_approval(call_id, step[2], None, d.now)
                d.pump()
        elif kind == "reconnect":
            d.core.reconnect(d.now)
            d.pump()
        elif kind == "wait":
            d.advance(step[1])

    asked = {e.approval_id: e for e in d.of(se.RealtimeApprovalAskedEvent)}
    decided = d.approvals_decided()
    approved = {e.call_id: e for e in decided if e.approved}
    # 1. No tool whose rule applies runs without an approval of that call, with exactly
    #    the arguments it received.
    for call_id, _name, invoked in d.ran:
        if _requires(invoked):
            assert call_id in approved, f"{call_id} ran without an approval"
            assert json.loads(approved[call_id].arguments) == json.loads(invoked)
    # 2. Every approval granted matches a question that was put, for that call and those
    #    arguments, before the answer.
    order = {id(e): i for i, e in enumerate(d.events)}
    for e in decided:
        if not e.approved:
            continue
        question = asked.get(e.approval_id)
        assert question is not None, f"approval {e.approval_id} granted without a question"
        assert (question.call_id, question.arguments) == (e.call_id, e.arguments)
        assert order[id(question)] < order[id(e)]
    # 3. Each call is decided at most once and runs at most once.
    assert len({e.call_id for e in decided}) == len(decided)
    assert len({call_id for call_id, _, _ in d.ran}) == len(d.ran)
