"""Phone-call tools: `end_call` and `transfer_call`, backed by the session's `call_control`.

The SIP transport (direct SIP or the OpenAI SIP connector) sets `session.call_control` to
an object with async `hangup()` and `transfer(target)`. Off the phone the tools answer
politely instead of failing. Transferring needs approval by default.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from agentgraph.realtime.approval import ApprovalPolicy
from agentgraph.realtime.tool import FunctionTool, ToolContext, function_tool

__all__ = ["CallControl", "end_call", "make_transfer_call", "transfer_call"]

NOT_ON_A_CALL = "This conversation is not on a phone call, so there is nothing to {action}."


@runtime_checkable
class CallControl(Protocol):
    """What a phone transport offers the session: hang up or transfer the call."""

    async def hangup(self) -> None:
        """End the call."""

    async def transfer(self, target: str) -> None:
        """Transfer the call to `target` (a SIP URI or tel: number)."""


async def _end_call(ctx: ToolContext) -> str:
    """End the phone call. Say goodbye before calling this."""
    control = getattr(ctx.session, "call_control", None)
    if control is None:
        return NOT_ON_A_CALL.format(action="hang up")
    await control.hangup()
    return "The call has ended."


async def _transfer_call(ctx: ToolContext, target: str) -> str:
    """Transfer the phone call to another number or person.

    Args:
        target: the phone number (tel:+1...) or SIP address to transfer to.
    """
    control = getattr(ctx.session, "call_control", None)
    if control is None:
        return NOT_ON_A_CALL.format(action="transfer")
    await control.transfer(target)
    return f"The call is being transferred to {target}."


end_call: FunctionTool = function_tool(_end_call, name_override="end_call")


def make_transfer_call(approval: ApprovalPolicy | None = None) -> FunctionTool:
    """A `transfer_call` tool with a custom approval policy (None keeps the default)."""
    return function_tool(
        _transfer_call,
        name_override="transfer_call",
        approval=approval
        or ApprovalPolicy(by="operator", message="Transfer the call to {target}?"),
    )


transfer_call: FunctionTool = make_transfer_call()
