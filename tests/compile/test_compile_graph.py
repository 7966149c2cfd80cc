"""compile_graph builds exactly the runtime objects a Python user would write by hand."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from agentgraph.compile import compile_graph
from agentgraph.errors import PluginError
from agentgraph.realtime import (
    ApprovalPolicy,
    FunctionTool,
    RealtimeAgent,
    ToolContext,
    end_call,
    function_tool,
    handoff,
    normalize_model_settings,
    transfer_call,
)
from agentgraph.spec import load_graph, parse_condition, validate_text

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "graphs"


def tool_view(tool: FunctionTool) -> tuple[Any, ...]:
    return (
        tool.name,
        tool.description,
        tool.params_json_schema,
        tool.needs_approval,
        tool.timeout_s,
        tool.approval,
    )


def agent_view(agent: RealtimeAgent) -> tuple[Any, ...]:
    return (
        agent.name,
        agent.instructions,
        agent.handoff_description,
        agent.turn_detection,
        [tool_view(t) for t in agent.tools],
        [(h.tool_name, h.tool_description, h.agent.name) for h in agent.get_handoffs()],
        [(g.get_name(), g.debounce_length, g.message) for g in agent.output_guardrails],
        agent.tools_wire(),
    )


def compile_text(text: str, base_dir: Path = EXAMPLES) -> Any:
    result = validate_text(text, env={}, base_dir=base_dir)
    assert result.spec is not None, [f.format() for f in result.findings]
    return compile_graph(result.spec)


def test_triage_equals_hand_written_agents() -> None:
    from agentgraph_demo import book_appointment, check_availability, search_knowledge_base

    compiled = compile_graph(load_graph(EXAMPLES / "triage.yaml", env={}))
    spec = compiled.spec
    check = function_tool(check_availability)
    book = function_tool(
        book_appointment,
        approval=ApprovalPolicy(
            when=parse_condition("time < '09:00' or time > '17:00'"),
            by="caller",
            message="Book {date} at {time}?",
            timeout_s=30.0,
        ),
    )
    kb = function_tool(search_knowledge_base)
    triage = RealtimeAgent(name="triage", instructions=spec.instructions["triage"])
    booking = RealtimeAgent(
        name="booking",
        instructions=spec.instructions["booking"],
        tools=[check, book],
        handoff_description="Books, checks and confirms appointments.",
    )
    support = RealtimeAgent(
        name="support",
        instructions=spec.instructions["support"],
        tools=[kb],
        handoff_description="Answers questions about opening hours, insurance and parking.",
    )
    triage.handoffs = [booking, support]
    booking.handoffs = [triage]
    support.handoffs = [
        triage,
        handoff(
            booking, tool_description_override="The caller wants to book after their question."
        ),
    ]

    assert compiled.starting_agent is compiled.agents["triage"]
    for hand in (triage, booking, support):
        assert agent_view(compiled.agents[hand.name]) == agent_view(hand)
    assert "Greet the caller" in str(triage.instructions)
    # the same settings a user would pass as RealtimeRunConfig(model_settings=...)
    by_hand = {
        "model_name": "gpt-realtime",
        "voice": "ash",
        "input_audio_transcription": {"model": "gpt-4o-mini-transcribe"},
        "turn_detection": {
            "type": "server_vad",
            "threshold": 0.5,
            "prefix_padding_ms": 300,
            "silence_duration_ms": 600,
            "create_response": True,
            "interrupt_response": True,
        },
    }
    assert normalize_model_settings(
        compiled.run_config["model_settings"]
    ) == normalize_model_settings(by_hand)
    assert compiled.model.provider == "auto" and compiled.model.api_key is None


async def test_compiled_tools_run_and_approvals_follow_the_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTGRAPH_DEMO_DB", str(tmp_path / "db.sqlite3"))
    compiled = compile_graph(load_graph(EXAMPLES / "booking.yaml", env={}))
    agent = compiled.starting_agent
    assert "Bright Smile Dental" in str(agent.instructions)  # prompt file + variables
    book = next(t for t in agent.tools if t.name == "book_appointment")
    assert book.timeout_s == 10
    assert await book.requires_approval({"date": "2030-01-02", "time": "08:00"})
    assert await book.requires_approval({"date": "2030-01-02", "time": "17:30"})
    assert not await book.requires_approval({"date": "2030-01-02", "time": "10:00"})
    assert book.approval is not None
    assert (
        book.approval.render_message("book_appointment", {"date": "2030-01-02", "time": "08:00"})
        == "Book 2030-01-02 at 08:00?"
    )
    ctx = ToolContext(session=None, agent=agent, call_id="call_1")
    out = await book.on_invoke_tool(ctx, '{"date": "2030-01-02", "time": "10:00", "name": "Jo"}')
    assert str(out).startswith("Booked Jo on 2030-01-02 at 10:00")


async def test_match_guardrail_trips_case_insensitively() -> None:
    compiled = compile_graph(load_graph(EXAMPLES / "guardrail.yaml", env={}))
    agent = compiled.starting_agent
    prices, medical = agent.output_guardrails
    assert (prices.get_name(), prices.debounce_length) == ("no_prices", 40)
    tripped = await prices.run(None, agent, "A cleaning is 80 Dollars.")
    assert tripped.tripwire_triggered
    assert tripped.output_info == prices.message
    assert (await prices.run(None, agent, "It costs $ 5")).tripwire_triggered
    assert not (await prices.run(None, agent, "We open at 9.")).tripwire_triggered
    assert medical.get_name() == "no_medical_advice"
    assert (await medical.run(None, agent, "Take ibuprofen.")).tripwire_triggered


async def test_keywords_match_whole_words_only() -> None:
    compiled = compile_text("""\
version: 1
name: k
guardrails: {g: {match: {keywords: [price, "per hour"]}, debounce_length: 5}}
agents: {a: {instructions: x, guardrails: [g]}}
""")
    guard = compiled.starting_agent.output_guardrails[0]
    assert (await guard.run(None, None, "The PRICE is right")).tripwire_triggered
    assert (await guard.run(None, None, "ten per hour")).tripwire_triggered
    assert not (await guard.run(None, None, "priceless")).tripwire_triggered


def test_sip_front_desk_builtins_and_settings() -> None:
    compiled = compile_graph(load_graph(EXAMPLES / "sip_front_desk.yaml", env={}))
    reception = compiled.agents["reception"]
    hang_up, transfer = reception.tools[1], reception.tools[2]
    assert tool_view(hang_up) == tool_view(dataclasses.replace(end_call, name="hang_up"))
    assert transfer.name == "transfer"
    assert transfer.approval == ApprovalPolicy(
        by="operator", message="Transfer the caller to {target}?", timeout_s=30.0
    )
    assert transfer.params_json_schema == transfer_call.params_json_schema
    sip = compiled.sip
    assert sip is not None
    assert (sip.host, sip.port, sip.max_calls) == ("127.0.0.1", 5060, 4)
    assert sip.agent_for("2000") == "booking" and sip.agent_for("999") == "reception"
    assert sip.allows("10.1.2.3") and sip.allows("127.0.0.1") and not sip.allows("192.168.1.9")
    assert sip.openai is not None and sip.openai.port == 8000
    assert "whsec" not in repr(sip)
    settings = normalize_model_settings(compiled.run_config["model_settings"])
    assert settings.input_format.wire == {"type": "audio/pcmu"}


def test_inline_builtins_and_approval_never() -> None:
    compiled = compile_text("""\
version: 1
name: b
tools: {xfer: {builtin: transfer_call, approval: never}}
agents:
  a: {instructions: x, tools: [{builtin: end_call}, {builtin: transfer_call}, xfer]}
""")
    bye, default_transfer, xfer = compiled.starting_agent.tools
    assert bye is end_call
    assert tool_view(default_transfer) == tool_view(transfer_call)  # approval by default
    assert xfer.approval is None and xfer.name == "xfer"


def test_function_tool_targets_get_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my_ft_tools.py").write_text(
        "from agentgraph.realtime import function_tool\n"
        "def _lookup(code: str) -> str:\n"
        "    '''Look a code up.'''\n"
        "    return code\n"
        "lookup = function_tool(_lookup, name_override='lookup')\n"
        "def plain(code: str) -> str:\n"
        "    '''Plain.'''\n"
        "    return code\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    compiled = compile_text("""\
version: 1
name: f
tools:
  find: {ref: "my_ft_tools:lookup", description: Find a code., timeout_s: 3, approval: always}
  lookup: {ref: "my_ft_tools:lookup"}
  other: {ref: "my_ft_tools:plain"}
agents: {a: {instructions: x, tools: [find, lookup, other]}}
""")
    import my_ft_tools

    find, lookup, other = compiled.starting_agent.tools
    assert lookup is my_ft_tools.lookup  # used as is
    assert (find.name, find.description, find.timeout_s) == ("find", "Find a code.", 3)
    assert find.approval == ApprovalPolicy(by="caller", timeout_s=30.0)
    assert tool_view(other) == tool_view(function_tool(my_ft_tools.plain, name_override="other"))


def test_plugin_problems_are_plugin_errors() -> None:
    with pytest.raises(PluginError, match=r"tools\.t: cannot import"):
        compile_text(
            "version: 1\nname: x\ntools: {t: {ref: 'nope_mod_x:f'}}\n"
            "agents: {a: {instructions: x, tools: [t]}}\n"
        )
    with pytest.raises(PluginError, match=r"guardrails\.g: .* is not a function"):
        compile_text(
            "version: 1\nname: x\n"
            "guardrails: {g: {ref: 'agentgraph_demo.weather:WEATHER'}}\n"
            "agents: {a: {instructions: x, guardrails: [g]}}\n"
        )


async def test_check_guardrail_asks_a_text_model() -> None:
    from tests.fakes import FakeChatServer

    def judge(request: dict[str, Any]) -> str:
        assert "Never promise refunds." in request["messages"][0]["content"]
        text = request["messages"][-1]["content"]
        return json.dumps({"violates": "refund" in text, "reason": "promised a refund"})

    async with FakeChatServer(reply=judge) as chat:
        compiled = compile_text(f"""\
version: 1
name: c
guardrails:
  no_refunds:
    check: Never promise refunds.
    message: Refunds are decided by billing.
    model: judge-1
    base_url: {chat.base_url}
    debounce_length: 20
agents: {{a: {{instructions: x, guardrails: [no_refunds]}}}}
""")
        guard = compiled.starting_agent.output_guardrails[0]
        assert (guard.get_name(), guard.message, guard.debounce_length) == (
            "no_refunds",
            "Refunds are decided by billing.",
            20,
        )
        assert (await guard.run(None, None, "You get a full refund.")).tripwire_triggered
        assert not (await guard.run(None, None, "See you at ten.")).tripwire_triggered
        assert chat.requests[0]["model"] == "judge-1"


def test_every_example_compiles_and_has_valid_tools() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        if path.name.endswith(".tests.yaml"):
            continue
        compiled = compile_graph(load_graph(path, env={}))
        for agent in compiled.agents.values():
            agent.tools_wire()  # raises on duplicate names
        normalize_model_settings(compiled.run_config["model_settings"])


async def test_async_function_targets_are_wrapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my_async_tools.py").write_text(
        "async def quote(item: str, qty: int = 1) -> str:\n"
        "    '''Quote an item.\n\n    Args:\n        item: what.\n        qty: how many.\n    '''\n"
        "    return f'{qty} x {item}'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    compiled = compile_text(
        "version: 1\nname: a\ntools: {quote: {ref: 'my_async_tools:quote', "
        "timeout_s: 2}}\nagents: {a: {instructions: x, tools: [quote]}}\n"
    )
    (tool,) = compiled.starting_agent.tools
    assert tool.description == "Quote an item."
    assert tool.params_json_schema["properties"]["qty"]["description"] == "how many."
    ctx = ToolContext(session=None, agent=None, call_id="c")
    assert await tool.on_invoke_tool(ctx, '{"item": "crown", "qty": 2}') == "2 x crown"


def test_guardrail_on_error_compiles_and_defaults_to_block() -> None:
    text = (
        "version: 1\nname: g\nguardrails:\n"
        "  strict: {match: {keywords: [price]}}\n"
        "  lenient: {match: {keywords: [cost]}, on_error: allow}\n"
        "agents: {a: {instructions: x, guardrails: [strict, lenient]}}\n"
    )
    result = validate_text(text, env={})
    assert result.spec is not None
    guards = {g.name: g for g in compile_graph(result.spec).starting_agent.output_guardrails}
    assert guards["strict"].on_error == "block"
    assert guards["lenient"].on_error == "allow"
    bad = validate_text(text.replace("on_error: allow", "on_error: ignore"), env={})
    assert not bad.ok and "AG103" in {f.code for f in bad.findings}
