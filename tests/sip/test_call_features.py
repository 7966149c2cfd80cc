"""Graph features on a real SIP call (SIPp as the phone, a scripted fake Realtime model):
end_call sends BYE, transfer_call sends REFER, keypad digits reach the session, and
barge-in flushes the agent audio queued for RTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agentgraph.realtime import (
    ApprovalPolicy,
    RealtimeAgent,
    end_call,
    make_transfer_call,
    transfer_call,
)
from agentgraph.transports.sip.events import SipConfig
from agentgraph.transports.sip.server import SipCall, SipServer
from agentgraph.transports.sip.sessions import NO_OPERATOR, CallSessions, auto_approvals
from tests.fakes import FakeConnection, FakeRealtimeServer
from tests.sip.sipp import PCAPS, SCENARIOS, call_scenario, needs_sipp, run_sipp

pytestmark = [needs_sipp, pytest.mark.peer]
NO_APPROVAL = ApprovalPolicy(when=lambda _args: False, by="operator")


class Served:
    def __init__(self, server: SipServer, model: FakeRealtimeServer) -> None:
        self.server, self.model = server, model
        self.calls: list[SipCall] = []

    async def connection(self) -> FakeConnection:
        conn = await self.model.next_connection(timeout=10)
        await conn.wait_for("session.update")
        return conn


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    desk = RealtimeAgent(
        name="desk",
        instructions="Answer the phone.",
        tools=[end_call, make_transfer_call(NO_APPROVAL)],
    )
    async with FakeRealtimeServer() as model:
        sessions = CallSessions(
            agents={"desk": desk}, start_agent="desk", url=model.url, api_key="sk-test"
        )
        served: Served

        async def on_call(call: SipCall) -> None:
            served.calls.append(call)
            await sessions.handle_sip_call(call)

        config = SipConfig(host="127.0.0.1", port=0)
        async with SipServer(config, on_call=on_call, prepare=sessions.prepare_sip_call) as server:
            served = Served(server, model)
            yield served


async def test_end_call_tool_hangs_up_with_bye(served: Served, tmp_path: Path) -> None:
    sipp = asyncio.ensure_future(
        run_sipp(SCENARIOS / "server_hangup.xml", served.server.address, workdir=tmp_path)
    )
    conn = await served.connection()
    await conn.respond_function_call("end_call", {})
    result = await sipp
    assert result.returncode == 0, result.stderr
    (call,) = served.calls
    assert call.end_reason == "local hangup"
    output = await conn.wait_for(
        "conversation.item.create", where=lambda e: e["item"]["type"] == "function_call_output"
    )
    assert output["item"]["output"] == "The call has ended."


async def test_transfer_call_tool_sends_refer(served: Served, tmp_path: Path) -> None:
    sipp = asyncio.ensure_future(
        run_sipp(SCENARIOS / "transfer.xml", served.server.address, workdir=tmp_path)
    )
    conn = await served.connection()
    await conn.respond_function_call("transfer_call", {"target": "sip:frontdesk@127.0.0.1"})
    result = await sipp
    assert result.returncode == 0, result.stderr + result.stdout[-2000:]
    (call,) = served.calls
    assert call.transfer_status == 200  # the NOTIFY said the transfer succeeded
    assert call.end_reason == "transferred"  # and our leg ended with a BYE (SIPp got it)
    output = await conn.wait_for(
        "conversation.item.create", where=lambda e: e["item"]["type"] == "function_call_output"
    )
    assert "transferred to sip:frontdesk@127.0.0.1" in output["item"]["output"]


async def test_keypad_digits_reach_the_session(served: Served, tmp_path: Path) -> None:
    media = f'<nop><action><exec play_pcap_audio="{PCAPS}/dtmf_2833_5.pcap"/></action></nop>'
    sipp = asyncio.ensure_future(
        run_sipp(
            call_scenario(tmp_path, media=media),
            served.server.address,
            duration_ms=2500,
            workdir=tmp_path,
        )
    )
    conn = await served.connection()

    def pressed(event: dict[str, Any]) -> bool:
        content = event["item"].get("content") or [{}]
        return "pressed 5" in str(content[0].get("text", ""))

    await conn.wait_for("conversation.item.create", where=pressed, timeout=8)
    assert (await sipp).returncode == 0


async def test_barge_in_flushes_queued_rtp(served: Served, tmp_path: Path) -> None:
    sipp = asyncio.ensure_future(
        run_sipp(
            call_scenario(tmp_path, codecs="0"),
            served.server.address,
            duration_ms=3000,
            workdir=tmp_path,
        )
    )
    conn = await served.connection()
    # five seconds of loud agent audio arrive at once; RTP plays them at 20 ms a frame
    await conn.respond_audio("a very long answer", audio=b"\x00" * 40_000, chunks=10)
    await asyncio.sleep(0.5)
    (call,) = served.calls
    queued = call.rtp.playout.buffered_bytes
    assert queued > 30_000
    await conn.user_turn()  # the caller starts talking over the agent
    truncate = await conn.wait_for("conversation.item.truncate")
    assert call.rtp.playout.buffered_bytes == 0  # nothing more of the answer is sent
    played_ms = call.rtp.playout.played_bytes_total // 8
    # truncated where the caller stopped hearing it (reported by the RTP pacer)
    assert abs(truncate["audio_end_ms"] - played_ms) <= 60
    assert (await sipp).returncode == 0


async def test_unreachable_model_gets_503_not_dead_air(served: Served, tmp_path: Path) -> None:
    served.model.stop_listening()  # the model is down: the session cannot connect
    result = await run_sipp(SCENARIOS / "unavailable.xml", served.server.address, workdir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert served.calls == [] and served.server.calls == {}


async def test_transfer_needs_an_operator_and_unattended_serve_denies_it(tmp_path: Path) -> None:
    desk = RealtimeAgent(name="desk", instructions="Answer the phone.", tools=[transfer_call])
    async with FakeRealtimeServer() as model:
        sessions = CallSessions(
            agents={"desk": desk},
            start_agent="desk",
            url=model.url,
            api_key="sk-test",
            listeners=auto_approvals("deny"),
        )
        config = SipConfig(host="127.0.0.1", port=0)
        async with SipServer(
            config, on_call=sessions.handle_sip_call, prepare=sessions.prepare_sip_call
        ) as server:
            sipp = asyncio.ensure_future(
                run_sipp(
                    call_scenario(tmp_path), server.address, duration_ms=2000, workdir=tmp_path
                )
            )
            conn = await model.next_connection(timeout=10)
            await conn.wait_for("session.update")
            await conn.respond_function_call("transfer_call", {"target": "tel:+15550100"})
            output = await conn.wait_for(
                "conversation.item.create",
                where=lambda e: e["item"]["type"] == "function_call_output",
            )
            result = await sipp  # a REFER would have been an unexpected message: failure
    assert NO_OPERATOR in output["item"]["output"]
    assert result.returncode == 0, result.stderr
