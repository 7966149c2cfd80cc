"""Prometheus metrics for `agentgraph serve --metrics HOST:PORT`.

What an operator needs to run workers behind a proxy: calls active, answered (the caller
heard agent audio), completed, failed and refused (by reason: capacity, half-open,
draining, not allowed, no model), turns, voice-to-voice latency (caller stops speaking
-> first agent audio), tool errors, and per-call RTP jitter and loss. Call counters are
read from the SIP server when scraped (one source of truth); per-turn figures are fed
from the session events. A registry of its own, so several servers in one process
(tests) do not collide. `prometheus-client` runs the HTTP endpoint in a thread.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from agentgraph.errors import UsageError

__all__ = ["ServeMetrics"]

LATENCY_BUCKETS = (0.2, 0.4, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
JITTER_BUCKETS = (0.001, 0.002, 0.005, 0.010, 0.020, 0.040, 0.080, 0.160)


def _client() -> Any:
    try:
        import prometheus_client
    except ImportError:
        raise UsageError(
            "--metrics needs prometheus-client: pip install 'agentgraph[phone]'"
        ) from None
    return prometheus_client


class ServeMetrics:
    """Counters and histograms of one `serve` process, in their own registry."""

    def __init__(self) -> None:
        prom = _client()
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        self._counter_family = CounterMetricFamily
        self._gauge_family = GaugeMetricFamily
        self.registry = prom.CollectorRegistry()
        self.server: Any = None
        self.port = 0  # where /metrics is served, once started
        self.turns = prom.Counter(
            "agentgraph_turns", "Caller turns the agent answered with audio", registry=self.registry
        )
        self.tool_errors = prom.Counter(
            "agentgraph_tool_errors", "Tool calls that failed", registry=self.registry
        )
        self.latency = prom.Histogram(
            "agentgraph_voice_to_voice_seconds",
            "Caller stops speaking -> first agent audio",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.jitter = prom.Histogram(
            "agentgraph_rtp_jitter_seconds",
            "RFC 3550 interarrival jitter of each call's caller audio, at its end",
            buckets=JITTER_BUCKETS,
            registry=self.registry,
        )
        self.lost = prom.Counter(
            "agentgraph_rtp_packets_lost",
            "Caller RTP packets never received",
            registry=self.registry,
        )
        self.received = prom.Counter(
            "agentgraph_rtp_packets_received", "Caller RTP packets received", registry=self.registry
        )
        self._speech_stopped: dict[str, float] = {}
        self.registry.register(self)  # collect() below: the SIP server's counters

    # --- feeding --------------------------------------------------------------------

    def on_event(self, call_id: str, event: Any) -> None:
        """Session event observer (turns, latency, tool errors)."""
        kind = getattr(event, "type", "")
        if kind == "speech_stopped":
            self._speech_stopped[call_id] = time.monotonic()
        elif kind == "audio_delta":
            stopped = self._speech_stopped.pop(call_id, None)
            if stopped is not None:
                self.turns.inc()
                self.latency.observe(time.monotonic() - stopped)
        elif kind == "tool_end" and not getattr(event, "ok", True):
            self.tool_errors.inc()

    def on_call_end(self, call: Any) -> None:
        """`SipServer.on_call_end`: per-call RTP figures."""
        self._speech_stopped.pop(call.call_id, None)
        rtp = call.rtp
        if rtp.packets_received:
            self.jitter.observe(rtp.jitter_ms / 1000)
        self.lost.inc(rtp.packets_lost)
        self.received.inc(rtp.packets_received)

    # --- prometheus_client collector --------------------------------------------------

    def describe(self) -> list[Any]:
        return []  # collected live; nothing to check at registration

    def collect(self) -> Iterator[Any]:
        server = self.server
        if server is None:
            return
        core = server.core
        counter, gauge = self._counter_family, self._gauge_family
        active = sum(1 for c in list(server.calls.values()) if c.started)
        yield gauge("agentgraph_calls_active", "Calls in conversation", value=active)
        yield gauge(
            "agentgraph_calls_half_open",
            "Calls ringing or awaiting ACK",
            value=core.half_open_calls,
        )
        yield gauge(
            "agentgraph_draining", "1 while draining (refusing new calls)", value=int(core.draining)
        )
        yield counter(
            "agentgraph_calls_answered",
            "Calls where the caller heard agent audio",
            value=server.answered_calls,
        )
        yield counter(
            "agentgraph_calls_completed", "Calls that ended normally", value=server.completed_calls
        )
        yield counter(
            "agentgraph_calls_failed", "Calls that ended abnormally", value=server.failed_calls
        )
        refused = counter(
            "agentgraph_calls_refused", "INVITEs refused before answering", labels=["reason"]
        )
        for reason, n in sorted(core.refused.items()):
            refused.add_metric([reason], n)
        refused.add_metric(["no model"], server.refused_unprepared)
        yield refused
        yield counter(
            "agentgraph_sip_rate_limited",
            "SIP datagrams dropped by the per-source rate limit",
            value=core.rate_limited,
        )

    # --- endpoint ---------------------------------------------------------------------

    def start_http(self, host: str, port: int) -> tuple[Any, int]:
        """Serve /metrics on host:port (port 0 picks one); returns (server, port)."""
        prom = _client()
        try:
            httpd, _thread = prom.start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise UsageError(
                f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}"
            ) from exc
        return httpd, int(httpd.server_address[1])
