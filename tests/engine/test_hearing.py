"""Visible hearing: with the embedded engine the console shows what the caller said."""

from __future__ import annotations

import io
from pathlib import Path

from agentgraph.app.run import RunOptions, run_app
from agentgraph.audio.wav import write_wav_pcm16

from .speech import REPO, caller_speech


async def test_console_shows_what_was_heard_although_the_graph_does_not_transcribe(
    tmp_path: Path,
) -> None:
    graph = REPO / "examples/graphs/weather.yaml"
    assert "transcription" not in graph.read_text()  # the graph never asks for it
    pcm, _, _ = caller_speech("What's the weather in Tokyo?", voice="ash", seed=4)
    wav = tmp_path / "caller.wav"
    write_wav_pcm16(wav, pcm)
    out = io.StringIO()
    await run_app(
        RunOptions(
            graph=graph,
            input_path=wav,
            fast=True,
            provider="local",
            log_dir=tmp_path / "runs",
            answer_timeout_s=60,
        ),
        out=out,
    )
    text = out.getvalue()
    heard = [line for line in text.splitlines() if line.startswith("you: ")]
    assert heard and "tokyo" in heard[0].lower()
    assert "transcription is off" not in text
