"""How well the embedded engine understands callers it was never tuned for (issue 9).

    python bench/understanding.py --quick              # ~40 trials, a few minutes
    python bench/understanding.py                      # every trial (tune + held-out)
    python bench/understanding.py --recognizer sphinx  # the cheaper recognizer
    python bench/understanding.py --text               # typed turns: the policy alone

Each trial is one caller goal (bench/understanding_data.py) spoken by an espeak-ng voice
(12 voices: US, RP, Scottish, Lancashire, West Midlands, Caribbean and New York English,
male and female variants) under one condition: clean (a -70 dBFS floor), pink noise at
20 dB and 10 dB SNR, or an 8 kHz mu-law telephone round trip. The audio goes through the
engine's own listener (Silero VAD, speculative decoding, the chosen recognizer) and the
transcript to the rules policy, exactly as the server does; the simulated caller then
answers what the agent asked (a missing value, a read-back, "did you say"), says its
correction on the second turn if it has one, and repeats itself once if not understood.
Tool calls are answered with a short output. A trial ends at the first call of the goal's
tool, or after 6 caller turns.

Scored per trial: right (the goal's tool with the goal's arguments), wrong tool (any call
of another tool, lookups the graph allows before its booking excepted), wrong arguments,
no call (the agent kept asking), and changing-tool calls on a guess (a changing tool
called with arguments the caller did not want). Tune and held-out parts are reported
apart; only held-out is the claim.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from understanding_data import GRAPHS, TODAY, Request, requests  # noqa: E402

from agentgraph.audio.g711 import pcm16_to_ulaw, ulaw_to_pcm16  # noqa: E402
from agentgraph.audio.resample import resample_pcm16  # noqa: E402
from agentgraph.engine.policy import PolicyContext, RulesPolicy, ToolSpec, Turn  # noqa: E402
from agentgraph.engine.policy.interpret import is_changing  # noqa: E402

VOICES = [
    "en-us",
    "en-us+f3",
    "en-gb-x-rp",
    "en-gb-x-rp+f4",
    "en-gb-scotland",
    "en-gb-scotland+f2",
    "en-gb-x-gbclan",
    "en-gb-x-gbcwmd+f1",
    "en-029",
    "en-029+f5",
    "en-us-nyc+m3",
    "en+f2",
]
CONDITIONS = ["clean", "snr20", "snr10", "ulaw8k"]
MAX_TURNS = 6


@dataclass
class Trial:
    request: Request
    voice: str
    condition: str
    part: str
    heard: list[tuple[str, str]] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    outcome: str = "no call"
    guess: bool = False
    turns: int = 0


# -- audio ------------------------------------------------------------------------------


@cache
def _synth(voice: str) -> Any:
    from agentgraph.engine.tts import EspeakSynthesizer

    return EspeakSynthesizer(voice)


def _pink(n: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.normal(0, 1, n))
    freqs = np.arange(spectrum.size)
    freqs[0] = 1
    pink = np.fft.irfft(spectrum / np.sqrt(freqs), n)
    return pink / (np.sqrt(np.mean(pink**2)) + 1e-9)


def caller_audio(text: str, voice: str, condition: str, seed: int) -> bytes:
    """24 kHz pcm16: 300 ms lead, the speech, 900 ms tail, under `condition`."""
    rng = np.random.default_rng(seed)
    speech = np.frombuffer(_synth(voice).synthesize_pcm24(text), "<i2").astype(np.float64)
    samples = np.concatenate([np.zeros(24 * 300), speech, np.zeros(24 * 900)])
    voiced = speech[np.abs(speech) > 200]
    level = float(np.sqrt(np.mean(voiced**2))) if voiced.size else 1000.0
    if condition.startswith("snr"):
        snr_db = float(condition[3:])
        samples = samples + _pink(samples.size, rng) * level / (10 ** (snr_db / 20))
    else:
        samples = samples + rng.normal(0, 10, samples.size)  # about -70 dBFS
    pcm = np.clip(samples, -32768, 32767).astype("<i2").tobytes()
    if condition == "ulaw8k":
        line = pcm16_to_ulaw(resample_pcm16(pcm, 24000, 8000))
        pcm = resample_pcm16(ulaw_to_pcm16(line), 8000, 24000)
    return pcm


class Ear:
    """The engine's listener for one session, fed in 20 ms chunks as the wire would."""

    def __init__(self, session: dict[str, Any], recognizer: str) -> None:
        from agentgraph.engine.listener import SpeechListener

        self.listener = SpeechListener(recognizer=recognizer)
        self.listener.configure(session)
        # In the server, speculative decodes run in worker processes during pauses and
        # give the same transcript as one decode at the end of the turn; in-process they
        # would only repeat work, so the bench decodes each turn once.
        self.listener._maybe_speculate = lambda quiet_ms: None  # type: ignore[method-assign]

    def hear(self, pcm: bytes) -> str:
        from agentgraph.engine.protocol import SpeechStopped

        heard: list[str] = []
        for i in range(0, len(pcm), 960):
            for event in self.listener.feed(pcm[i : i + 960]):
                if isinstance(event, SpeechStopped) and event.transcript:
                    heard.append(event.transcript)
        self.listener.reset()
        return " ".join(heard)


def session_for(graph_name: str) -> dict[str, Any]:
    from agentgraph.engine.session_config import default_session

    graph = GRAPHS[graph_name]
    session = default_session(session_id="bench", model="m", expires_at=0)
    session["instructions"] = graph.instructions
    session["tools"] = graph.tools
    session["audio"]["input"]["turn_detection"] = {
        "type": "server_vad",
        "silence_duration_ms": 300,
        "threshold": 0.5,
        "prefix_padding_ms": 300,
    }
    return session


# -- the simulated caller ----------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if isinstance(b, bool) or isinstance(a, bool):
        return a is b
    if isinstance(b, int | float) and isinstance(a, int | float):
        return float(a) == float(b)
    return str(a).strip().casefold() == str(b).strip().casefold()


def _matches(args: dict[str, Any], want: dict[str, Any]) -> bool:
    return all(k in args and _same(args[k], v) for k, v in want.items()) and all(
        k in want for k in args if args[k] not in (None, "")
    )


def _first_wrong(args: dict[str, Any], want: dict[str, Any]) -> str | None:
    for key, value in want.items():
        if key not in args or not _same(args[key], value):
            return key
    return None


def run_trial(trial: Trial, ear: Ear | None, seed: int) -> Trial:
    req = trial.request
    graph = GRAPHS[req.graph]
    tools = tuple(ToolSpec(t["name"], t["description"], t["parameters"]) for t in graph.tools)
    by_name = {t.name: t for t in tools}
    policy = RulesPolicy()
    history: list[Turn] = []
    say = req.first
    corrected = req.correction is None
    repeated = False
    for turn in range(MAX_TURNS):
        trial.turns = turn + 1
        if ear is not None:
            text = ear.hear(caller_audio(say, trial.voice, trial.condition, seed + turn))
        else:
            text = say
        trial.heard.append((say, text))
        history.append(Turn("user", text, heard=ear is not None))
        want_args = req.args if corrected else None
        decision = _decide(policy, graph.instructions, tools, history)
        while decision.tool_calls:
            call = decision.tool_calls[0]
            trial.calls.append((call.name, dict(call.arguments)))
            tool = by_name.get(call.name)
            intended = want_args is not None or call.name != req.tool
            wrong = call.name != req.tool or not _matches(call.arguments, req.args)
            if tool is not None and is_changing(tool) and intended and wrong:
                trial.guess = True
            if call.name == req.tool and corrected:
                trial.outcome = "right" if _matches(call.arguments, req.args) else "wrong args"
                return trial
            if call.name != req.tool and call.name not in graph.lookups:
                trial.outcome = "wrong tool"
                return trial
            call_id = f"c{len(history)}"
            history.append(Turn("function_call", name=call.name, call_id=call_id))
            history.append(Turn("function_call_output", text="Done.", call_id=call_id))
            decision = _decide(policy, graph.instructions, tools, history)
        if decision.text:
            history.append(Turn("assistant", decision.text))
        if not corrected:
            say, corrected = req.correction or "", True
            continue
        question = policy.open_question()
        if question is None:
            if repeated:
                break
            say, repeated = req.correction or req.first, True
            continue
        tool_name, args, waiting = question
        if waiting == "confirm":
            wrong = _first_wrong(args, req.args) if tool_name == req.tool else "tool"
            if wrong is None:
                say = "Yes, please."
            elif wrong == "tool":
                say = "No."
            else:
                say = "No, " + req.answers.get(wrong, "that's wrong.")
        elif waiting == "offer":
            say = "Yes, please." if tool_name == req.tool else "No."
        elif waiting.startswith("check:"):
            key = waiting[6:]
            ok = key in req.args and _same(args.get(key), req.args[key])
            say = "Yes." if ok else "No, " + req.answers.get(key, "that's wrong.")
        else:
            key = waiting[4:]
            say = req.answers.get(key) or req.first
    return trial


def _decide(
    policy: RulesPolicy, instructions: str, tools: tuple[ToolSpec, ...], history: list[Turn]
) -> Any:
    ctx = PolicyContext(instructions, tools, tuple(history), TODAY)
    return policy.decide_now(ctx)


# -- the run ----------------------------------------------------------------------------


def plan(quick: bool, repeats: dict[str, int]) -> list[Trial]:
    trials: list[Trial] = []
    k = 0
    for part in ("tune", "held-out"):
        reqs = requests(part)
        if quick:
            reqs = reqs[:20]
        for rep in range(1 if quick else repeats[part]):
            for req in reqs:
                voice = VOICES[(k * 5 + rep) % len(VOICES)]
                condition = CONDITIONS[(k + rep * 3) % len(CONDITIONS)]
                trials.append(Trial(req, voice, condition, part))
                k += 1
    return trials


def report(trials: list[Trial], part: str) -> dict[str, Any]:
    mine = [t for t in trials if t.part == part]
    n = len(mine)
    counts = Counter(t.outcome for t in mine)
    guesses = sum(t.guess for t in mine)
    by_cond = {
        c: f"{sum(t.outcome == 'right' for t in mine if t.condition == c)}/"
        f"{sum(1 for t in mine if t.condition == c)}"
        for c in CONDITIONS
    }
    return {
        "part": part,
        "trials": n,
        "graphs": len({t.request.graph for t in mine}),
        "voices": len({t.voice for t in mine}),
        "right_pct": round(100 * counts["right"] / max(n, 1), 1),
        "wrong_tool_pct": round(100 * counts["wrong tool"] / max(n, 1), 1),
        "wrong_args_pct": round(100 * counts["wrong args"] / max(n, 1), 1),
        "no_call_pct": round(100 * counts["no call"] / max(n, 1), 1),
        "changing_on_a_guess": guesses,
        "mean_caller_turns": round(sum(t.turns for t in mine) / max(n, 1), 2),
        "right_by_condition": by_cond,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 requests per part, once")
    parser.add_argument("--recognizer", default="whisper", choices=["whisper", "sphinx"])
    parser.add_argument("--text", action="store_true", help="typed turns, no audio")
    parser.add_argument("--part", choices=["tune", "held-out", "both"], default="both")
    parser.add_argument("--failures", type=Path, help="write failed trials here (JSON lines)")
    parser.add_argument(
        "--log", type=Path, help="append every finished trial here (JSON lines), as it ends"
    )
    args = parser.parse_args()

    trials = plan(args.quick, {"tune": 1, "held-out": 3})
    if args.part != "both":
        trials = [t for t in trials if t.part == args.part]
    ears: dict[str, Ear] = {}
    started = time.perf_counter()
    for i, trial in enumerate(trials):
        ear = None
        if not args.text:
            graph = trial.request.graph
            if graph not in ears:
                ears[graph] = Ear(session_for(graph), args.recognizer)
            ear = ears[graph]
        run_trial(trial, ear, seed=i)
        if args.log:
            with args.log.open("a") as f:
                f.write(json.dumps(_record(trial)) + "\n")
        if (i + 1) % 25 == 0:
            print(f"... {i + 1}/{len(trials)} trials", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started
    parts = [p for p in ("tune", "held-out") if any(t.part == p for t in trials)]
    summary = {
        "recognizer": "typed" if args.text else args.recognizer,
        "seconds": round(elapsed, 1),
        "results": [report(trials, p) for p in parts],
    }
    print(json.dumps(summary, indent=2))
    if args.failures:
        with args.failures.open("w") as f:
            for t in trials:
                if t.outcome != "right" or t.guess:
                    f.write(json.dumps(_record(t)) + "\n")


def _record(t: Trial) -> dict[str, Any]:
    return {
        "part": t.part,
        "graph": t.request.graph,
        "want": [t.request.tool, t.request.args],
        "voice": t.voice,
        "condition": t.condition,
        "outcome": t.outcome,
        "guess": t.guess,
        "turns": t.turns,
        "heard": t.heard,
        "calls": t.calls,
    }


if __name__ == "__main__":
    main()
