"""Tool calls inside a session: approval, execution, filler speech, handoffs, outputs.

Every function call the model makes gets exactly one `function_call_output`: the result,
the validation error, the exception text, a timeout notice, the rejection, or "unknown
tool". When no call is open any more, one `response.create` follows; the session's
response slot makes it wait for `response.done` (realtime-protocol.md §6b). A tool that
raises or hangs never ends the session.

Approvals, in order: the agent's `tool_approval_function(name, args)` (True approves,
False rejects, None defers), then the tool's `needs_approval` / `ApprovalPolicy.when`.
`by="operator"` emits `tool_approval_required` and waits for `approve_tool_call` /
`reject_tool_call`; `by="caller"` has the model ask the policy's question and decides from
the caller's next words. No answer within `timeout_s` rejects.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from typing import TYPE_CHECKING, Any

from agentgraph.protocol import events as wire
from agentgraph.realtime import events as se
from agentgraph.realtime.agent import RealtimeAgent
from agentgraph.realtime.approval import ApprovalPolicy, is_affirmative
from agentgraph.realtime.handoffs import Handoff
from agentgraph.realtime.tool import FunctionTool, ToolContext, tool_output_to_str

if TYPE_CHECKING:
    from agentgraph.realtime.session import RealtimeSession

__all__ = ["ToolCalls"]

_MARK = "agentgraph"  # response metadata key for responses that may run while calls are open


class ToolCalls:
    """The tool-call part of a session (composition: one per session)."""

    def __init__(self, session: RealtimeSession) -> None:
        self.session = session
        self._names: dict[str, str] = {}
        self._started: set[str] = set()
        self._open: set[str] = set()
        self._approvals: dict[str, asyncio.Future[tuple[bool, str | None]]] = {}
        self._caller: tuple[str, asyncio.Future[tuple[bool, str | None]]] | None = None
        self.late_results: list[str] = []

    # -- wire events (called by the session's dispatch table)

    def on_call_item(self, item: dict[str, Any]) -> None:
        """`response.output_item.added` for a function_call: remember its name."""
        call_id = item.get("call_id")
        if call_id:
            self._names[call_id] = item.get("name", "")

    def on_arguments_done(self, event: wire.ResponseFunctionCallArgumentsDone) -> None:
        name = event.name or self._names.get(event.call_id, "")
        self.start(event.call_id, name, event.arguments)

    def on_output_item_done(self, event: wire.ResponseOutputItemDone) -> None:
        item = event.item
        if item.get("type") == "function_call":
            self.start(item.get("call_id", ""), item.get("name", ""), item.get("arguments", ""))

    def on_response_done(self, event: wire.ResponseDone) -> None:
        for item in event.response.get("output") or ():
            if (
                isinstance(item, dict)
                and item.get("type") == "function_call"
                and (item.get("status") == "completed")
            ):
                self.start(item.get("call_id", ""), item.get("name", ""), item.get("arguments", ""))

    def has_open_calls(self) -> bool:
        """True while a function call has no output yet."""
        return bool(self._open)

    def blocking_response(self) -> bool:
        """True when the next queued response must wait for open calls to finish."""
        if not self._open:
            return False
        pending = self.session._pending
        head = pending[0] if pending else None
        return not (isinstance(head, dict) and _MARK in (head.get("metadata") or {}))

    # -- running a call

    def start(self, call_id: str, name: str, arguments: str) -> None:
        """Run a call once (several events announce the same call)."""
        if not call_id or call_id in self._started:
            return
        self._started.add(call_id)
        self._open.add(call_id)
        generation = self.session.reconnector.generation
        self.session.spawn(self._run(call_id, name, arguments, generation))

    async def _run(self, call_id: str, name: str, arguments: str, generation: int) -> None:
        session = self.session
        agent = session.current_agent
        try:
            args = json.loads(arguments) if arguments else {}
            if not isinstance(args, dict):
                args = {}
        except ValueError:
            args = {}
        target = _find(agent, name)
        if isinstance(target, Handoff):
            await self._handoff(call_id, target, generation)
            return
        if target is None:
            output = (
                f"Error: unknown tool {name!r}. Available tools: "
                + ", ".join(
                    t.name if isinstance(t, FunctionTool) else t.tool_name
                    for t in agent.get_all_tools()
                )
                + "."
            )
            self._end(agent, name, call_id, arguments, output, ok=False)
            self._deliver(call_id, name, output, generation)
            return
        approved, message = await self._approve(agent, target, call_id, arguments, args)
        if not approved:
            output = message or f"The {name} call was not approved, so it was not done."
            self._end(agent, name, call_id, arguments, output, ok=False)
            self._deliver(call_id, name, output, generation)
            return
        session._emit(
            se.RealtimeToolStartEvent(
                agent=agent, tool_name=name, call_id=call_id, arguments=arguments
            )
        )
        ok = True
        try:
            result = await self._invoke(target, ToolContext(session, agent, call_id), arguments)
            output = tool_output_to_str(result)
        except TimeoutError:
            ok = False
            output = f"Error: the {name} tool timed out after {target.timeout_s:g} s."
        except Exception as exc:
            ok = False
            output = f"Error running tool {name}: {type(exc).__name__}: {exc}"
        self._end(agent, name, call_id, arguments, output, ok=ok)
        self._deliver(call_id, name, output, generation)

    async def _invoke(self, tool: FunctionTool, ctx: ToolContext, arguments: str) -> Any:
        settings = self.session.settings
        task = asyncio.ensure_future(
            asyncio.wait_for(tool.on_invoke_tool(ctx, arguments), tool.timeout_s)
        )
        try:
            filler_s = settings.tool_filler_after_s
            if filler_s is not None:
                done, _ = await asyncio.wait({task}, timeout=filler_s)
                if not done:
                    self.session.request_response(
                        {
                            "instructions": settings.tool_filler_instructions,
                            "tool_choice": "none",
                            "metadata": {_MARK: "filler"},
                        }
                    )
            return await task
        finally:
            task.cancel()

    def _end(
        self,
        agent: RealtimeAgent,
        name: str,
        call_id: str,
        arguments: str,
        output: str,
        *,
        ok: bool,
    ) -> None:
        self.session._emit(
            se.RealtimeToolEndEvent(
                agent=agent,
                tool_name=name,
                call_id=call_id,
                arguments=arguments,
                output=output,
                ok=ok,
            )
        )

    def _deliver(self, call_id: str, name: str, output: str, generation: int) -> None:
        """Send the one output of this call, then ask for a response if no call is open."""
        session = self.session
        same_session = generation == session.reconnector.generation
        sent = same_session and session._send(
            wire.ConversationItemCreate(
                item={"type": "function_call_output", "call_id": call_id, "output": output}
            )
        )
        if not sent:
            # The call belonged to a model session that is gone: tell the new one in words.
            self.late_results.append(f"Result of the earlier {name} call: {output}")
            if session.connected and not session.reconnector.active:
                self.flush_late_results()
        self._open.discard(call_id)
        if not self._open:
            session.request_response()

    def flush_late_results(self) -> None:
        """After a reconnect: hand results of calls from the old session to the new one."""
        results, self.late_results = self.late_results, []
        for text in results:
            self.session.add_guidance(text)

    async def _handoff(self, call_id: str, handoff: Handoff, generation: int) -> None:
        session = self.session
        old = session.current_agent
        new = handoff.agent
        session.set_agent(new)
        # Wire order (§6b + DESIGN): session.update, then the output, then response.create.
        await session.send_session_update()
        session._emit(se.RealtimeAgentEndEvent(agent=old))
        session._emit(se.RealtimeHandoffEvent(from_agent=old, to_agent=new))
        session._emit(se.RealtimeAgentStartEvent(agent=new))
        self._deliver(call_id, handoff.tool_name, json.dumps({"assistant": new.name}), generation)

    # -- approvals

    async def _approve(
        self,
        agent: RealtimeAgent,
        tool: FunctionTool,
        call_id: str,
        arguments: str,
        args: dict[str, Any],
    ) -> tuple[bool, str | None]:
        decide = agent.tool_approval_function
        if decide is not None:
            verdict = decide(tool.name, args)
            if inspect.isawaitable(verdict):
                verdict = await verdict
            if verdict is True:
                return True, None
            if verdict is False:
                return False, f"The {tool.name} call was rejected by policy, so it was not done."
        if not await tool.requires_approval(args):
            return True, None
        policy = tool.approval or ApprovalPolicy()
        message = policy.render_message(tool.name, args)
        future: asyncio.Future[tuple[bool, str | None]] = asyncio.get_running_loop().create_future()
        if policy.by == "operator":
            self._approvals[call_id] = future
            self.session._emit(
                se.RealtimeToolApprovalRequiredEvent(
                    agent=agent,
                    tool_name=tool.name,
                    call_id=call_id,
                    arguments=arguments,
                    message=message,
                )
            )
        else:
            self._caller = (call_id, future)
            self.session.request_response(
                {
                    "instructions": (
                        f"Ask the caller exactly this question and then stop and wait "
                        f'for their yes or no: "{message}"'
                    ),
                    "tool_choice": "none",
                    "metadata": {_MARK: "approval"},
                }
            )
        try:
            approved, reason = await asyncio.wait_for(future, policy.timeout_s)
        except TimeoutError:
            return False, (
                f"No approval arrived within {policy.timeout_s:g} s, so the "
                f"{tool.name} call was not done."
            )
        finally:
            self._approvals.pop(call_id, None)
            if self._caller is not None and self._caller[0] == call_id:
                self._caller = None
        if approved:
            return True, None
        return False, reason or f"The caller did not approve {tool.name}, so it was not done."

    def resolve_approval(self, call_id: str, approved: bool, message: str | None) -> bool:
        """An operator's decision (`approve_tool_call` / `reject_tool_call`).

        Returns:
            False when no call with that id waits (already decided or timed out).
        """
        future = self._approvals.get(call_id)
        if future is None and self._caller is not None and self._caller[0] == call_id:
            future = self._caller[1]
        if future is None or future.done():
            return False
        future.set_result((approved, message))
        return True

    def take_caller_reply(self, text: str) -> bool:
        """If a caller approval is pending, decide it from `text`; True if it was used."""
        if self._caller is None:
            return False
        future = self._caller[1]
        if future.done():
            return False
        if is_affirmative(text):
            future.set_result((True, None))
        else:
            future.set_result(
                (False, f"The caller said {text!r} and did not approve, so it was not done.")
            )
        return True


def _find(agent: RealtimeAgent, name: str) -> FunctionTool | Handoff | None:
    for tool in agent.tools:
        if tool.name == name:
            return tool
    for handoff in agent.get_handoffs():
        if handoff.tool_name == name:
            return handoff
    return None
