"""A scripted model and app around `SessionProtocol`: no sockets, no sleeps, explicit time.

The driver plays the model's side with real wire event objects and performs the core's
actions the way the asyncio shell does (tools run at once and record what they received;
approval checks evaluate the tool's rule; session configs come back at once; connections
open at once). Tests and the property test drive conversations through it.
"""

from __future__ import annotations

import json
from typing import Any

from agentgraph.protocol import events as wire
from agentgraph.realtime import RealtimeAgent, function_tool
from agentgraph.realtime import events as se
from agentgraph.realtime.config import normalize_run_config
from agentgraph.realtime.guardrails import GuardrailFunctionOutput
from agentgraph.realtime.host import (
    CheckApproval,
    CloseSession,
    Connect,
    RunGuardrail,
    RunTool,
    UpdateSession,
)
from agentgraph.realtime.playback import RealtimePlaybackTracker
from agentgraph.realtime.protocol import SessionProtocol

CONFIG: dict[str, Any] = {"type": "realtime", "instructions": "x", "audio": {"input": {}}}


class CoreDriver:
    """One session core with a scripted model peer.

    Attributes:
        ran: (call_id, tool name, the JSON the tool was invoked with) per tool run.
        sent: every wire event the core wrote, in order.
        events: every session event, in order.
    """

    def __init__(self, agent: RealtimeAgent, config: dict[str, Any] | None = None) -> None:
        self.now = 0.0
        self.core = SessionProtocol(
            agent=agent,
            settings=normalize_run_config(config or {}),
            tracker=RealtimePlaybackTracker(),
            reports_playback=False,
        )
        self.ran: list[tuple[str, str, str]] = []
        self.sent: list[wire.ClientEvent] = []
        self.events: list[Any] = []
        self.guardrail_errors: dict[str, BaseException] = {}
        self._seq = 0
        self.core.connection_opened(CONFIG, self.now, first=True)
        self.pump()

    # -- the shell's part

    def pump(self) -> None:
        """Write, act, drain events; repeat until the core is settled."""
        core = self.core
        while True:
            self.sent.extend(core.events_to_send())
            actions = core.actions_to_run()
            while core.events:
                self.events.append(core.events.popleft())
            if not actions:
                return
            for action in actions:
                self._perform(action)

    def _perform(self, action: Any) -> None:
        core = self.core
        match action:
            case CheckApproval():
                needs = _needs(action.tool, action.arguments)
                core.receive_approval_check(action.call_id, None, needs, self.now)
            case RunTool():
                self.ran.append((action.call_id, action.tool.name, action.arguments_json))
                core.receive_tool_result(action.call_id, "done", True, self.now)
            case RunGuardrail():
                error = self.guardrail_errors.get(action.guardrail.get_name())
                if error is not None:
                    core.receive_guardrail_result(action, None, error, self.now)
                else:
                    result = action.guardrail.guardrail_function(None, action.agent, action.text)
                    assert isinstance(result, GuardrailFunctionOutput)
                    core.receive_guardrail_result(action, result, None, self.now)
            case UpdateSession():
                core.receive_session_config(action.token, CONFIG, self.now)
            case Connect():
                core.connection_opened(CONFIG, self.now, first=False)
            case CloseSession():
                pass

    def advance(self, seconds: float) -> None:
        """Let time pass, firing the core's deadlines on the way."""
        target = self.now + seconds
        while True:
            deadline = self.core.next_deadline()
            if deadline is None or deadline > target:
                break
            self.now = max(self.now, deadline)
            self.core.handle_timeout(self.now)
            self.pump()
        self.now = target

    # -- the model's part

    def receive(self, event: Any) -> None:
        self.core.receive_event(event, self.now)
        self.pump()

    def new_id(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}_{self._seq}"

    def pending_creates(self) -> list[wire.ResponseCreate]:
        return [e for e in self.sent if isinstance(e, wire.ResponseCreate)]

    def respond(
        self,
        *,
        calls: list[tuple[str, dict[str, Any] | str]] = (),  # type: ignore[assignment]
        text: str = "",
        status: str = "completed",
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """One whole response: created, optional text, function calls, done."""
        rid = self.new_id("resp")
        self.receive(wire.ResponseCreated(response={"id": rid, "metadata": metadata}))
        if text:
            item = self.new_id("item")
            self.receive(
                wire.ResponseOutputAudioTranscriptDelta(
                    response_id=rid, item_id=item, output_index=0, content_index=0, delta=text
                )
            )
            self.receive(
                wire.ResponseOutputAudioTranscriptDone(
                    response_id=rid, item_id=item, output_index=0, content_index=0, transcript=text
                )
            )
        output = []
        for name, args in calls:
            call_id = self.new_id("call")
            arguments = args if isinstance(args, str) else json.dumps(args)
            self.receive(
                wire.ResponseFunctionCallArgumentsDone(
                    response_id=rid, call_id=call_id, arguments=arguments, name=name
                )
            )
            output.append(
                {
                    "type": "function_call",
                    "status": "completed",
                    "call_id": call_id,
                    "name": name,
                    "arguments": arguments,
                }
            )
        self.receive(wire.ResponseDone(response={"id": rid, "status": status, "output": output}))
        return rid

    def answer_next_create(self, status: str = "completed") -> dict[str, Any] | None:
        """The server runs the oldest `response.create` not yet answered (echoing its
        metadata); returns its parameters."""
        creates = self.pending_creates()
        done = getattr(self, "_answered", 0)
        if done >= len(creates):
            return None
        self._answered = done + 1
        params = creates[done].response or {}
        self.respond(status=status, metadata=params.get("metadata"))
        return params

    def caller_says(self, text: str, *, started_before: bool = False) -> None:
        """The caller speaks (VAD start, then the transcript); `started_before`: the words
        began earlier (no fresh speech_started: a late transcript of earlier speech)."""
        item = self.new_id("item_in")
        if not started_before:
            self.receive(wire.InputAudioBufferSpeechStarted(item_id=item))
        self.receive(wire.InputAudioTranscriptionCompleted(item_id=item, transcript=text))

    def of(self, cls: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]

    def approvals_decided(self) -> list[se.RealtimeApprovalDecidedEvent]:
        return self.of(se.RealtimeApprovalDecidedEvent)


def _needs(tool: Any, arguments: dict[str, Any]) -> bool:
    flag = tool.needs_approval
    if flag is True:
        return True
    if tool.approval is not None:
        return bool(tool.approval.applies(arguments))
    return False


def pay_tool(*, by: str = "caller", threshold: int = 1000, default: int = 5000) -> Any:
    """`pay(to, amount=default)` needing approval by `by` when amount > threshold."""
    from agentgraph.realtime import ApprovalPolicy

    def pay(to: str, amount: int = default) -> str:
        """Pay someone.

        Args:
            to: who gets the money.
            amount: how much.
        """
        return f"paid {amount} to {to}"

    return function_tool(
        pay,
        approval=ApprovalPolicy(
            when=lambda a: a["amount"] > threshold,
            by=by,  # type: ignore[arg-type]
            message="Pay {amount} to {to}?",
            timeout_s=30,
        ),
    )
