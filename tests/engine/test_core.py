"""The sans-I/O server core with explicit time: pacing, deadlines, cancel, vocabulary."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from agentgraph.audio import AudioFormat
from agentgraph.engine import EngineProtocol
from agentgraph.engine.asr import SphinxRecognizer, session_sentences
from agentgraph.engine.policy import Decision
from agentgraph.engine.session_config import default_session


class ToneSynth:
    """One second of audio per sentence (no TTS needed to test pacing)."""

    def synthesize(self, text: str, fmt: AudioFormat = AudioFormat.PCM16) -> bytes:
        return b"\x01\x00" * (fmt.sample_rate_hz)


def core(**kw: Any) -> EngineProtocol:
    return EngineProtocol(
        model="gpt-realtime",
        id_prefix="t",
        now=0.0,
        today=dt.date(2026, 11, 28),
        expires_at=3600,
        synthesizer=lambda voice, speed: ToneSynth(),
        **kw,
    )


def sent(p: EngineProtocol) -> list[dict[str, Any]]:
    return [json.loads(frame) for frame in p.data_to_send()]


def test_audio_is_paced_faster_than_real_time_after_a_burst() -> None:
    p = core(realtime_factor=4.0, burst_ms=600.0)
    sent(p)
    p.receive(json.dumps({"type": "response.create"}), now=1.0)
    (request,) = p.events_received()
    assert p.events_received() == []  # drained
    p.receive_decision(request.response_id, Decision(text="One. Two. Three."), now=1.0)
    first = sent(p)
    deltas = [e for e in first if e["type"] == "response.output_audio.delta"]
    assert len(deltas) == 6  # the 600 ms burst, in 100 ms deltas
    assert all(d["event_id"].startswith("event_") for d in deltas)
    deadline = p.next_deadline()
    assert deadline is not None and abs(deadline - (1.0 + 0.1 / 4)) < 1e-9  # then 4x
    p.handle_timeout(1.01)
    assert sent(p) == []  # not due yet
    p.handle_timeout(deadline)
    assert [e["type"] for e in sent(p)] == ["response.output_audio.delta"]
    now = 1.0
    while (deadline := p.next_deadline()) is not None:
        now = deadline
        p.handle_timeout(now)
    events = sent(p)
    assert events[-2]["type"] == "response.done" and events[-1]["type"] == "rate_limits.updated"
    # 3 s of audio: a 600 ms burst, then 2.4 s at 4x real time = 0.6 s of wall time.
    assert abs(now - (1.0 + 2.4 / 4)) < 1e-6


def test_cancel_while_waiting_for_the_policy_ignores_the_late_decision() -> None:
    p = core()
    sent(p)
    p.receive(json.dumps({"type": "response.create"}), now=0.0)
    (request,) = p.events_received()
    p.receive(json.dumps({"type": "response.cancel"}), now=0.1)
    events = sent(p)
    done = next(e for e in events if e["type"] == "response.done")
    assert done["response"]["status"] == "cancelled" and done["response"]["output"] == []
    p.receive_decision(request.response_id, Decision(text="Too late."), now=0.2)
    assert sent(p) == [] and p.next_deadline() is None


def test_vocabulary_follows_the_session_and_is_rebuilt_on_update() -> None:
    session = default_session(session_id="s", model="m", expires_at=0)
    session["tools"] = [
        {
            "type": "function",
            "name": "order_pizza",
            "description": "Order a pizza for delivery.",
            "parameters": {
                "type": "object",
                "properties": {
                    "size": {"type": "string", "enum": ["small", "large"]},
                    "city": {"type": "string"},
                },
            },
        }
    ]
    text = " ".join(session_sentences(session))
    assert "order a pizza" in text and "large" in text
    assert "in lisbon" in text  # a city parameter brings the gazetteer
    assert "my name is" in text  # base phrases
    recognizer = SphinxRecognizer()
    recognizer.configure(session)
    assert {"pizza", "delivery", "lisbon", "large"} <= recognizer.vocabulary
    session["tools"] = [
        {
            "type": "function",
            "name": "transfer_to_billing",
            "description": "Questions about invoices.",
            "parameters": {},
        }
    ]
    recognizer.configure(session)
    assert "invoices" in recognizer.vocabulary and "pizza" not in recognizer.vocabulary
