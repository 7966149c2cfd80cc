"""Prometheus metrics a proxy operator reads (`serve --metrics`): turns and voice-to-voice
latency from session events, tool errors, and RTP figures per ended call, served over
HTTP in Prometheus' text format."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from agentgraph.app.serve_metrics import ServeMetrics
from agentgraph.transports.sip.events import SipConfig
from agentgraph.transports.sip.server import SipServer


@dataclass
class Event:
    type: str
    ok: bool = True


async def test_metrics_count_turns_latency_and_tool_errors() -> None:
    metrics = ServeMetrics()
    async with SipServer(SipConfig(host="127.0.0.1", port=0)) as server:
        metrics.server = server
        httpd, port = metrics.start_http("127.0.0.1", 0)
        try:
            for call in ("a", "b"):
                metrics.on_event(call, Event("speech_stopped"))
                metrics.on_event(call, Event("audio_delta"))
                metrics.on_event(call, Event("audio_delta"))  # same turn: counted once
            metrics.on_event("a", Event("tool_end", ok=False))
            metrics.on_event("a", Event("tool_end"))
            server.core.drain()
            async with httpx.AsyncClient(timeout=5) as http:
                text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
        finally:
            httpd.shutdown()
            httpd.server_close()
    lines = dict(
        line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    assert lines["agentgraph_turns_total"] == "2.0"
    assert lines["agentgraph_voice_to_voice_seconds_count"] == "2.0"
    assert lines['agentgraph_voice_to_voice_seconds_bucket{le="0.2"}'] == "2.0"
    assert lines["agentgraph_tool_errors_total"] == "1.0"
    assert lines["agentgraph_draining"] == "1.0"
    assert lines["agentgraph_calls_active"] == "0.0"
