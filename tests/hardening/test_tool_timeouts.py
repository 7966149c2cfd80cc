"""Tools that hang: every tool has a timeout, hung sync tools do not starve later calls
(even with a one-worker default executor), and a stuck tool thread does not hold up exit."""

from __future__ import annotations

import asyncio
import concurrent.futures
import subprocess
import sys
import textwrap
import threading

import pytest

from agentgraph.realtime import function_tool
from agentgraph.realtime.tool import FunctionTool, ToolContext
from agentgraph.realtime.tool_executor import DEFAULT_TOOL_TIMEOUT_S

STUCK = threading.Event()


def wait_forever(city: str) -> str:
    """A tool that never returns (a dead backend without a socket timeout).

    Args:
        city: anything.
    """
    STUCK.wait()
    return "never"


def quick(city: str) -> str:
    """A tool that answers at once.

    Args:
        city: the city.
    """
    return f"sunny in {city}"


async def _invoke(tool: FunctionTool, arguments: str) -> str:
    """What the session does with a tool call: invoke under the tool's timeout."""
    ctx = ToolContext(None, None, "call_1")  # type: ignore[arg-type]
    try:
        return str(await asyncio.wait_for(tool.on_invoke_tool(ctx, arguments), tool.timeout_s))
    except TimeoutError:
        return "timed out"


def test_every_tool_has_a_timeout() -> None:
    assert function_tool(wait_forever).timeout_s == DEFAULT_TOOL_TIMEOUT_S
    explicit_none = FunctionTool(
        name="t",
        description="d",
        params_json_schema={},
        on_invoke_tool=None,
        timeout_s=None,  # type: ignore[arg-type]
    )
    assert explicit_none.timeout_s == DEFAULT_TOOL_TIMEOUT_S
    assert function_tool(quick, timeout_s=2.0).timeout_s == 2.0


async def test_hung_sync_tools_do_not_starve_a_quick_one() -> None:
    loop = asyncio.get_running_loop()
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=1))
    hung = function_tool(wait_forever, timeout_s=0.2)
    fast = function_tool(quick, timeout_s=10.0)
    try:
        results = await asyncio.gather(*(_invoke(hung, '{"city": "x"}') for _ in range(6)))
        assert results == ["timed out"] * 6
        assert await _invoke(fast, '{"city": "Paris"}') == "sunny in Paris"
    finally:
        STUCK.set()


def test_a_stuck_tool_thread_does_not_block_exit() -> None:
    script = textwrap.dedent(
        """
        import asyncio, threading
        from agentgraph.realtime import function_tool
        from agentgraph.realtime.tool import ToolContext

        def stuck(city: str) -> str:
            '''Never returns.

            Args:
                city: anything.
            '''
            threading.Event().wait()
            return ""

        async def main():
            tool = function_tool(stuck, timeout_s=0.2)
            ctx = ToolContext(None, None, "c")
            try:
                await asyncio.wait_for(tool.on_invoke_tool(ctx, '{"city": "x"}'), tool.timeout_s)
            except TimeoutError:
                print("timed out", flush=True)

        asyncio.run(main())
        print("exiting", flush=True)
        """
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the process hung at exit behind a stuck tool thread")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["timed", "out", "exiting"]
