"""An agent with a greeting speaks first on phone calls: on a direct SIP call the caller
hears it as soon as media flows (SIPp as the phone, the embedded engine as the model, the
caller silent); through the OpenAI SIP connector the attached session asks for the
greeting once, instead of the generic first response."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from agentgraph.engine import EmbeddedEngine
from agentgraph.realtime import Greeting, RealtimeAgent
from agentgraph.transports.openai_sip.rest import CallsClient
from agentgraph.transports.openai_sip.server import OpenAISipConnector
from agentgraph.transports.sip.events import SipConfig
from agentgraph.transports.sip.server import SipCall, SipServer
from agentgraph.transports.sip.sessions import CallSessions
from tests.fakes import FakeRealtimeServer
from tests.sip.fake_calls_api import FakeCallsApi
from tests.sip.sipp import call_scenario, needs_sipp, run_sipp
from tests.sip.test_openai_sip import NOW, SECRET, incoming, signed

GREETING = "Thank you for calling the clinic. How can I help?"


@needs_sipp
async def test_direct_sip_caller_hears_the_greeting_without_saying_anything(
    tmp_path: Path,
) -> None:
    desk = RealtimeAgent(name="desk", instructions="Answer the phone.", greeting=GREETING)
    events: list[Any] = []
    calls: list[SipCall] = []
    async with EmbeddedEngine() as engine:
        sessions = CallSessions(
            agents={"desk": desk},
            start_agent="desk",
            url=engine.url,
            api_key="local",
            on_event=lambda _call, event: events.append(event),
        )

        async def on_call(call: SipCall) -> None:
            calls.append(call)
            await sessions.handle_sip_call(call)

        config = SipConfig(host="127.0.0.1", port=0)
        async with SipServer(config, on_call=on_call, prepare=sessions.prepare_sip_call) as server:
            result = await run_sipp(
                call_scenario(tmp_path, media="", codecs="0"),  # the caller sends no audio
                server.address,
                duration_ms=6000,
                workdir=tmp_path,
            )
    assert result.returncode == 0, result.stderr
    said = [e.transcript for e in events if e.type == "transcript_done"]
    assert said[:1] == [GREETING]
    assert not [e for e in events if e.type in ("speech_started", "input_transcript_done")]
    greeting_audio = sum(len(e.audio) for e in events if e.type == "audio_delta")
    assert greeting_audio > 8000  # more than a second of G.711
    (call,) = calls
    # it went out as RTP once the call was answered: the pacer played it to the caller
    assert call.rtp.playout.played_bytes_total >= greeting_audio * 0.9


async def test_openai_connector_asks_for_the_greeting_once() -> None:
    desk = RealtimeAgent(
        name="desk",
        instructions="You answer the clinic's phone.",
        greeting=Greeting(instructions="Greet the caller and say the clinic's name."),
    )
    with FakeCallsApi() as api:
        async with FakeRealtimeServer() as realtime:
            sessions = CallSessions(
                agents={"desk": desk},
                start_agent="desk",
                url=realtime.url,
                api_key="sk-test",
            )
            connector = OpenAISipConnector(
                secret=SECRET,
                sessions=sessions,
                calls=CallsClient(api.base_url, api_key="sk-test"),
                clock=lambda: NOW,
            )
            async with connector, httpx.AsyncClient(timeout=5) as http:
                body = incoming()
                answer = await http.post(connector.url, content=body, headers=signed(body))
                assert answer.status_code == 200
                conn = await realtime.next_connection()
                first = await conn.wait_for("response.create")
                assert first["response"]["instructions"] == (
                    "Greet the caller and say the clinic's name."
                )
                assert first["response"]["tool_choice"] == "none"
                await conn.respond_audio("Hello, this is the clinic.")
                await asyncio.sleep(0.2)  # nothing else may follow the greeting by itself
                assert conn.types().count("response.create") == 1
                await conn.ws.close()
