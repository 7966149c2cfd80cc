"""Function tools: a Python function the model can call, with a JSON Schema for its arguments.

`function_tool(func)` reads the signature, type hints and Google-style docstring, builds a
pydantic model for the arguments and a JSON Schema for the model, and wraps the function
so that the session can call it with the raw JSON arguments the model produced. Arguments
are validated once per call (never per audio chunk); a validation error becomes the tool
output the model sees, so a sloppy model never raises inside the session.

A first parameter annotated `ToolContext` receives `ToolContext(session, agent, call_id)`
and is left out of the schema. Sync functions run in a daemon thread of their own
(`tool_executor.py`) so a slow or hung tool never stalls the event loop, never starves
other calls, and never holds up exit; every tool has a timeout (30 s unless it sets one).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, overload

import pydantic

from agentgraph.realtime.approval import ApprovalPolicy
from agentgraph.realtime.tool_executor import DEFAULT_TOOL_TIMEOUT_S, run_sync_tool
from agentgraph.signatures import function_schema, parse_docstring

__all__ = [
    "ArgumentsError",
    "FunctionTool",
    "NeedsApproval",
    "ToolContext",
    "function_tool",
    "tool_output_to_str",
]

#: `needs_approval` may be a bool or a predicate over the parsed arguments.
NeedsApproval = bool | Callable[[dict[str, Any]], bool | Awaitable[bool]]


class ArgumentsError(ValueError):
    """A call's arguments do not fit the tool's parameters (the message is the tool output)."""


@dataclass(frozen=True, slots=True)
class ToolContext:
    """What a tool may know about the call it serves.

    Attributes:
        session: the `RealtimeSession` running the tool (its `call_control` is the phone call).
        agent: the agent that called the tool.
        call_id: the model's function-call id.
    """

    session: Any
    agent: Any  # the RealtimeAgent (typed loosely: agent.py imports this module)
    call_id: str


@dataclass(frozen=True, slots=True)
class FunctionTool:
    """A tool the model can call.

    Attributes:
        name: the function name the model sees.
        description: what the tool does (from the docstring unless overridden).
        params_json_schema: the JSON Schema of the arguments object.
        on_invoke_tool: `await on_invoke_tool(ctx, arguments_json) -> output`; validation
            errors come back as the output string, other exceptions propagate to the session
            (which turns them into the output too).
        needs_approval: `True`, or a predicate over the arguments, to require an approval.
        timeout_s: the session gives up on the tool after this many seconds (None: the
            default, `DEFAULT_TOOL_TIMEOUT_S`; no tool waits forever).
        approval: who approves and how (`ApprovalPolicy`); setting one implies approval.
        args_model: the pydantic model of the arguments (set by `function_tool`); the session
            validates and coerces a call's arguments with it before approval rules see them.
    """

    name: str
    description: str
    params_json_schema: dict[str, Any]
    on_invoke_tool: Callable[[ToolContext, str], Awaitable[Any]]
    needs_approval: NeedsApproval = False
    timeout_s: float | None = DEFAULT_TOOL_TIMEOUT_S
    approval: ApprovalPolicy | None = None
    args_model: type[pydantic.BaseModel] | None = field(default=None, compare=False, repr=False)

    def parse_arguments(self, arguments_json: str) -> tuple[dict[str, Any], str]:
        """The values the tool will receive (validated, coerced, defaults filled) and their
        JSON, which is what the tool is then invoked with.

        Raises:
            ArgumentsError: the arguments are not valid for this tool (message for the model).
        """
        if self.args_model is not None:
            try:
                parsed = self.args_model.model_validate_json(arguments_json or "{}")
            except pydantic.ValidationError as exc:
                raise ArgumentsError(_format_validation_error(self.name, exc)) from None
            values = {key: getattr(parsed, key) for key in type(parsed).model_fields}
            return values, parsed.model_dump_json()
        try:
            values = json.loads(arguments_json) if arguments_json else {}
        except ValueError:
            raise ArgumentsError(f"Invalid arguments for tool {self.name}: not JSON") from None
        if not isinstance(values, dict):
            raise ArgumentsError(f"Invalid arguments for tool {self.name}: not a JSON object")
        return values, arguments_json or "{}"

    def __post_init__(self) -> None:
        if self.timeout_s is None:  # a hung tool must not silence the call for good
            object.__setattr__(self, "timeout_s", DEFAULT_TOOL_TIMEOUT_S)

    def to_wire(self) -> dict[str, Any]:
        """The GA `tools[]` entry for `session.update`."""
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "parameters": self.params_json_schema,
        }

    async def requires_approval(self, arguments: dict[str, Any]) -> bool:
        """Whether this call needs an approval before it may run.

        Args:
            arguments: the parsed JSON arguments of the call.
        """
        flag = self.needs_approval
        if callable(flag):
            result = flag(arguments)
            if inspect.isawaitable(result):
                result = await result
            if result:
                return True
        elif flag:
            return True
        if self.approval is not None:
            return self.approval.applies(arguments)
        return False


def tool_output_to_str(value: Any) -> str:
    """Turn a tool's return value into the `function_call_output.output` string."""
    if isinstance(value, str):
        return value
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump_json()
    if value is None:
        return "done"
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


# The docstring-to-schema path is shared with validation (`agentgraph.signatures`).
parse_google_docstring = parse_docstring


def _format_validation_error(tool_name: str, exc: pydantic.ValidationError) -> str:
    problems = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in err.get("loc", ())) or "arguments"
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return f"Invalid arguments for tool {tool_name}: " + "; ".join(problems)


def _make_tool(
    func: Callable[..., Any],
    *,
    name_override: str | None,
    description_override: str | None,
    needs_approval: NeedsApproval,
    timeout_s: float | None,
    approval: ApprovalPolicy | None,
) -> FunctionTool:
    name = name_override or func.__name__
    shape = function_schema(func, name)
    description, schema = shape.description, shape.parameters
    args_model, takes_context = shape.args_model, shape.takes_context
    is_async = inspect.iscoroutinefunction(func)
    field_names = list(args_model.model_fields)

    async def on_invoke_tool(ctx: ToolContext, arguments_json: str) -> Any:
        try:
            parsed = args_model.model_validate_json(arguments_json or "{}")
        except pydantic.ValidationError as exc:
            return _format_validation_error(name, exc)
        kwargs = {key: getattr(parsed, key) for key in field_names}
        args: tuple[Any, ...] = (ctx,) if takes_context else ()
        if is_async:
            return await func(*args, **kwargs)
        return await run_sync_tool(func, *args, **kwargs)

    return FunctionTool(
        name=name,
        description=description_override or description or name,
        params_json_schema=schema,
        on_invoke_tool=on_invoke_tool,
        needs_approval=needs_approval,
        timeout_s=timeout_s,
        approval=approval,
        args_model=args_model,
    )


@overload
def function_tool(
    func: Callable[..., Any],
    *,
    name_override: str | None = None,
    description_override: str | None = None,
    needs_approval: NeedsApproval = False,
    timeout_s: float | None = None,
    approval: ApprovalPolicy | None = None,
) -> FunctionTool: ...


@overload
def function_tool(
    func: None = None,
    *,
    name_override: str | None = None,
    description_override: str | None = None,
    needs_approval: NeedsApproval = False,
    timeout_s: float | None = None,
    approval: ApprovalPolicy | None = None,
) -> Callable[[Callable[..., Any]], FunctionTool]: ...


def function_tool(
    func: Callable[..., Any] | None = None,
    *,
    name_override: str | None = None,
    description_override: str | None = None,
    needs_approval: NeedsApproval = False,
    timeout_s: float | None = None,
    approval: ApprovalPolicy | None = None,
) -> FunctionTool | Callable[[Callable[..., Any]], FunctionTool]:
    """Make a `FunctionTool` from a function; usable as `@function_tool` or `@function_tool(...)`.

    Args:
        func: a sync or async function with type hints and a Google-style docstring.
        name_override: the tool name the model sees (default: the function name).
        description_override: the description (default: the docstring summary).
        needs_approval: `True` or a predicate over the arguments to require approval.
        timeout_s: seconds after which the call is abandoned with a timeout output.
        approval: an `ApprovalPolicy` (who approves, when, with what message).

    Returns:
        The tool, or a decorator when called without `func`.
    """

    def wrap(f: Callable[..., Any]) -> FunctionTool:
        return _make_tool(
            f,
            name_override=name_override,
            description_override=description_override,
            needs_approval=needs_approval,
            timeout_s=timeout_s,
            approval=approval,
        )

    if func is None:
        return wrap
    return wrap(func)
