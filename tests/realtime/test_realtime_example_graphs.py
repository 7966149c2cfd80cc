"""The compiled example graphs run against the fake Realtime server (issue 3, Tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agentgraph.compile import compile_graph
from agentgraph.realtime import FunctionTool, RealtimeRunner
from agentgraph.spec import load_graph
from tests.fakes import FakeRealtimeServer

GRAPHS = sorted(
    p
    for p in (Path(__file__).parents[2] / "examples" / "graphs").glob("*.yaml")
    if not p.name.endswith(".tests.yaml")
)


def _sample_args(schema: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for name in schema.get("required", []):
        prop = schema.get("properties", {}).get(name, {})
        if "enum" in prop:
            args[name] = prop["enum"][0]
        elif prop.get("type") == "integer":
            args[name] = 2
        elif prop.get("type") == "number":
            args[name] = 2.0
        elif prop.get("type") == "boolean":
            args[name] = True
        else:
            args[name] = "tomorrow"
    return args


@pytest.mark.parametrize("path", GRAPHS, ids=[p.stem for p in GRAPHS])
async def test_compiled_graph_runs_a_tool_round_trip(path: Path) -> None:
    compiled = compile_graph(load_graph(path))
    start = compiled.starting_agent
    settings = compiled.run_config["model_settings"]
    async with FakeRealtimeServer() as server:
        runner = RealtimeRunner(start, config=compiled.run_config)
        session = await runner.run(model_config={"url": server.url})
        events: list[Any] = []

        async def collect() -> None:
            async for event in session:
                events.append(event)
                if event.type == "tool_approval_required":
                    await session.approve_tool_call(event.call_id)

        async with session:
            pump = asyncio.ensure_future(collect())
            conn = await server.next_connection()
            update = (await conn.wait_for("session.update"))["session"]
            assert update["instructions"] == await start.get_system_prompt()
            assert update["audio"]["output"]["voice"] == settings["voice"]
            assert [t["name"] for t in update["tools"]] == [t["name"] for t in start.tools_wire()]
            fmt = {"pcm16": "audio/pcm", "g711_ulaw": "audio/pcmu", "g711_alaw": "audio/pcma"}
            assert update["audio"]["input"]["format"]["type"] == fmt[settings["input_audio_format"]]
            handoffs = start.get_handoffs()
            if handoffs:
                target = handoffs[0]
                await conn.respond_function_call(target.tool_name, {}, call_id="call_h")
                await conn.wait_for("response.create")
                new = conn.of_type("session.update")[-1]["session"]
                assert new["instructions"] == await target.agent.get_system_prompt()
                assert session.current_agent is target.agent
            else:
                tool = next(t for t in start.tools if isinstance(t, FunctionTool))
                await conn.respond_function_call(
                    tool.name, _sample_args(tool.params_json_schema), call_id="call_t"
                )
                ask = await conn.wait_for("response.create")
                if "instructions" in (ask.get("response") or {}):  # caller approval
                    await conn.respond_audio("Shall I?")
                    await conn.user_turn("Yes please.")
                    await conn.wait_for("response.create", count=2)
            outputs = [
                e["item"]
                for e in conn.of_type("conversation.item.create")
                if e["item"]["type"] == "function_call_output"
            ]
            assert len(outputs) == 1 and outputs[0]["output"]
            await session.close()
            await asyncio.wait_for(pump, 5)
    assert any(e.type == "tool_end" for e in events) or any(e.type == "handoff" for e in events)
