"""Issue 10 regressions: approvals that cannot be bypassed, mistyped or misattributed, and
guardrails that fail closed. Each test replays one attack against the session core."""

from __future__ import annotations

import json
from typing import Any

import pytest

from agentgraph.protocol import events as wire
from agentgraph.realtime import (
    GuardrailFunctionOutput,
    RealtimeAgent,
    RealtimeOutputGuardrail,
)
from agentgraph.realtime import events as se
from tests.realtime.core_driver import CoreDriver, pay_tool


def _question_creates(d: CoreDriver) -> list[dict[str, Any]]:
    return [
        c.response or {}
        for c in d.pending_creates()
        if ((c.response or {}).get("metadata") or {}).get("agentgraph") == "approval"
    ]


# -------------------------------------------------- conditions see what the tool gets


@pytest.mark.parametrize(
    "arguments",
    [{"to": "bob", "amount": "5000"}, {"to": "bob"}],
    ids=["amount-as-string", "amount-omitted-default-5000"],
)
def test_rule_sees_the_coerced_arguments_with_defaults(arguments: dict[str, Any]) -> None:
    d = CoreDriver(RealtimeAgent(name="a", tools=[pay_tool()]))
    d.respond(calls=[("pay", arguments)])
    assert d.ran == []  # not without an approval
    assert len(_question_creates(d)) == 1
    assert "Pay 5000 to bob?" in _question_creates(d)[0]["instructions"]


def test_invalid_arguments_never_reach_the_tool_and_never_skip_approval() -> None:
    d = CoreDriver(RealtimeAgent(name="a", tools=[pay_tool()]))
    d.respond(calls=[("pay", {"to": "bob", "amount": "lots"})])
    end = d.of(se.RealtimeToolEndEvent)[-1]
    assert d.ran == [] and not end.ok
    assert end.output.startswith("Invalid arguments for tool pay: amount")


def test_the_tool_receives_exactly_the_approved_arguments() -> None:
    d = CoreDriver(RealtimeAgent(name="a", tools=[pay_tool()]))
    d.respond(calls=[("pay", {"to": "bob", "amount": "5000"})])
    d.answer_next_create()  # the question is spoken in full
    d.caller_says("yes please")
    [(call_id, _name, invoked)] = d.ran
    assert json.loads(invoked) == {"to": "bob", "amount": 5000}
    [decided] = d.approvals_decided()
    assert (decided.call_id, decided.approved, decided.answered_by) == (call_id, True, "caller")
    assert json.loads(decided.arguments) == json.loads(invoked)


# -------------------------------------------------- a caller's yes is tied to the question


def test_a_late_transcript_of_earlier_words_approves_nothing() -> None:
    d = CoreDriver(RealtimeAgent(name="a", tools=[pay_tool()]))
    d.respond(calls=[("pay", {"to": "bob", "amount": 9000})])
    d.caller_says("yes", started_before=True)  # before the question was even put
    assert d.ran == []
    d.answer_next_create()  # now the question is spoken
    d.caller_says("yes", started_before=True)  # words that began before it ended
    assert d.ran == []
    assert len(_question_creates(d)) == 2  # asked again, not approved
    d.answer_next_create()
    d.caller_says("yes")
    assert [name for _, name, _ in d.ran] == ["pay"]


def test_yes_to_the_first_of_two_calls_does_not_run_the_second() -> None:
    d = CoreDriver(RealtimeAgent(name="a", tools=[pay_tool()]))
    d.respond(
        calls=[("pay", {"to": "alice", "amount": 2000}), ("pay", {"to": "mallory", "amount": 9000})]
    )
    questions = _question_creates(d)
    assert len(questions) == 1 and "Pay 2000 to alice?" in questions[0]["instructions"]
    d.answer_next_create()
    d.caller_says("yes")
    assert [json.loads(args)["to"] for _, _, args in d.ran] == ["alice"]
    # mallory's question is put only now, on its own
    questions = _question_creates(d)
    assert len(questions) == 2 and "Pay 9000 to mallory?" in questions[1]["instructions"]
    d.answer_next_create()
    d.caller_says("no")
    assert [json.loads(args)["to"] for _, _, args in d.ran] == ["alice"]


def test_each_approval_is_asked_once_and_ambiguity_is_asked_again() -> None:
    d = CoreDriver(RealtimeAgent(name="a", tools=[pay_tool()]))
    d.respond(calls=[("pay", {"to": "bob", "amount": 9000})])
    d.answer_next_create()
    d.caller_says("hmm what was that")
    assert len(_question_creates(d)) == 2 and d.ran == []
    d.answer_next_create()
    d.caller_says("yes")
    assert len(_question_creates(d)) == 2  # never asked twice for a clear answer
    assert len(d.ran) == 1


def test_silence_is_a_denial() -> None:
    d = CoreDriver(RealtimeAgent(name="a", tools=[pay_tool()]))
    d.respond(calls=[("pay", {"to": "bob", "amount": 9000})])
    d.answer_next_create()
    d.advance(31)
    assert d.ran == []
    [decided] = d.approvals_decided()
    assert (decided.approved, decided.answered_by) == (False, "timeout")
    assert "No approval arrived within 30 s" in d.of(se.RealtimeToolEndEvent)[-1].output


def test_a_cut_off_question_is_put_again_before_any_answer_counts() -> None:
    d = CoreDriver(RealtimeAgent(name="a", tools=[pay_tool()]))
    d.respond(calls=[("pay", {"to": "bob", "amount": 9000})])
    d.answer_next_create(status="cancelled")  # barge-in cut the question
    d.caller_says("yes")
    assert d.ran == []
    assert len(_question_creates(d)) == 2


# -------------------------------------------------- operator answers are bound to the call


def test_operator_answers_name_the_call() -> None:
    d = CoreDriver(RealtimeAgent(name="a", tools=[pay_tool(by="operator")]))
    d.respond(
        calls=[
            ("pay", {"to": "alice", "amount": 1500}),
            ("pay", {"to": "mallory", "amount": 100000}),
        ]
    )
    asks = d.of(se.RealtimeToolApprovalRequiredEvent)
    assert [a.approval_id for a in asks] == [1, 2]
    assert asks[1].message == "Pay 100000 to mallory?"
    assert d.core.resolve_approval(asks[0].call_id, True, None, d.now)
    d.pump()
    assert [json.loads(args)["to"] for _, _, args in d.ran] == ["alice"]
    assert not d.core.resolve_approval(asks[0].call_id, True, None, d.now)  # no reuse


# -------------------------------------------------- guardrails fail closed, say only the message


def _guarded(on_error: str = "block") -> tuple[CoreDriver, RealtimeOutputGuardrail]:
    def broken(ctx: Any, agent: Any, text: str) -> GuardrailFunctionOutput:
        raise TypeError("boom")

    guard = RealtimeOutputGuardrail(broken, name="no_diagnosis", on_error=on_error)  # type: ignore[arg-type]
    d = CoreDriver(RealtimeAgent(name="a", output_guardrails=[guard]))
    d.guardrail_errors["no_diagnosis"] = TypeError("boom")
    return d, guard


def test_a_raising_guardrail_blocks_the_reply() -> None:
    d, _ = _guarded()
    d.respond(text="You have the flu.")
    assert d.of(se.RealtimeGuardrailTrippedEvent)
    assert not d.of(se.RealtimeTranscriptDoneEvent)  # never shown as said
    [error] = d.of(se.RealtimeErrorEvent)
    assert "guardrail no_diagnosis failed: TypeError: boom" in error.error["message"]
    assert "blocked" in error.error["message"]


def test_on_error_allow_lets_the_reply_through() -> None:
    d, _ = _guarded("allow")
    d.respond(text="You have the flu.")
    assert not d.of(se.RealtimeGuardrailTrippedEvent)
    assert [e.transcript for e in d.of(se.RealtimeTranscriptDoneEvent)] == ["You have the flu."]


def test_output_info_is_never_spoken() -> None:
    def leaky(ctx: Any, agent: Any, text: str) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(
            output_info="internal: matched rule 7", tripwire_triggered=True
        )

    d = CoreDriver(RealtimeAgent(name="a", output_guardrails=[RealtimeOutputGuardrail(leaky)]))
    d.respond(text="Here is a secret.")
    instructions = [json.dumps(c.response) for c in d.pending_creates()]
    guidance = [json.dumps(e.item) for e in d.sent if isinstance(e, wire.ConversationItemCreate)]
    assert not any("rule 7" in text for text in instructions + guidance)
    trip = d.of(se.RealtimeGuardrailTrippedEvent)[0]
    assert trip.output_info == "internal: matched rule 7"
    assert trip.message == "Sorry, I can't help with that."
    assert trip.text == "Here is a secret."


def test_a_check_runs_at_each_sentence_end() -> None:
    seen: list[str] = []

    def words(ctx: Any, agent: Any, text: str) -> GuardrailFunctionOutput:
        seen.append(text)
        return GuardrailFunctionOutput(output_info=None, tripwire_triggered="forbidden" in text)

    d = CoreDriver(RealtimeAgent(name="a", output_guardrails=[RealtimeOutputGuardrail(words)]))
    rid, item = "r1", "i1"
    d.receive(wire.ResponseCreated(response={"id": rid}))
    d.receive(wire.ResponseOutputAudioTranscriptDelta(response_id=rid, item_id=item, delta="Hi."))
    d.receive(
        wire.ResponseOutputAudioTranscriptDelta(
            response_id=rid, item_id=item, delta=" That is forbidden."
        )
    )
    assert seen == ["Hi.", "Hi. That is forbidden."]  # not waiting for 100 characters
    assert d.of(se.RealtimeGuardrailTrippedEvent)


def test_hold_back_keeps_audio_until_checked_and_drops_it_on_a_trip() -> None:
    def words(ctx: Any, agent: Any, text: str) -> GuardrailFunctionOutput:
        return GuardrailFunctionOutput(output_info=None, tripwire_triggered="forbidden" in text)

    guard = RealtimeOutputGuardrail(words, hold_back_ms=800)
    d = CoreDriver(RealtimeAgent(name="a", output_guardrails=[guard]))
    d.receive(wire.ResponseCreated(response={"id": "r1"}))
    d.receive(wire.ResponseOutputAudioDelta(response_id="r1", item_id="i1", delta=b"\0" * 4800))
    assert not d.of(se.RealtimeAudioEvent)  # held
    d.advance(0.5)
    d.receive(
        wire.ResponseOutputAudioTranscriptDelta(
            response_id="r1", item_id="i1", delta="That is forbidden."
        )
    )
    d.advance(1.0)
    assert not d.of(se.RealtimeAudioEvent)  # cut before the caller heard any of it
    assert d.of(se.RealtimeGuardrailTrippedEvent)
    # a clean reply is released once its hold-back has passed
    d.receive(wire.ResponseOutputAudioDelta(response_id="r2", item_id="i2", delta=b"\0" * 480))
    d.advance(0.79)
    assert not d.of(se.RealtimeAudioEvent)
    d.advance(0.02)
    assert [e.item_id for e in d.of(se.RealtimeAudioEvent)] == ["i2"]


def test_a_time_written_17_30_is_compared_as_a_time() -> None:
    from agentgraph.realtime import ApprovalPolicy, function_tool
    from agentgraph.spec.condition import parse_condition

    def book(date: str, time: str) -> str:
        """Book a visit.

        Args:
            date: the day.
            time: the time of day.
        """
        return "booked"

    plain = function_tool(book)
    rule = parse_condition("time < '09:00' or time > '17:00'", plain.params_json_schema)
    tool = function_tool(book, approval=ApprovalPolicy(when=rule, by="caller"))
    d = CoreDriver(RealtimeAgent(name="a", tools=[tool]))
    d.respond(calls=[("book", {"date": "2026-12-01", "time": "17.30"})])
    assert d.ran == [] and len(_question_creates(d)) == 1  # 17.30 is after 17:00
    d.respond(calls=[("book", {"date": "2026-12-01", "time": "10:15"})])
    assert [json.loads(args)["time"] for _, _, args in d.ran] == ["10:15"]
