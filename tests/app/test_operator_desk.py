"""Issue 10: operator answers are bound to the approval id and never cross calls; prompts
show the whole call and the rule's message; records keep every approval."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

from agentgraph.app.approvals import OperatorApprovals, OperatorDesk
from agentgraph.app.latency import LatencyMeter
from agentgraph.app.records import SessionRecorder
from agentgraph.realtime import RealtimeAgent
from agentgraph.realtime import events as se


class Lines:
    """Operator input, one line at a time (what StdinLines gives the desk)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.eof = False

    async def readline(self, timeout_s: float | None = None) -> str | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout_s)
        except TimeoutError:
            return None


class Call:
    """One phone call's session: records what the operator decided for it."""

    def __init__(self) -> None:
        self.decided: list[tuple[str, bool]] = []

    async def approve_tool_call(self, call_id: str) -> bool:
        self.decided.append((call_id, True))
        return True

    async def reject_tool_call(self, call_id: str, message: str | None = None) -> bool:
        self.decided.append((call_id, False))
        return True


def _request(call_id: str, to: str, amount: int) -> se.RealtimeToolApprovalRequiredEvent:
    return se.RealtimeToolApprovalRequiredEvent(
        agent=RealtimeAgent(name="a"),
        tool_name="pay",
        call_id=call_id,
        arguments=json.dumps({"to": to, "amount": amount}),
        message=f"Pay {amount} to {to}?",
        approval_id=1,
    )


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_two_calls_one_desk_answers_never_cross() -> None:
    lines, out = Lines(), io.StringIO()
    desk = OperatorDesk(lines, out=out, timeout_s=30)  # type: ignore[arg-type]
    alice_call, mallory_call = Call(), Call()
    OperatorApprovals(alice_call, lines, desk=desk).on_event(_request("c1", "alice", 150))  # type: ignore[arg-type]
    OperatorApprovals(mallory_call, lines, desk=desk).on_event(  # type: ignore[arg-type]
        _request("c1", "mallory", 100000)
    )
    await _settle()
    assert "approval 1: pay(" in out.getvalue() and "approval 2" not in out.getvalue()
    lines.queue.put_nowait("y")  # a bare yes names no approval: asked again
    lines.queue.put_nowait("y 2")  # not the one shown
    await _settle()
    assert alice_call.decided == [] and mallory_call.decided == []
    lines.queue.put_nowait("y 1")
    await _settle()
    assert alice_call.decided == [("c1", True)] and mallory_call.decided == []
    assert "approval 2: pay(" in out.getvalue()
    lines.queue.put_nowait("n 2")
    await _settle()
    assert mallory_call.decided == [("c1", False)]
    await desk.close()


async def test_prompt_shows_every_argument_in_full_and_the_message() -> None:
    lines, out = Lines(), io.StringIO()
    call = Call()
    approvals = OperatorApprovals(call, lines, out=out, timeout_s=30)  # type: ignore[arg-type]
    long_name = "a" * 300
    approvals.on_event(_request("c9", long_name, 5000))
    await _settle()
    prompt = out.getvalue()
    assert f'pay(to="{long_name}", amount=5000)' in prompt
    assert 'rule: "Pay 5000 to ' in prompt
    lines.queue.put_nowait("y")  # one conversation, one request: a bare yes is fine
    await _settle()
    assert call.decided == [("c9", True)]
    await approvals.close()


def test_records_keep_every_approval_with_who_answered(tmp_path: Path) -> None:
    recorder = SessionRecorder(tmp_path, latency=LatencyMeter())
    for by, approved, who, answer in [
        ("caller", True, "caller", "yes please"),
        ("operator", False, "operator", "no"),
        ("caller", False, "timeout", ""),
    ]:
        recorder.on_event(
            se.RealtimeApprovalDecidedEvent(
                approval_id=len(recorder.approvals) + 1,
                call_id="c",
                tool_name="pay",
                arguments='{"to": "bob", "amount": 5000}',
                question="Pay 5000 to bob?",
                by=by,
                approved=approved,
                answered_by=who,
                answer=answer,
            ),
            0.0,
        )
    recorder.close()
    summary: dict[str, Any] = json.loads((tmp_path / "summary.json").read_text())
    assert [(a["by"], a["approved"], a["answered_by"]) for a in summary["approvals"]] == [
        ("caller", True, "caller"),
        ("operator", False, "operator"),
        ("caller", False, "timeout"),
    ]
    assert summary["approvals"][0]["question"] == "Pay 5000 to bob?"
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["approval_decided"] * 3
