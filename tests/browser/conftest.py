"""Real headless Chromium (Debian's, driven by Playwright) against a real `agentgraph play`.

Chromium's fake media devices feed a question spoken by espeak-ng as the microphone; every
test saves a screenshot of the page under test-artifacts/browser/. Tests skip when
Chromium or Playwright is not installed (scripts/setup.sh installs both).
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# This machine's network is closed: keep Chromium from calling home (and as root, unsandboxed).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def spoken_wav(text: str, path: Path, *, lead_s: float = 1.0, tail_s: float = 6.0) -> Path:
    """`text` spoken by espeak-ng, with silence around it and a quiet noise floor, 48 kHz
    16-bit mono (what Chromium's fake capture reads best)."""
    raw = path.with_suffix(".raw.wav")
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text],
        check=True,
        capture_output=True,
        timeout=30,
    )
    from agentgraph.audio import read_wav_pcm16

    speech = np.frombuffer(read_wav_pcm16(raw, rate_hz=48000), dtype="<i2").astype(np.float64)
    lead, tail = np.zeros(int(lead_s * 48000)), np.zeros(int(tail_s * 48000))
    samples = np.concatenate([lead, speech, tail])
    samples += np.random.default_rng(3).normal(0, 30, samples.size)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(48000)
        out.writeframes(np.clip(samples, -32768, 32767).astype("<i2").tobytes())
    raw.unlink()
    return path


class PlayServer:
    """`agentgraph play GRAPH --no-browser --port 0` in a subprocess; `lines` is its console."""

    def __init__(
        self, graph: Path, workdir: Path, *extra: str, env_extra: dict[str, str] | None = None
    ) -> None:
        env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
        env.update(env_extra or {})
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        env["NO_COLOR"] = "1"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "agentgraph",
                "play",
                str(graph),
                "--no-browser",
                "--port",
                "0",
                *extra,
            ],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = ""
        while not self.url:
            line = self.lines.get(timeout=60)
            if not line:
                raise RuntimeError("agentgraph play exited:\n" + "".join(self.output))
            if line.startswith("playground: "):
                self.url = line.split()[1]

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)
        self.lines.put("")

    def stop(self) -> None:
        self.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=15)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def play_server(tmp_path: Path) -> Iterator[Any]:
    servers: list[PlayServer] = []

    def start(graph: Path, *extra: str, env: dict[str, str] | None = None) -> PlayServer:
        server = PlayServer(graph, tmp_path, *extra, env_extra=env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def browser_page(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """`open(url, mic_wav=None)` -> a Playwright page; console errors land in `page.errors`;
    a screenshot is saved when the test ends."""
    pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh)")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    browsers: list[Any] = []
    pages: list[Any] = []

    def open_page(url: str, mic_wav: Path | None = None) -> Any:
        args = list(CHROMIUM_ARGS)
        if mic_wav is not None:
            args.append(f"--use-file-for-fake-audio-capture={mic_wav}%noloop")
        profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp_path)
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=args,
            viewport={"width": 1280, "height": 800},
        )
        browsers.append(context)
        page = context.pages[0] if context.pages else context.new_page()
        errors: list[str] = []
        page.errors = errors  # type: ignore[attr-defined]
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        pages.append(page)
        return page

    yield open_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for i, page in enumerate(pages):
        suffix = f"-{i}" if i else ""
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"{request.node.name}{suffix}.png"))
    for context in browsers:
        with contextlib.suppress(Exception):
            context.close()
    pw.stop()
