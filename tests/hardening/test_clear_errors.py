"""Clear errors instead of hangs: no `engine` extra, OpenAI unreachable or refusing the
key, and `--fast --input` answering every turn without "active response" noise."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

from agentgraph.engine import EmbeddedEngine
from tests.cli_run.speech import speak

REPO = Path(__file__).resolve().parents[2]
WEATHER = REPO / "examples" / "graphs" / "weather.yaml"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def _graph_with_model(tmp_path: Path, model: str) -> Path:
    graph = tmp_path / "graph.yaml"
    graph.write_text(
        WEATHER.read_text().replace("model: {provider: auto, name: gpt-realtime}", model)
    )
    return graph


def test_without_the_engine_extra_run_says_which_extra_to_install(tmp_path: Path) -> None:
    script = (
        "import sys; sys.modules['espeakng_loader'] = None\n"  # as if not installed
        "from agentgraph.cli import main\n"
        f"sys.exit(main(['run', {str(WEATHER)!r}, '--provider', 'local', '--say', 'hi', "
        "'--no-log']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,  # a reconnect loop would run into this
        env=_env(),
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "pip install 'agentgraph[engine]'" in done.stderr
    assert "espeakng_loader" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_unreachable_openai_says_so_and_points_to_the_offline_provider(tmp_path: Path) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    graph = _graph_with_model(
        tmp_path, f"model: {{provider: openai, base_url: 'ws://127.0.0.1:{port}/v1'}}"
    )
    done = subprocess.run(
        [sys.executable, "-m", "agentgraph", "run", str(graph), "--say", "hi", "--no-log"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(OPENAI_API_KEY="sk-fake-not-a-real-key-000"),
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "is unreachable" in done.stderr
    assert "--provider local" in done.stderr
    assert "gaierror" not in done.stderr and "Traceback" not in done.stderr
    assert "sk-fake" not in done.stderr + done.stdout


async def test_a_refused_key_says_so(tmp_path: Path) -> None:
    async with EmbeddedEngine(voice_input=False, token="the-right-token") as engine:
        graph = _graph_with_model(
            tmp_path, f"model: {{provider: openai, base_url: 'ws://127.0.0.1:{engine.port}/v1'}}"
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "agentgraph", "run", str(graph), "--say", "hi", "--no-log",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_env(OPENAI_API_KEY="sk-wrong-key-0000000"),
            cwd=tmp_path,
        )  # fmt: skip
        _, err = await asyncio.wait_for(proc.communicate(), 120)
    text = err.decode()
    assert proc.returncode == 2
    assert "refused the API key (HTTP 401)" in text and "--provider local" in text


def test_fast_wav_input_gets_every_answer_without_interruptions(tmp_path: Path) -> None:
    question = speak("What is the weather in Paris?", tmp_path / "q.wav")
    done = subprocess.run(
        [sys.executable, "-m", "agentgraph", "run", str(WEATHER), "--provider", "local",
         "--input", str(question), "--fast", "--no-log", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "active response in progress" not in done.stdout + done.stderr
    assert '"type": "audio_interrupted"' not in done.stdout
    assert "In Paris it is" in done.stdout
