"""Console renderer, session records and latency: fed real session events in order."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path

import numpy as np

from agentgraph.app.console import ConsoleRenderer, format_call
from agentgraph.app.eventdata import event_to_dict
from agentgraph.app.hub import SessionHub
from agentgraph.app.latency import LatencyMeter, percentile
from agentgraph.app.records import SessionRecorder, new_run_dir
from agentgraph.realtime import RealtimeAgent
from agentgraph.realtime import events as ev

WEATHER = RealtimeAgent(name="weather", instructions="Tell the weather.")
BOOKING = RealtimeAgent(name="booking", instructions="Book.")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def weather_turn(hub: SessionHub, clock: Clock) -> None:
    """One typed turn with a tool call, then 0.4 s later the first played audio."""
    hub.dispatch(ev.RealtimeConnectionEvent(status="connected"))
    hub.dispatch(ev.RealtimeAgentStartEvent(agent=WEATHER))
    hub.caller_text("What's the weather in Tokyo?")
    clock.now += 0.1
    hub.dispatch(
        ev.RealtimeToolStartEvent(
            agent=WEATHER, tool_name="get_weather", call_id="call_1", arguments='{"city": "Tokyo"}'
        )
    )
    hub.dispatch(
        ev.RealtimeToolEndEvent(
            agent=WEATHER,
            tool_name="get_weather",
            call_id="call_1",
            arguments='{"city": "Tokyo"}',
            output="Sunny, 24 C",
        )
    )
    clock.now += 0.2
    audio = np.full(2400, 8000, dtype="<i2").tobytes()  # 100 ms
    hub.dispatch(ev.RealtimeAudioEvent(audio=audio, item_id="item_2"))
    clock.now += 0.1
    tracker = hub.tracker(None)
    tracker.on_play_bytes("item_2", 0, audio)
    hub.dispatch(
        ev.RealtimeTranscriptDoneEvent(item_id="item_2", transcript="It is sunny in Tokyo.")
    )


def test_console_text_shows_turn_tool_call_and_latency() -> None:
    out = io.StringIO()
    clock = Clock()
    hub = SessionHub([ConsoleRenderer("text", out=out, color=False)], clock=clock)
    weather_turn(hub, clock)
    hub.dispatch(ev.RealtimeHandoffEvent(from_agent=WEATHER, to_agent=BOOKING))
    hub.dispatch(
        ev.RealtimeGuardrailTrippedEvent(
            guardrail_name="no_prices", message="No prices.", text="It costs $5"
        )
    )
    hub.dispatch(ev.RealtimeAudioInterruptedEvent(item_id="item_2"))
    hub.dispatch(ev.RealtimeConnectionEvent(status="reconnecting", attempt=1, reason="1006"))
    hub.dispatch(ev.RealtimeErrorEvent(error={"message": "bad key sk-abcdefghijklmnop"}))
    assert out.getvalue().splitlines() == [
        "you: What's the weather in Tokyo?",
        '  -> get_weather(city="Tokyo")',
        "  <- get_weather: Sunny, 24 C",
        "weather: It is sunny in Tokyo.   [400 ms]",
        "  => handoff: weather -> booking",
        "  ! guardrail no_prices blocked (not said): It costs $5",
        "  ! said instead: No prices.",
        "  ~ interrupted: the caller heard 0.10 s of that reply",
        "  reconnecting (attempt 1): 1006",
        "  error: bad key [redacted]",
    ]


def test_console_quiet_prints_only_the_transcript() -> None:
    out = io.StringIO()
    clock = Clock()
    hub = SessionHub([ConsoleRenderer("quiet", out=out)], clock=clock)
    weather_turn(hub, clock)
    assert out.getvalue().splitlines() == [
        "you: What's the weather in Tokyo?",
        "weather: It is sunny in Tokyo.",
    ]


def test_console_json_lines_have_no_audio_bytes() -> None:
    out = io.StringIO()
    clock = Clock()
    hub = SessionHub([ConsoleRenderer("json", out=out)], clock=clock)
    weather_turn(hub, clock)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    types = [r["type"] for r in records]
    assert types == [
        "connection",
        "agent_start",
        "tool_start",
        "tool_end",
        "audio_delta",
        "latency",
        "transcript_done",
    ]
    audio = records[4]
    assert audio["audio"] == {"bytes": 4800} and audio["item_id"] == "item_2"
    assert records[1]["agent"] == "weather"
    assert records[5]["latency_ms"] == 400.0


def test_event_dict_redacts_secrets_in_raw_events() -> None:
    raw = ev.RealtimeRawModelEvent(
        data={
            "type": "response.output_audio.delta",
            "delta": "QUFB" * 100,
            "headers": {"Authorization": "Bearer sk-live-1234567890"},
            "usage": {"total_tokens": 12},
        }
    )
    data = event_to_dict(raw)["data"]
    assert data["delta"] == {"base64_chars": 400}
    assert data["headers"]["Authorization"] == "[redacted]"
    assert data["usage"]["total_tokens"] == 12


def test_format_call_handles_bad_json() -> None:
    assert format_call("book", '{"date": "2026-12-01", "time": "18:00"}') == (
        'book(date="2026-12-01", time="18:00")'
    )
    assert format_call("book", "{not json") == "book({not json)"
    assert format_call("noargs", "") == "noargs()"


def test_records_write_events_transcript_summary_and_stereo_audio(tmp_path: Path) -> None:
    clock = Clock()
    run_dir = new_run_dir(tmp_path / "runs")
    meter_holder: list[SessionRecorder] = []
    hub = SessionHub([], clock=clock)
    recorder = SessionRecorder(
        run_dir, latency=hub.latency, record_audio=True, meta={"graph": "weather"}
    )
    meter_holder.append(recorder)
    hub.observers.append(recorder)
    caller = np.full(4800, -6000, dtype="<i2").tobytes()  # 200 ms
    hub.caller_audio(caller)
    weather_turn(hub, clock)
    hub.dispatch(ev.RealtimeErrorEvent(error={"message": "oops", "api_key": "sk-secretsecret"}))
    recorder.close()

    lines = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
    assert "sk-secret" not in (run_dir / "events.jsonl").read_text()
    assert {"type": "caller_text", "text": "What's the weather in Tokyo?"}.items() <= (
        lines[2].items()
    )
    audio_line = next(x for x in lines if x["type"] == "audio_delta")
    assert audio_line["audio"] == {"bytes": 4800}
    assert (run_dir / "transcript.txt").read_text().splitlines() == [
        "caller: What's the weather in Tokyo?",
        "weather: It is sunny in Tokyo.",
    ]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["graph"] == "weather"
    assert summary["tool_calls"][0]["name"] == "get_weather"
    assert summary["turns"]["caller_turns"] == 1
    assert summary["latency"]["weather"] == {"turns": 1, "p50_ms": 400.0, "p95_ms": 400.0}
    assert summary["errors"] == ["oops"]
    with wave.open(str(run_dir / "audio.wav")) as wav:
        assert wav.getnchannels() == 2 and wav.getframerate() == 24000
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    # caller on the left at t=0, agent on the right 0.4 s later
    assert np.all(frames[:4800, 0] == -6000) and np.all(frames[:4800, 1] == 0)
    agent_at = int(0.4 * 24000)
    assert np.all(frames[agent_at : agent_at + 2400, 1] == 8000)
    assert np.all(frames[agent_at:, 0] == 0)


def test_new_run_dir_never_reuses_a_directory(tmp_path: Path) -> None:
    first = new_run_dir(tmp_path)
    second = new_run_dir(tmp_path)
    assert first != second and first.is_dir() and second.is_dir()


def test_latency_meter_percentiles_per_agent() -> None:
    meter = LatencyMeter()
    for i, agent in enumerate(["a", "a", "b", "a"]):
        meter.caller_stopped(10.0 * i)
        assert meter.agent_started_playing(10.0 * i + 0.1 * (i + 1), agent) is not None
        # only the first audio after a turn counts
        assert meter.agent_started_playing(10.0 * i + 5, agent) is None
    summary = meter.summary()
    assert summary["a"]["turns"] == 3
    assert summary["b"] == {"turns": 1, "p50_ms": 300.0, "p95_ms": 300.0}
    assert summary["all"]["turns"] == 4
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 95) == 5.0


def test_graph_secrets_never_reach_console_or_records(tmp_path: Path) -> None:
    secret = "hunter2-from-env"
    out = io.StringIO()
    clock = Clock()
    hub = SessionHub(
        [ConsoleRenderer("text", out=out, color=False, secrets=frozenset({secret}))], clock=clock
    )
    recorder = SessionRecorder(tmp_path, latency=hub.latency, secrets=frozenset({secret}))
    hub.observers.append(recorder)
    hub.caller_text(f"my code is {secret}")
    hub.dispatch(
        ev.RealtimeToolEndEvent(
            agent=WEATHER,
            tool_name="t",
            call_id="c",
            arguments=f'{{"code": "{secret}"}}',
            output=secret,
        )
    )
    hub.dispatch(ev.RealtimeTranscriptDoneEvent(item_id="i", transcript=f"Your code {secret}"))
    recorder.close()
    assert secret not in out.getvalue() and "[redacted]" in out.getvalue()
    for name in ("events.jsonl", "transcript.txt", "summary.json"):
        text = (tmp_path / name).read_text()
        assert secret not in text and "[redacted]" in text, name


def test_console_shows_keypad_digits_and_records_keep_them(tmp_path: Path) -> None:
    out = io.StringIO()
    hub = SessionHub([ConsoleRenderer("text", out=out, color=False)], clock=Clock())
    hub.dispatch(ev.RealtimeDtmfEvent(digits="1234#"))
    assert "caller pressed 1234#" in out.getvalue()
    assert event_to_dict(ev.RealtimeDtmfEvent(digits="5"))["digits"] == "5"
