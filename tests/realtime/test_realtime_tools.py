"""Tool calls: exactly one output each, then a response after response.done; approvals."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from agentgraph.realtime import (
    ApprovalPolicy,
    RealtimeAgent,
    ToolContext,
    end_call,
    function_tool,
    transfer_call,
)
from tests.realtime.conftest import Harness


def _outputs(conn: Any) -> list[dict[str, Any]]:
    return [
        e["item"]
        for e in conn.of_type("conversation.item.create")
        if e["item"]["type"] == "function_call_output"
    ]


async def test_tool_output_then_response_create_after_response_done(harness: Harness) -> None:
    calls: list[str] = []

    async def lookup(city: str) -> dict[str, Any]:
        """Look up a city."""
        calls.append(city)
        return {"city": city, "temp_c": 21}

    _session, conn = await harness.start(RealtimeAgent(name="a", tools=[function_tool(lookup)]))
    resp = await conn.begin_response()
    await resp.add_function_call("lookup", json.dumps({"city": "Paris"}), "call_1")
    output = await conn.wait_for("conversation.item.create")
    assert output["item"] == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": '{"city": "Paris", "temp_c": 21}',
    }
    await asyncio.sleep(0.05)
    assert conn.of_type("response.create") == []  # the calling response is still active
    await resp.end()
    await conn.wait_for("response.create")
    assert conn.types()[-2:] == ["conversation.item.create", "response.create"]
    assert calls == ["Paris"]
    start = await harness.wait_event("tool_start")
    end = await harness.wait_event("tool_end")
    assert (start.tool_name, start.call_id) == ("lookup", "call_1")
    assert end.output == '{"city": "Paris", "temp_c": 21}' and end.ok


async def test_two_calls_in_one_response_get_one_response_create(harness: Harness) -> None:
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    _session, conn = await harness.start(RealtimeAgent(name="a", tools=[function_tool(add)]))
    resp = await conn.begin_response()
    await resp.add_function_call("add", '{"a": 1, "b": 2}', "call_1")
    await resp.add_function_call("add", '{"a": 3, "b": 4}', "call_2")
    await resp.end()
    await conn.wait_for("response.create")
    await asyncio.sleep(0.05)
    assert sorted((o["call_id"], o["output"]) for o in _outputs(conn)) == [
        ("call_1", "3"),
        ("call_2", "7"),
    ]
    assert len(conn.of_type("response.create")) == 1
    assert conn.types().index("response.create") > max(
        i for i, t in enumerate(conn.types()) if t == "conversation.item.create"
    )


async def test_every_failure_still_gets_exactly_one_output(harness: Harness) -> None:
    def divide(a: int, b: int) -> float:
        """Divide a by b."""
        return a / b

    async def slow() -> str:
        """Takes forever."""
        await asyncio.sleep(30)
        return "never"

    tools = [function_tool(divide), function_tool(slow, timeout_s=0.1)]
    session, conn = await harness.start(RealtimeAgent(name="a", tools=tools))
    resp = await conn.begin_response()
    await resp.add_function_call("divide", '{"a": 1, "b": 0}', "c_exc")
    await resp.add_function_call("divide", '{"a": "x"}', "c_invalid")
    await resp.add_function_call("slow", "{}", "c_timeout")
    await resp.add_function_call("nope", "{}", "c_unknown")
    await resp.end()
    await conn.wait_for("response.create", timeout=5)
    outputs = {o["call_id"]: o["output"] for o in _outputs(conn)}
    assert len(_outputs(conn)) == 4
    assert outputs["c_exc"] == "Error running tool divide: ZeroDivisionError: division by zero"
    assert outputs["c_invalid"].startswith("Invalid arguments for tool divide: a: ")
    assert "b: Field required" in outputs["c_invalid"]
    assert outputs["c_timeout"] == "Error: the slow tool timed out after 0.1 s."
    assert outputs["c_unknown"] == "Error: unknown tool 'nope'. Available tools: divide, slow."
    # The session is still alive and working.
    session.send_message("still there?")
    await conn.wait_for("conversation.item.create", where=lambda e: e["item"]["type"] == "message")


async def test_tool_context_and_sync_tool_in_thread(harness: Harness) -> None:
    seen: list[tuple[str, str]] = []

    def whoami(ctx: ToolContext, greeting: str) -> str:
        """Say who is calling.

        Args:
            greeting: how to greet.
        """
        assert ctx.agent is not None
        seen.append((ctx.call_id, ctx.agent.name))
        return f"{greeting} from {ctx.agent.name}"

    tool = function_tool(whoami)
    assert list(tool.params_json_schema["properties"]) == ["greeting"]
    _session, conn = await harness.start(RealtimeAgent(name="desk", tools=[tool]))
    await conn.respond_function_call("whoami", {"greeting": "hi"}, call_id="call_9")
    await conn.wait_for("response.create")
    assert _outputs(conn)[0]["output"] == "hi from desk"
    assert seen == [("call_9", "desk")]


async def test_filler_speech_when_a_tool_is_slow(harness: Harness) -> None:
    release = asyncio.Event()

    async def book() -> str:
        """Book it."""
        await release.wait()
        return "booked"

    _session, conn = await harness.start(
        RealtimeAgent(name="a", tools=[function_tool(book)]),
        {"tool_filler_after_s": 0.05, "tool_filler_instructions": "Say: one moment."},
    )
    await conn.respond_function_call("book", {}, call_id="call_b")
    filler = await conn.wait_for("response.create")
    assert filler["response"]["instructions"] == "Say: one moment."
    assert filler["response"]["tool_choice"] == "none"
    assert _outputs(conn) == []  # the filler goes out while the tool still runs
    await conn.respond_audio("One moment.")
    release.set()
    await conn.wait_for("response.create", count=2)
    assert _outputs(conn)[0]["output"] == "booked"
    assert "response" not in conn.of_type("response.create")[1]


async def test_operator_approval_approve_and_reject(harness: Harness) -> None:
    ran: list[str] = []

    def book(date: str) -> str:
        """Book a date."""
        ran.append(date)
        return f"booked {date}"

    tool = function_tool(book, needs_approval=True)
    session, conn = await harness.start(RealtimeAgent(name="a", tools=[tool]))
    await conn.respond_function_call("book", {"date": "Monday"}, call_id="call_1")
    required = await harness.wait_event("tool_approval_required")
    assert (required.call_id, required.tool_name) == ("call_1", "book")
    await asyncio.sleep(0.05)
    assert ran == [] and _outputs(conn) == []  # never runs without approval
    assert await session.approve_tool_call("call_1") is True
    assert await session.approve_tool_call("call_1") is False  # decided already
    assert await session.reject_tool_call("no_such_call") is False
    await conn.wait_for("response.create")
    assert ran == ["Monday"] and _outputs(conn)[0]["output"] == "booked Monday"

    await conn.respond_function_call("book", {"date": "Tuesday"}, call_id="call_2")
    await harness.wait_event("tool_approval_required", count=2)
    await session.reject_tool_call("call_2", message="The manager said no.")
    await conn.wait_for("response.create", count=2)
    assert ran == ["Monday"]
    assert _outputs(conn)[1] == {
        "type": "function_call_output",
        "call_id": "call_2",
        "output": "The manager said no.",
    }
    assert harness.of("tool_end")[-1].ok is False


async def test_approval_timeout_rejects(harness: Harness) -> None:
    ran: list[str] = []

    def wire_money(amount: int) -> str:
        """Send money."""
        ran.append("yes")
        return "sent"

    policy = ApprovalPolicy(
        when=lambda args: args["amount"] > 100, timeout_s=0.1, message="Send {amount} dollars?"
    )
    tool = function_tool(wire_money, approval=policy)
    _session, conn = await harness.start(RealtimeAgent(name="a", tools=[tool]))
    await conn.respond_function_call("wire_money", {"amount": 5}, call_id="small")
    await conn.wait_for("response.create")
    assert ran == ["yes"]  # the predicate said no approval needed
    await conn.respond_function_call("wire_money", {"amount": 500}, call_id="big")
    required = await harness.wait_event("tool_approval_required")
    assert required.message == "Send 500 dollars?"
    await conn.wait_for("response.create", count=2)
    assert ran == ["yes"]
    assert "No approval arrived within 0.1 s" in _outputs(conn)[1]["output"]


async def test_agent_tool_approval_function(harness: Harness) -> None:
    ran: list[str] = []

    def book(time: str) -> str:
        """Book."""
        ran.append(time)
        return "ok"

    def approve_booking(tool_name: str, arguments: dict[str, Any]) -> bool:
        return arguments.get("time", "") >= "09:00"

    agent = RealtimeAgent(
        name="a",
        tools=[function_tool(book, needs_approval=True)],
        tool_approval_function=approve_booking,
    )
    _session, conn = await harness.start(agent)
    await conn.respond_function_call("book", {"time": "10:00"}, call_id="c1")
    await conn.wait_for("response.create")
    await conn.respond_function_call("book", {"time": "03:00"}, call_id="c2")
    await conn.wait_for("response.create", count=2)
    assert ran == ["10:00"]
    assert "rejected by policy" in _outputs(conn)[1]["output"]
    assert harness.of("tool_approval_required") == []


async def test_caller_approval_asks_through_the_model(harness: Harness) -> None:
    ran: list[str] = []

    def book(date: str, time: str) -> str:
        """Book."""
        ran.append(f"{date} {time}")
        return "booked"

    policy = ApprovalPolicy(by="caller", message="Book {date} at {time}?", timeout_s=5)
    _session, conn = await harness.start(
        RealtimeAgent(name="a", tools=[function_tool(book, approval=policy)])
    )
    await conn.respond_function_call("book", {"date": "Friday", "time": "18:00"}, "c1")
    ask = await conn.wait_for("response.create")
    assert "Book Friday at 18:00?" in ask["response"]["instructions"]
    await conn.respond_audio("Book Friday at 18:00?")
    await conn.user_turn("Yes, please do.")
    await conn.wait_for("response.create", count=2)
    assert ran == ["Friday 18:00"]
    assert _outputs(conn)[0]["output"] == "booked"

    await conn.respond_function_call("book", {"date": "Sunday", "time": "03:00"}, "c2")
    await conn.wait_for("response.create", count=3)
    await conn.respond_audio("Book Sunday at 03:00?")
    await conn.user_turn("No, don't.")
    await conn.wait_for("response.create", count=4)
    assert ran == ["Friday 18:00"]
    assert "did not approve" in _outputs(conn)[1]["output"]


async def test_call_tools_without_and_with_call_control(harness: Harness) -> None:
    class Phone:
        def __init__(self) -> None:
            self.actions: list[str] = []

        async def hangup(self) -> None:
            self.actions.append("hangup")

        async def transfer(self, target: str) -> None:
            self.actions.append(f"transfer {target}")

    session, conn = await harness.start(RealtimeAgent(name="a", tools=[end_call, transfer_call]))
    await conn.respond_function_call("end_call", {}, call_id="c1")
    await conn.wait_for("response.create")
    assert "not on a phone call" in _outputs(conn)[0]["output"]
    phone = Phone()
    session.call_control = phone
    await conn.respond_function_call("transfer_call", {"target": "tel:+15550100"}, "c2")
    required = await harness.wait_event("tool_approval_required")
    assert required.message == "Transfer the call to tel:+15550100?"
    await session.approve_tool_call("c2")
    await conn.wait_for("conversation.item.create", count=2)
    await conn.respond_function_call("end_call", {}, call_id="c3")
    await conn.wait_for("response.create", count=3)
    assert phone.actions == ["transfer tel:+15550100", "hangup"]
    assert [o["output"] for o in _outputs(conn)][1:] == [
        "The call is being transferred to tel:+15550100.",
        "The call has ended.",
    ]


async def test_tool_finishing_after_a_reconnect_reports_in_words(harness: Harness) -> None:
    release = asyncio.Event()

    async def lookup() -> str:
        """Slow lookup."""
        await release.wait()
        return "found it"

    _session, conn = await harness.start(RealtimeAgent(name="a", tools=[function_tool(lookup)]))
    await conn.respond_function_call("lookup", {}, call_id="call_old")
    await harness.wait_event("tool_start")
    await conn.close(1011, "internal error")
    conn2 = await harness.server.next_connection()
    await harness.wait_event(
        "connection", where=lambda e: e.status == "connected" and e.attempt == 1
    )
    release.set()
    create = await conn2.wait_for("response.create")
    items = [e["item"] for e in conn2.of_type("conversation.item.create")]
    # The old call id means nothing to the new server session: the result comes as text.
    assert all(i["type"] != "function_call_output" for i in items)
    assert items[-1]["role"] == "system"
    assert items[-1]["content"][0]["text"] == "Result of the earlier lookup call: found it"
    assert conn2.types().index("response.create") > conn2.types().index("conversation.item.create")
    assert create.get("event_id", "").startswith("agr_")
    assert _outputs(conn) == []
