"""`run_app` in process: the OpenAI provider path against a Realtime-compatible server."""

from __future__ import annotations

import io
from pathlib import Path

from agentgraph.app.run import RunOptions, run_app
from agentgraph.engine import EmbeddedEngine

REPO = Path(__file__).resolve().parents[1].parent


async def test_openai_provider_uses_the_graph_base_url_and_key(tmp_path: Path) -> None:
    async with EmbeddedEngine() as engine:
        graph = tmp_path / "g.yaml"
        graph.write_text(
            (REPO / "examples/graphs/weather.yaml")
            .read_text()
            .replace(
                "model: {provider: auto, name: gpt-realtime}",
                f"model: {{provider: openai, name: gpt-realtime, base_url: '{engine.url}', "
                "api_key: sk-from-graph-123456}",
            )
        )
        out = io.StringIO()
        result = await run_app(
            RunOptions(graph=graph, say=["What's the weather in Rome?"], log_dir=tmp_path / "runs"),
            out=out,
        )
    text = out.getvalue()
    assert result.backend is not None and result.backend.provider == "openai"
    assert text.splitlines()[0] == (
        f"model: OpenAI Realtime gpt-realtime at {engine.url} (provider openai)"
    )
    assert '-> get_weather(city="Rome")' in text
    assert "sk-from-graph" not in text
    assert result.run_dir is not None
    for name in ("events.jsonl", "summary.json", "transcript.txt"):
        assert "sk-from-graph" not in (result.run_dir / name).read_text()
    assert result.summary["provider"] == "openai"
