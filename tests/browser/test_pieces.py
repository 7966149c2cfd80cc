"""The playground's pieces without a browser: the SVG picture, report.html, the browser
transport's playback accounting, the loopback rule, and colour in the console."""

from __future__ import annotations

import asyncio
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agentgraph.cli import main
from tests.browser.conftest import REPO

SVG = "{http://www.w3.org/2000/svg}"


def test_graph_format_svg_draws_agents_handoffs_tools_and_approvals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["graph", str(REPO / "examples/graphs/triage.yaml"), "--format", "svg"]) == 0
    svg = capsys.readouterr().out
    root = ET.fromstring(svg)  # well-formed, standalone
    agents = {
        g.get("data-agent"): g.get("class") for g in root.iter(f"{SVG}g") if g.get("data-agent")
    }
    assert agents == {"triage": "agent start", "booking": "agent", "support": "agent"}
    edges = [p for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]
    assert len(edges) == 5  # triage->booking, triage->support, booking->triage, support->*2
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert "handoff: support -> booking" in titles
    assert "approval: caller: time < '09:00' or time > '17:00'" in titles
    assert "book_appointment [approval: caller]" in svg


def _run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "20261203-090000"
    run.mkdir()
    events = [
        {"type": "agent_start", "agent": "weather", "t": 0.0},
        {"type": "caller_text", "text": "What's the weather in Tokyo?", "t": 0.1},
        {
            "type": "tool_approval_required",
            "tool_name": "get_weather",
            "call_id": "c1",
            "arguments": '{"city": "Tokyo"}',
            "message": "Look up Tokyo?",
            "t": 0.2,
        },
        {
            "type": "tool_start",
            "tool_name": "get_weather",
            "arguments": '{"city": "Tokyo"}',
            "t": 0.3,
        },
        {
            "type": "tool_end",
            "tool_name": "get_weather",
            "output": "Sunny <b>",
            "ok": True,
            "t": 0.4,
        },
        {"type": "latency", "agent": "weather", "latency_ms": 123.4, "t": 0.5},
        {"type": "transcript_done", "transcript": "It is sunny in Tokyo.", "t": 0.9},
        {"type": "handoff", "from_agent": "weather", "to_agent": "travel", "t": 1.0},
        {"type": "playback_interrupted", "item_id": "i1", "heard_ms": 800.0, "t": 1.2},
    ]
    lines = [json.dumps(e) for e in events] + ['{"type": "cut short']
    (run / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = {
        "graph": "weather.yaml",
        "provider": "local",
        "turns": {"caller_turns": 1},
        "tool_calls": [{}],
        "approvals": [{}],
        "handoffs": [{}],
        "latency": {"all": {"turns": 1, "p50_ms": 123.4, "p95_ms": 123.4}},
    }
    (run / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return run


def test_report_is_one_page_with_the_timeline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _run_dir(tmp_path)
    assert main(["report", str(run)]) == 0
    assert capsys.readouterr().out.strip() == str(run / "report.html")
    html = (run / "report.html").read_text(encoding="utf-8")
    assert "caller</td><td>What&#x27;s the weather in Tokyo?" in html
    assert "Look up Tokyo? — get_weather(city=&quot;Tokyo&quot;)" in html
    assert "→ get_weather(city=&quot;Tokyo&quot;)" in html
    assert "Sunny &lt;b&gt;" in html  # tool output is text, never markup
    assert 'weather</td><td>It is sunny in Tokyo. <span class="lat">[123 ms]</span>' in html
    assert "weather → travel" in html
    assert "the caller heard 0.80 s of that reply" in html
    assert "<audio" not in html  # no --record, no audio
    assert "http" not in html.replace("http://www.w3.org", "")  # nothing loaded from outside


def test_report_of_a_folder_without_records_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path)]) == 2
    assert "has no events.jsonl" in capsys.readouterr().err


def test_play_refuses_a_non_loopback_host_without_allow_remote(
    capsys: pytest.CaptureFixture[str],
) -> None:
    graph = str(REPO / "examples/graphs/weather.yaml")
    assert main(["play", graph, "--host", "0.0.0.0", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert "not a loopback address" in err and "--allow-remote" in err


class _Link:
    def __init__(self, incoming: list[Any]) -> None:
        self.incoming = incoming
        self.sent: list[Any] = []
        self.go = asyncio.Event()

    async def receive(self) -> Any:
        await self.go.wait()
        return self.incoming.pop(0) if self.incoming else None

    def send_json(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    def send_bytes(self, data: bytes) -> None:
        self.sent.append(data)


class _Session:
    def __init__(self, events: list[Any], link: _Link) -> None:
        self.events = events
        self.link = link
        self.audio: list[bytes] = []

    async def send_audio(self, audio: bytes, *, commit: bool = False) -> None:
        self.audio.append(audio)

    async def send_message(self, text: str) -> None:
        pass

    async def receive_dtmf(self, digits: str) -> None:
        pass

    async def interrupt(self) -> None:
        pass

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[Any]:
        for event in self.events:
            yield event
        self.link.go.set()  # the page answers after it got everything
        await asyncio.sleep(3600)


class _Tracker:
    def __init__(self) -> None:
        self.played: list[tuple[str, int]] = []
        self.interrupted = 0

    def on_play_bytes(self, item_id: str, content_index: int, data: bytes) -> None:
        self.played.append((item_id, len(data)))

    def on_play_ms(self, item_id: str, content_index: int, ms: float) -> None:
        pass

    def on_interrupted(self) -> None:
        self.interrupted += 1


async def test_browser_transport_counts_only_audio_the_page_played_before_a_stop() -> None:
    from agentgraph.realtime import events as se
    from agentgraph.transports.browser import BrowserTransport

    def delta(item: str, n: int) -> Any:
        return se.RealtimeAudioEvent(audio=bytes(n), item_id=item)

    events = [
        delta("a", 4800),
        delta("a", 4800),
        se.RealtimeAudioInterruptedEvent(item_id="a"),
        delta("b", 960),
    ]
    incoming = [
        b"\x01\x00" * 480,  # caller audio
        b"\x01\x00\x02",  # odd length: not PCM16, dropped
        {"type": "played", "samples": 1200, "gen": 0},  # before the stop: stale
        {"type": "played", "samples": 480, "gen": 1},  # reply b, after the stop
        {"type": "hangup"},
    ]
    link = _Link(incoming)
    transport = BrowserTransport(link)
    tracker = _Tracker()
    transport.playback_tracker = tracker
    session = _Session(events, link)
    await asyncio.wait_for(transport.run(session), 5)
    assert transport.hung_up and transport.bad_frames == 1
    assert session.audio == [b"\x01\x00" * 480]
    assert tracker.interrupted == 1
    assert tracker.played == [("b", 960)]  # a's audio was dropped at the stop
    kinds = [m if isinstance(m, dict) else len(m) for m in link.sent]
    assert kinds == [
        {"type": "audio_item", "item_id": "a", "gen": 0},
        4800,
        4800,
        {"type": "stop", "gen": 1},
        {"type": "audio_item", "item_id": "b", "gen": 1},
        960,
    ]


def test_console_colour_follows_the_terminal_and_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentgraph.app.console import ConsoleRenderer

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    out = Tty()
    ConsoleRenderer(out=out).note("hello")
    assert "\x1b[" in out.getvalue()
    assert not ConsoleRenderer(out=io.StringIO()).color  # not a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    out = Tty()
    ConsoleRenderer(out=out).note("hello")
    assert out.getvalue() == "hello\n"
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert not ConsoleRenderer(out=Tty()).color


async def test_only_the_playground_page_may_open_a_conversation(
    play_server: Any, tmp_path: Path
) -> None:
    """Any site the user visits could make the browser connect to a loopback port: the
    websocket needs the page's own Origin, and a rebound DNS name is refused."""
    import httpx
    import websockets
    from websockets.exceptions import InvalidStatus

    server = await asyncio.to_thread(play_server, REPO / "examples/graphs/weather.yaml")
    ws_url = server.url.replace("http://", "ws://") + "ws"
    own = server.url.rstrip("/")
    for origin in ("http://evil.example", None):
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(ws_url, origin=origin):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403
    async with websockets.connect(ws_url, origin=own) as ws:  # type: ignore[arg-type]
        hello = json.loads(await ws.recv())
        assert hello["type"] == "hello" and hello["name"] == "Weather assistant"
    async with httpx.AsyncClient() as client:
        assert (await client.get(server.url)).status_code == 200
        port = server.url.rsplit(":", 1)[1].strip("/")
        rebound = await client.get(server.url, headers={"Host": f"evil.example:{port}"})
        assert rebound.status_code == 403
