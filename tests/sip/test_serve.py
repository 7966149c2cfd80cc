"""`agentgraph serve` end to end: SIPp calls the served graph, the embedded engine answers
over G.711 RTP, the routed agent's tool runs, and the reply goes back as RTP."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agentgraph.app.serve import ServeOptions, serve_graph
from agentgraph.cli import main
from agentgraph.transports.sip.server import SipCall, SipServer
from tests.sip.caller_audio import write_ulaw
from tests.sip.sipp import call_scenario, needs_sipp, run_sipp

pytestmark = [needs_sipp, pytest.mark.peer, pytest.mark.slow]
GRAPH = Path(__file__).parents[2] / "examples" / "graphs" / "weather.yaml"


async def watch_calls(server: SipServer, seen: list[SipCall], stop: asyncio.Event) -> None:
    while not stop.is_set():
        for call in server.calls.values():
            if call not in seen:
                seen.append(call)
        await asyncio.sleep(0.05)


async def test_served_graph_answers_a_sip_call_with_tool_and_audio(tmp_path: Path) -> None:
    events: list[Any] = []
    ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    opts = ServeOptions(graph=GRAPH, listen="127.0.0.1:0", provider="local")
    task = asyncio.ensure_future(
        serve_graph(opts, ready=ready, stop=stop, on_event=lambda _c, e: events.append(e))
    )
    server = await asyncio.wait_for(ready, 30)
    seen: list[SipCall] = []
    watcher = asyncio.ensure_future(watch_calls(server, seen, stop))
    speech = write_ulaw(tmp_path / "tokyo.ulaw", "What's the weather in Tokyo?")
    media = f'<nop><action><exec rtp_stream="{speech},1,0"/></action></nop>'
    result = await run_sipp(
        call_scenario(tmp_path, media=media, codecs="0"),
        server.address,
        duration_ms=8000,
        workdir=tmp_path,
    )
    stop.set()
    stats = await task
    await watcher
    assert result.returncode == 0, result.stderr
    assert stats["calls_completed"] == 1 and stats["calls_failed"] == 0
    tools = [(e.tool_name, e.output) for e in events if e.type == "tool_end"]
    assert tools and tools[0][0] == "get_weather" and "Tokyo" in tools[0][1]
    agent_audio = sum(len(e.audio) for e in events if e.type == "audio_delta")
    assert agent_audio > 8000  # more than a second of G.711 reply
    (call,) = seen
    # the reply went out as RTP: the pacer pulled (and reported) the agent's audio
    assert call.rtp.playout.played_bytes_total >= agent_audio * 0.9
    assert call.rtp.media is not None and call.rtp.media.codec.name == "PCMU"


def test_serve_cli_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve"]) == 2
    assert "give a graph file, or --loopback" in capsys.readouterr().err
    assert main(["serve", "missing.yaml"]) == 2
    assert "graph file not found" in capsys.readouterr().err
    assert main(["serve", "--loopback", "--listen", "nonsense"]) == 2
    assert "--listen must be HOST:PORT" in capsys.readouterr().err


def _free_tcp_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_serve_wires_openai_sip_webhook_and_media_streams(tmp_path: Path) -> None:
    import json
    import time

    import httpx
    import websockets

    from agentgraph.transports.openai_sip.webhook import sign_webhook

    secret = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seQ=="
    hook_port, ms_port = _free_tcp_port(), _free_tcp_port()
    graph = tmp_path / "graph.yaml"
    graph.write_text(
        GRAPH.read_text()
        + (
            "sip:\n  listen: 127.0.0.1:5060\n  openai:\n"
            f"    webhook_secret: {secret}\n    listen: 127.0.0.1:{hook_port}\n"
        )
    )
    ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    opts = ServeOptions(
        graph=graph,
        listen="127.0.0.1:0",
        provider="local",
        openai_sip=True,
        media_streams=f"127.0.0.1:{ms_port}",
        quiet=True,
    )
    task = asyncio.ensure_future(
        serve_graph(opts, ready=ready, stop=stop, on_event=lambda _c, _e: None)
    )
    try:
        await asyncio.wait_for(ready, 30)
        url = f"http://127.0.0.1:{hook_port}/openai/webhook"
        body = json.dumps(
            {
                "type": "realtime.call.incoming",
                "id": "evt_1",
                "data": {"call_id": "rtc_1", "sip_headers": []},
            }
        ).encode()
        ts = int(time.time())
        async with httpx.AsyncClient(timeout=5) as http:
            bad = await http.post(
                url,
                content=body,
                headers={
                    "webhook-id": "wh_1",
                    "webhook-timestamp": str(ts),
                    "webhook-signature": "v1,Zm9v",
                },
            )
            good = await http.post(
                url,
                content=body,
                headers={
                    "webhook-id": "wh_1",
                    "webhook-timestamp": str(ts),
                    "webhook-signature": sign_webhook(secret, "wh_1", ts, body),
                },
            )
        assert (bad.status_code, good.status_code) == (401, 200)
        async with websockets.connect(f"ws://127.0.0.1:{ms_port}/media-stream") as ws:
            await ws.send(json.dumps({"event": "connected"}))
            await ws.send(json.dumps({"event": "stop"}))
    finally:
        stop.set()
        await task
