"""The README's Python example runs as written against the embedded engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_python_api_example_calls_the_tool_and_speaks() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("OPENAI_API_KEY", None)
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples/python/weather_agent.py"), "Weather in Paris?"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    assert '-> get_weather({"city": "Paris"})' in out.stdout
    assert "agent: It is sunny and 21 degrees in Paris." in out.stdout
    spoken_ms = int(out.stdout.rsplit("(", 1)[1].split(" ms")[0])
    assert spoken_ms > 1000  # a real spoken sentence, not an empty response
