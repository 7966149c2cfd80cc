"""The playground as a user meets it: a real `agentgraph play`, real headless Chromium.

Everything is asserted through the page (its transcript, buttons, editor and picture);
`window.ag` exposes only what a person would hear or see but a test cannot read off the
DOM: the analyser's level of played agent audio and how often playback was stopped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import REPO, spoken_wav

pytestmark = pytest.mark.slow

WEATHER = (REPO / "examples/graphs/weather.yaml").read_text(encoding="utf-8")
TIMEOUT_MS = 90_000  # the embedded engine on a busy 2-core machine


def graph_file(tmp_path: Path, text: str, name: str = "graph.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def weather_graph(tmp_path: Path, *, transcription: bool = False, approval: bool = False) -> Path:
    text = WEATHER.replace(
        "# yaml-language-server: $schema=../../schemas/agentgraph.schema.json\n", ""
    )
    if transcription:
        text = text.replace("voice: marin\n", "voice: marin\ntranscription: {model: whisper-1}\n")
    if approval:
        text = text.replace(
            "get_weather: {entry_point: get_weather}",
            "get_weather: {entry_point: get_weather, approval: {by: operator, message: "
            '"Look up the weather in {city}?"}}',
        )
    assert text != WEATHER
    return graph_file(tmp_path, text)


def ready(page: Any) -> None:
    page.wait_for_function("window.ag && window.ag.ready", timeout=TIMEOUT_MS)


def say(page: Any, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


def log_line(page: Any, css: str, text: str) -> Any:
    """Wait for a transcript line of class `css` containing `text`."""
    locator = page.locator(f"#log li.{css}", has_text=text)
    locator.first.wait_for(timeout=TIMEOUT_MS)
    return locator.first


def test_spoken_question_reaches_the_tool_and_the_answer_plays(
    play_server: Any, browser_page: Any, tmp_path: Path
) -> None:
    server = play_server(weather_graph(tmp_path, transcription=True))
    wav = spoken_wav("What's the weather in Tokyo?", tmp_path / "question.wav")
    page = browser_page(server.url, mic_wav=wav)
    ready(page)
    page.click("#mic")
    # the question reached the tool with the right arguments
    log_line(page, "tool-start", 'get_weather(city="Tokyo")')
    log_line(page, "tool-end", "In Tokyo it is")
    # both sides of the conversation are in the transcript, the agent by name
    caller = log_line(page, "caller", "weather")
    assert "tokyo" in caller.inner_text().lower()
    agent = log_line(page, "agent", "Tokyo")
    assert agent.inner_text().startswith("weather: In Tokyo it is")
    # the agent's audio really played: the analyser after the playback node saw signal
    page.wait_for_function("window.ag.peak > 0.02", timeout=TIMEOUT_MS)
    assert re.search(r"\[\d+ ms\]", agent.inner_text())  # the turn's latency is shown
    assert page.errors == []


def test_operator_approval_appears_and_approve_runs_the_tool(
    play_server: Any, browser_page: Any, tmp_path: Path
) -> None:
    server = play_server(weather_graph(tmp_path, approval=True))
    page = browser_page(server.url)
    ready(page)
    say(page, "What's the weather in Lisbon?")
    card = page.locator("#approvals .approval")
    card.wait_for(timeout=TIMEOUT_MS)
    assert "Look up the weather in Lisbon?" in card.inner_text()
    assert 'get_weather(city="Lisbon")' in card.inner_text()
    assert page.locator("#log li.tool-end").count() == 0  # nothing ran before the answer
    card.locator("button.approve").click()
    log_line(page, "tool-end", "In Lisbon it is")
    log_line(page, "note", "approved: get_weather")
    assert page.locator("#approvals .approval").count() == 0
    assert page.errors == []


def test_an_unanswered_approval_is_denied_on_the_timeout(
    play_server: Any, browser_page: Any, tmp_path: Path
) -> None:
    server = play_server(weather_graph(tmp_path, approval=True), "--approval-timeout", "1")
    page = browser_page(server.url)
    ready(page)
    say(page, "What's the weather in Paris?")
    log_line(page, "note", "denied: get_weather (no answer)")
    assert page.locator("#approvals .approval").count() == 0
    log_line(page, "tool-end", "did not approve")  # the model hears the refusal
    assert page.locator("#log li.tool-end", has_text="In Paris it is").count() == 0


def test_barge_in_stops_playback(play_server: Any, browser_page: Any, tmp_path: Path) -> None:
    server = play_server(weather_graph(tmp_path))
    wav = spoken_wav("Stop, what about Berlin?", tmp_path / "interrupt.wav", lead_s=0.2)
    page = browser_page(server.url, mic_wav=wav)
    ready(page)
    say(page, "What's the weather in Tokyo?")
    page.wait_for_function("window.ag.played > 2400", timeout=TIMEOUT_MS)  # 0.1 s heard
    page.click("#mic")  # the caller starts talking over the answer
    page.wait_for_function("window.ag.stops > 0", timeout=TIMEOUT_MS)
    note = log_line(page, "note", "interrupted: the caller heard")
    heard = float(re.search(r"heard ([\d.]+) s", note.inner_text()).group(1))  # type: ignore[union-attr]
    # the whole answer is about 3 s of speech; the caller heard only the start of it
    assert 0.1 <= heard < 2.5
    assert page.errors == []


def test_invalid_save_shows_the_finding_at_its_line_and_keeps_the_running_graph(
    play_server: Any, browser_page: Any, tmp_path: Path
) -> None:
    path = weather_graph(tmp_path)
    server = play_server(path)
    page = browser_page(server.url)
    ready(page)
    original = page.input_value("#yaml")
    assert "voice: marin" in original
    broken = original.replace("voice: marin", "voice: alloyy")
    line = broken.splitlines().index("voice: alloyy") + 1
    page.fill("#yaml", broken)
    page.click("#save")
    finding = page.locator(f'#findings li.error[data-line="{line}"]')
    finding.wait_for(timeout=TIMEOUT_MS)
    assert "AG103" in finding.inner_text()
    assert "hint: did you mean 'alloy'?" in finding.inner_text()
    assert page.locator(f'#gutter span.bad[data-line="{line}"]').count() == 1
    assert path.read_text(encoding="utf-8") == broken  # the edit is saved, not lost
    log_line(page, "note", "still running the previous graph")
    # the running graph still answers
    say(page, "What's the weather in Tokyo?")
    log_line(page, "tool-end", "In Tokyo it is")
    # a valid save reloads the graph and says so
    page.fill("#yaml", original.replace("one short sentence", "one sentence"))
    page.click("#save")
    page.locator("#findings li.ok", has_text="reloaded").wait_for(timeout=TIMEOUT_MS)
    log_line(page, "note", "reloaded")
    assert page.errors == []


def test_the_active_agent_changes_colour_on_a_handoff(
    play_server: Any, browser_page: Any, tmp_path: Path
) -> None:
    triage = (REPO / "examples/graphs/triage.yaml").read_text(encoding="utf-8")
    server = play_server(
        graph_file(tmp_path, triage.replace("../../schemas", str(REPO / "schemas")))
    )
    page = browser_page(server.url)
    ready(page)
    fill = "el => getComputedStyle(el.querySelector('rect')).fill"
    triage_box = page.locator('#graph .agent[data-agent="triage"]')
    booking_box = page.locator('#graph .agent[data-agent="booking"]')
    before = (triage_box.evaluate(fill), booking_box.evaluate(fill))
    assert before[0] != before[1]  # the start agent is the active one
    say(page, "I want to book an appointment")
    log_line(page, "handoff", "triage -> booking")
    page.wait_for_function(
        "document.querySelector('#graph .agent[data-agent=booking]').classList.contains('active')",
        timeout=TIMEOUT_MS,
    )
    # the colours swap with the turn (after the 0.2 s fill transition has run)
    swapped = (
        "([a, b]) => { const f = n => getComputedStyle(document.querySelector("
        "`#graph .agent[data-agent=${n}] rect`)).fill;"
        " return f('triage') === a && f('booking') === b; }"
    )
    page.wait_for_function(swapped, arg=[before[1], before[0]], timeout=5000)
    after = (triage_box.evaluate(fill), booking_box.evaluate(fill))
    assert after == (before[1], before[0])
    assert page.errors == []


def test_report_after_a_conversation_opens_without_errors(
    play_server: Any, browser_page: Any, tmp_path: Path
) -> None:
    server = play_server(weather_graph(tmp_path), "--record")
    page = browser_page(server.url)
    ready(page)
    say(page, "What's the weather in Rome?")
    log_line(page, "tool-end", "In Rome it is")
    log_line(page, "agent", "In Rome it is")
    page.click("#hangup")
    link = page.locator("#report-link")
    link.wait_for(timeout=TIMEOUT_MS)
    report = page.context.new_page()
    errors: list[str] = []
    report.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    report.on("pageerror", lambda e: errors.append(str(e)))
    response = report.goto(server.url.rstrip("/") + link.get_attribute("href"))
    assert response is not None and response.ok
    text = report.inner_text("body")
    assert 'get_weather(city="Rome")' in text
    assert "In Rome it is" in text
    assert report.locator("audio").count() == 1  # --record: the conversation's audio
    (REPO / "test-artifacts/browser").mkdir(parents=True, exist_ok=True)
    report.screenshot(path=str(REPO / "test-artifacts/browser/report.png"))
    assert errors == []


def test_push_to_talk_commits_the_turn_on_release(
    play_server: Any, browser_page: Any, tmp_path: Path
) -> None:
    text = weather_graph(tmp_path, transcription=True).read_text(encoding="utf-8")
    manual = text.replace(
        "turn_detection: {type: server_vad, threshold: 0.5, silence_duration_ms: 500}",
        "turn_detection: none",
    )
    assert manual != text
    server = play_server(graph_file(tmp_path, manual))
    wav = spoken_wav("What's the weather in Tokyo?", tmp_path / "ptt.wav", lead_s=0.5)
    page = browser_page(server.url, mic_wav=wav)
    ready(page)
    page.check("input[name=mode][value=ptt]")
    page.hover("#ptt")
    page.mouse.down()  # hold the button while speaking
    page.wait_for_function("window.ag.lastLoud !== null", timeout=TIMEOUT_MS)
    page.wait_for_timeout(4000)  # the caller says the whole question
    assert page.locator("#log li.tool-start").count() == 0  # nothing happens while held
    page.mouse.up()
    log_line(page, "tool-start", 'get_weather(city="Tokyo")')
    log_line(page, "agent", "In Tokyo it is")
    assert page.errors == []


def test_ctrl_c_ends_open_conversations_with_complete_records(
    play_server: Any, browser_page: Any, tmp_path: Path
) -> None:
    import signal

    server = play_server(weather_graph(tmp_path))
    page = browser_page(server.url)
    ready(page)
    say(page, "What's the weather in Paris?")
    log_line(page, "agent", "In Paris it is")
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(timeout=60) == 0
    (run,) = (tmp_path / "runs").iterdir()
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert summary["tool_calls"][0]["name"] == "get_weather"
    assert (run / "report.html").is_file()
    page.locator("#log li.note", has_text="conversation ended").wait_for(timeout=TIMEOUT_MS)


def test_the_openai_provider_talks_through_the_page(
    play_server: Any, browser_page: Any, tmp_path: Path
) -> None:
    """With a key, the page talks to gpt-realtime: here the protocol-faithful fake of it."""
    import asyncio
    import threading

    import numpy as np

    from tests.fakes.realtime_server import FakeRealtimeServer

    tone = (np.sin(np.arange(24000) * 2 * np.pi * 440 / 24000) * 8000).astype("<i2").tobytes()

    async def answer(conn: Any, event: Any) -> None:
        await conn.respond_audio("Hello from gpt-realtime.", audio=tone, chunks=10)

    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    fake = FakeRealtimeServer(on_response_create=answer)
    asyncio.run_coroutine_threadsafe(fake.__aenter__(), loop).result(10)
    try:
        text = WEATHER.replace(
            "model: {provider: auto, name: gpt-realtime}",
            f"model: {{provider: openai, name: gpt-realtime, base_url: '{fake.url}'}}",
        )
        assert text != WEATHER
        server = play_server(
            graph_file(tmp_path, text), env={"OPENAI_API_KEY": "sk-test-fake-key-123"}
        )
        page = browser_page(server.url)
        ready(page)
        assert "OpenAI Realtime gpt-realtime" in page.inner_text("#status")
        say(page, "Hello?")
        log_line(page, "agent", "Hello from gpt-realtime.")
        page.wait_for_function("window.ag.peak > 0.1", timeout=TIMEOUT_MS)  # the tone played
        assert "sk-test" not in page.content()  # the key never reaches the page
    finally:
        asyncio.run_coroutine_threadsafe(fake.__aexit__(None, None, None), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
