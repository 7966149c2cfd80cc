"""The embedded engine's OpenAI SIP connector endpoints (realtime-protocol.md §8.4/§8.5):
accept/reject/refer/hangup on the websocket port, `?call_id=` attaches to the accepted
call, and `serve --openai-sip` runs webhook -> accept -> session -> hangup offline."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from agentgraph.app.serve import ServeOptions, serve_graph
from agentgraph.engine import EmbeddedEngine
from agentgraph.transports.openai_sip.rest import CallGone, CallsClient, RestError
from agentgraph.transports.openai_sip.webhook import sign_webhook

AUTH = {"Authorization": "Bearer test"}
SECRET = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seQ=="
GRAPH = Path(__file__).parents[2] / "examples" / "graphs" / "weather.yaml"


def _rest(engine: EmbeddedEngine) -> CallsClient:
    return CallsClient(f"http://127.0.0.1:{engine.port}/v1", api_key="test")


async def test_accept_attach_and_hangup_close_the_call_socket() -> None:
    async with EmbeddedEngine(voice_input=False) as engine:
        call_id = engine.calls.ring()["data"]["call_id"]
        calls = _rest(engine)
        with pytest.raises(InvalidStatus) as early:  # not accepted yet: nothing to attach to
            async with websockets.connect(
                engine.url + f"?call_id={call_id}", additional_headers=AUTH
            ):
                pass
        assert early.value.response.status_code == 404
        await calls.accept(
            call_id, {"instructions": "You are the front desk.", "model": "gpt-realtime"}
        )
        async with websockets.connect(
            engine.url + f"?call_id={call_id}", additional_headers=AUTH
        ) as ws:
            created = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert created["type"] == "session.created"
            assert created["session"]["instructions"] == "You are the front desk."
            await calls.hangup(call_id)
            with pytest.raises(ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            assert ws.close_code == 1000
        assert engine.calls.calls[call_id].ended_by == "hangup"
        with pytest.raises(CallGone):  # over: 404, which the connector treats as done
            await calls.hangup(call_id)


async def test_reject_refer_and_bad_requests_get_clear_statuses() -> None:
    async with EmbeddedEngine(voice_input=False) as engine:
        calls = _rest(engine)
        with pytest.raises(CallGone):
            await calls.accept("rtc_unknown", {})
        rejected = engine.calls.ring()["data"]["call_id"]
        await calls.reject(rejected, 486)
        assert engine.calls.calls[rejected].ended_by == "reject 486"
        bad = engine.calls.ring()["data"]["call_id"]
        with pytest.raises(RestError) as invalid:
            await calls.accept(bad, {"voice_typo": "marin"})
        assert invalid.value.status == 400 and "unknown_parameter" in str(invalid.value)
        await calls.accept(bad, {})
        await calls.refer(bad, "tel:+14155550123")
        assert engine.calls.calls[bad].ended_by == "refer tel:+14155550123"
        other = engine.calls.ring()["data"]["call_id"]
        with pytest.raises(RestError) as unauthenticated:
            await CallsClient(f"http://127.0.0.1:{engine.port}/v1").accept(other, {})
        assert unauthenticated.value.status == 401
        async with httpx.AsyncClient(timeout=5) as http:
            huge = await http.post(
                f"http://127.0.0.1:{engine.port}/v1/realtime/calls/{other}/accept",
                content=b"x" * (1 << 20),
                headers=AUTH,
            )
        assert huge.status_code == 413
        assert engine.calls.calls[other].state == "ringing"


async def test_serve_openai_sip_runs_a_call_end_to_end_on_the_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with EmbeddedEngine(voice_input=False) as engine:
        graph = tmp_path / "graph.yaml"
        text = GRAPH.read_text().replace(
            "model: {provider: auto, name: gpt-realtime}",
            f"model: {{provider: local, name: gpt-realtime, base_url: 'ws://127.0.0.1:{engine.port}/v1/realtime'}}",
        )
        graph.write_text(
            text
            + "sip:\n  listen: 127.0.0.1:0\n  openai:\n"
            + f"    webhook_secret: {SECRET}\n    listen: 127.0.0.1:0\n"
        )
        ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()
        said: list[str] = []
        greeted = asyncio.Event()

        def on_event(_call: str, event: Any) -> None:
            if getattr(event, "type", "") == "transcript_done":
                said.append(event.transcript)
                greeted.set()

        records = tmp_path / "records"
        opts = ServeOptions(
            graph=graph, listen="127.0.0.1:0", openai_sip=True, quiet=True, records_dir=records
        )
        task = asyncio.ensure_future(serve_graph(opts, ready=ready, stop=stop, on_event=on_event))
        try:
            await asyncio.wait_for(ready, 30)
            # the graph asked for port 0: serve's console line says where the webhook is
            found = re.search(r"OpenAI SIP webhook on (http://\S+)", capsys.readouterr().err)
            assert found is not None
            hook_url = found.group(1)
            event = engine.calls.ring(to="+15550199")
            call_id = event["data"]["call_id"]
            body = json.dumps(event).encode()
            ts = int(time.time())
            async with httpx.AsyncClient(timeout=5) as http:
                answer = await http.post(
                    hook_url,
                    content=body,
                    headers={
                        "webhook-id": "wh_e2e",
                        "webhook-timestamp": str(ts),
                        "webhook-signature": sign_webhook(SECRET, "wh_e2e", ts, body),
                    },
                )
            assert answer.status_code == 200
            await asyncio.wait_for(greeted.wait(), 30)  # accepted, attached, greeted
            assert engine.calls.calls[call_id].state == "accepted"
            assert said and said[0]
            await _rest(engine).hangup(call_id)
            for _ in range(200):
                if not engine._call_sockets.get(call_id):
                    break
                await asyncio.sleep(0.05)
            assert engine.calls.calls[call_id].ended_by == "hangup"
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
        # serve wrote this call's records, as `run` does
        summary = json.loads((records / call_id / "summary.json").read_text())
        assert summary["call_id"] == call_id
        assert said[0] in (records / call_id / "transcript.txt").read_text()
