"""Tool calls inside a session core: validation, approval, running, filler speech, handoffs.

Every function call the model makes gets exactly one `function_call_output`: the result,
the validation error, the exception text, a timeout notice, the rejection, or "unknown
tool". When no call is open any more, one `response.create` follows; the core's response
slot makes it wait for `response.done` (realtime-protocol.md §6b). A tool that raises or
hangs never ends the session.

Order for a function tool: the arguments are validated and coerced first (defaults
filled), so approval rules see exactly the values the tool will receive, and invalid
arguments never reach the tool. Then the agent's `tool_approval_function(name, args)`
(True approves, False rejects, None defers) and the tool's `needs_approval` /
`ApprovalPolicy.when` decide whether an approval is needed (the shell runs these, as they
may be async: `CheckApproval`); approvals are records (`approval_book.py`). The tool then
runs in the shell (`RunTool`) with the validated arguments' JSON; filler speech is a
deadline `tool_filler_after_s` after the start.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from agentgraph.protocol import events as wire
from agentgraph.realtime import events as se
from agentgraph.realtime.approval import ApprovalPolicy
from agentgraph.realtime.approval_book import ApprovalBook, ApprovalRecord
from agentgraph.realtime.handoffs import Handoff
from agentgraph.realtime.host import CheckApproval, RunTool, UpdateSession
from agentgraph.realtime.tool import ArgumentsError, FunctionTool

if TYPE_CHECKING:
    from agentgraph.realtime.agent import RealtimeAgent
    from agentgraph.realtime.host import SessionHost

__all__ = ["ToolCalls"]

_MARK = "agentgraph"  # response metadata key for responses that may run while calls are open


class _Call:
    __slots__ = ("agent", "arguments", "call_id", "generation", "name", "tool", "values")

    def __init__(
        self, call_id: str, name: str, arguments: str, agent: RealtimeAgent, generation: int
    ) -> None:
        self.call_id = call_id
        self.name = name
        self.arguments = arguments  # as the model wrote them
        self.agent = agent
        self.generation = generation
        self.tool: FunctionTool | None = None
        self.values: tuple[dict[str, Any], str] = ({}, "{}")  # validated values, their JSON


class ToolCalls:
    """The tool-call part of a session core."""

    def __init__(self, host: SessionHost) -> None:
        self.host = host
        self._names: dict[str, str] = {}
        self._started: set[str] = set()
        self._open: dict[str, _Call] = {}
        self._handoffs: dict[int, _Call] = {}
        self._update_seq = 0
        self.approvals = ApprovalBook(host, self._approval_decided)
        self.late_results: list[str] = []

    # -- wire events (called by the core's dispatch table)

    def on_call_item(self, item: dict[str, Any], now: float) -> None:
        """`response.output_item.added` for a function_call: remember its name."""
        call_id = item.get("call_id")
        if call_id:
            self._names[call_id] = item.get("name", "")

    def on_arguments_done(self, event: wire.ResponseFunctionCallArgumentsDone, now: float) -> None:
        name = event.name or self._names.get(event.call_id, "")
        self.start(event.call_id, name, event.arguments, now)

    def on_output_item_done(self, event: wire.ResponseOutputItemDone, now: float) -> None:
        item = event.item
        if item.get("type") == "function_call":
            self.start(
                item.get("call_id", ""), item.get("name", ""), item.get("arguments", ""), now
            )

    def on_response_done(self, event: wire.ResponseDone, now: float) -> None:
        for item in event.response.get("output") or ():
            if (
                isinstance(item, dict)
                and item.get("type") == "function_call"
                and (item.get("status") == "completed")
            ):
                self.start(
                    item.get("call_id", ""), item.get("name", ""), item.get("arguments", ""), now
                )

    def has_open_calls(self) -> bool:
        """True while a function call has no output yet."""
        return bool(self._open)

    def blocks(self, head: dict[str, Any] | None) -> bool:
        """True when the queued response `head` must wait for open calls to finish."""
        if not self._open:
            return False
        return not (isinstance(head, dict) and _MARK in (head.get("metadata") or {}))

    # -- running a call

    def start(self, call_id: str, name: str, arguments: str, now: float) -> None:
        """Handle a call once (several events announce the same call)."""
        if not call_id or call_id in self._started:
            return
        self._started.add(call_id)
        host = self.host
        agent = host.agent
        call = _Call(call_id, name, arguments, agent, host.generation)
        self._open[call_id] = call
        target = _find(agent, name)
        if isinstance(target, Handoff):
            self._handoff(call, target)
            return
        if target is None:
            names = ", ".join(
                t.name if isinstance(t, FunctionTool) else t.tool_name
                for t in agent.get_all_tools()
            )
            self._finish(call, f"Error: unknown tool {name!r}. Available tools: {names}.", False)
            return
        call.tool = target
        try:
            call.values = target.parse_arguments(arguments)
        except ArgumentsError as exc:
            self._finish(call, str(exc), False)  # invalid arguments never reach the tool
            return
        host.act(CheckApproval(call_id, target, agent, call.values[0]))

    def receive_approval_check(
        self, call_id: str, verdict: bool | None, needs_approval: bool, now: float
    ) -> None:
        """The shell ran `CheckApproval`: the agent's verdict (None: no opinion) and whether
        the tool's rule asks for an approval (True also when a predicate raised)."""
        call = self._open.get(call_id)
        if call is None or call.tool is None:
            return
        tool = call.tool
        if verdict is False:
            self._finish(
                call, f"The {tool.name} call was rejected by policy, so it was not done.", False
            )
            return
        if verdict is True or not needs_approval:
            self._run(call)
            return
        policy = tool.approval or ApprovalPolicy()
        values, values_json = call.values
        self.approvals.open(
            call_id=call_id,
            tool_name=tool.name,
            agent=call.agent,
            arguments=values,
            arguments_json=values_json,
            question=policy.render_message(tool.name, values),
            by=policy.by,
            timeout_s=policy.timeout_s,
            now=now,
        )

    def _approval_decided(self, record: ApprovalRecord) -> None:
        call = self._open.get(record.call_id)
        if call is None or call.tool is None:
            return
        if record.status == "approved":
            self._run(call)
            return
        name = call.tool.name
        if record.answered_by == "timeout":
            policy = call.tool.approval or ApprovalPolicy()
            output = (
                f"No approval arrived within {policy.timeout_s:g} s, so the {name} call was "
                "not done."
            )
        elif record.answered_by == "caller":
            output = (
                f"The caller said {record.answer!r} and did not approve, so {name} was not done."
            )
        else:
            output = record.answer if record.answer not in ("", "no") else ""
            output = output or f"The {name} call was not approved, so it was not done."
        self._finish(call, output, False)

    def _run(self, call: _Call) -> None:
        assert call.tool is not None
        host = self.host
        host.emit(
            se.RealtimeToolStartEvent(
                agent=call.agent,
                tool_name=call.tool.name,
                call_id=call.call_id,
                arguments=call.arguments,
                tool=call.tool,
            )
        )
        filler_s = host.settings.tool_filler_after_s
        if filler_s is not None:
            host.deadlines.set(("filler", call.call_id), host.now + filler_s)
        host.act(RunTool(call.call_id, call.tool, call.agent, call.values[1]))

    def receive_tool_result(self, call_id: str, output: str, ok: bool, now: float) -> None:
        """The shell ran the tool: `output` is what the model gets."""
        call = self._open.get(call_id)
        if call is None:
            return
        self.host.deadlines.clear(("filler", call_id))
        self._finish(call, output, ok)

    def handle_deadline(self, key: object, now: float) -> bool:
        """Filler speech for a slow tool; False if `key` is not ours."""
        if not (isinstance(key, tuple) and len(key) == 2 and key[0] == "filler"):
            return False
        if key[1] in self._open:
            settings = self.host.settings
            self.host.request_response(
                {
                    "instructions": settings.tool_filler_instructions,
                    "tool_choice": "none",
                    "metadata": {_MARK: "filler"},
                }
            )
        return True

    def _finish(self, call: _Call, output: str, ok: bool) -> None:
        if call.tool is not None:
            self.host.emit(
                se.RealtimeToolEndEvent(
                    agent=call.agent,
                    tool_name=call.tool.name,
                    call_id=call.call_id,
                    arguments=call.arguments,
                    output=output,
                    ok=ok,
                    tool=call.tool,
                )
            )
        else:
            self.host.emit(
                se.RealtimeToolEndEvent(
                    agent=call.agent,
                    tool_name=call.name,
                    call_id=call.call_id,
                    arguments=call.arguments,
                    output=output,
                    ok=ok,
                )
            )
        self._deliver(call, call.tool.name if call.tool else call.name, output)

    def _deliver(self, call: _Call, name: str, output: str) -> None:
        """Send the one output of this call, then ask for a response if no call is open."""
        host = self.host
        same_session = call.generation == host.generation
        sent = same_session and host.send(
            wire.ConversationItemCreate(
                item={"type": "function_call_output", "call_id": call.call_id, "output": output}
            )
        )
        if not sent:
            # The call belonged to a model session that is gone: tell the new one in words.
            self.late_results.append(f"Result of the earlier {name} call: {output}")
            if host.can_send:
                self.flush_late_results()
        self._open.pop(call.call_id, None)
        if not self._open:
            host.request_response()

    def flush_late_results(self) -> None:
        """After a reconnect: hand results of calls from the old session to the new one."""
        results, self.late_results = self.late_results, []
        for text in results:
            self.host.add_guidance(text)

    # -- handoffs: session.update, then the output, then response.create (§6b + DESIGN)

    def _handoff(self, call: _Call, handoff: Handoff) -> None:
        host = self.host
        old = host.agent
        new = handoff.agent
        host.set_agent(new)
        self._update_seq += 1
        self._handoffs[self._update_seq] = call
        host.act(UpdateSession(self._update_seq, new))
        host.emit(se.RealtimeAgentEndEvent(agent=old))
        host.emit(se.RealtimeHandoffEvent(from_agent=old, to_agent=new))
        host.emit(se.RealtimeAgentStartEvent(agent=new))

    def handoff_update_sent(self, token: int) -> None:
        """The handoff's `session.update` went out: now its output (and the response)."""
        call = self._handoffs.pop(token, None)
        if call is not None:
            name = _handoff_name(call)
            self._deliver(call, name, json.dumps({"assistant": self.host.agent.name}))

    # -- approvals from outside

    def resolve_approval(self, call_id: str, approved: bool, message: str | None) -> bool:
        """`approve_tool_call` / `reject_tool_call`: False when that call does not wait."""
        return self.approvals.answer(call_id, approved, message, who="app")


def _handoff_name(call: _Call) -> str:
    return call.name


def _find(agent: RealtimeAgent, name: str) -> FunctionTool | Handoff | None:
    for tool in agent.tools:
        if tool.name == name:
            return tool
    for handoff in agent.get_handoffs():
        if handoff.tool_name == name:
            return handoff
    return None
