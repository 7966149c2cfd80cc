"""Benchmark: validate a generated graph of 200 agents and 500 tools (target <= 300 ms).

Usage: python bench/validate_graph.py [--agents 200] [--tools 500] [--repeat 10]

Prints the in-process time of `validate_file` (imports already done; median and best of
--repeat runs) and the cold time of `python -m agentgraph validate FILE` (a fresh
interpreter each time, imports included).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout too


def generate(n_agents: int, n_tools: int) -> str:
    """A graph that uses every feature the validator checks, at scale."""
    lines = [
        "# yaml-language-server: $schema=../schemas/agentgraph.schema.json",
        "version: 1",
        "name: Generated benchmark graph",
        "model: {provider: auto, name: gpt-realtime}",
        "voice: marin",
        "turn_detection: {type: server_vad, threshold: 0.5, silence_duration_ms: 500}",
        "variables: {company: Acme}",
        "start: agent_0",
        "tools:",
    ]
    for t in range(n_tools):
        if t % 5 == 0:
            lines += [
                f"  tool_{t}:",
                "    entry_point: book_appointment",
                "    timeout_s: 10",
                "    approval:",
                "      when: \"time < '09:00' or time > '17:00' or name in ['x', 'y']\"",
                "      by: caller",
                '      message: "Book {date} at {time}?"',
            ]
        else:
            lines.append(
                f'  tool_{t}: {{ref: "agentgraph_demo.weather:get_weather", '
                f"description: Tool number {t}.}}"
            )
    lines += [
        "guardrails:",
        "  no_prices: {match: {regex: '\\$\\s?\\d'}, message: No prices.}",
        "  no_words: {match: {keywords: [secret, password]}}",
        "agents:",
    ]
    per_agent = max(1, n_tools // n_agents)
    for a in range(n_agents):
        tools = [f"tool_{(a * per_agent + k) % n_tools}" for k in range(per_agent + 1)]
        handoffs = [f"agent_{(a + 1) % n_agents}", f"agent_{(a + 7) % n_agents}"]
        lines += [
            f"  agent_{a}:",
            f"    instructions: You are agent {a} of {{{{company}}}}. Help the caller and "
            "hand off when another agent fits better.",
            f"    handoff_description: Agent {a} handles topic {a}.",
            f"    tools: [{', '.join(tools)}]",
            "    guardrails: [no_prices, no_words]",
            f"    handoffs: [{', '.join(handoffs)}]",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--tools", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--cold", type=int, default=3, help="cold CLI runs")
    args = parser.parse_args()

    from agentgraph.spec import validate_file

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "generated.yaml"
        path.write_text(generate(args.agents, args.tools), encoding="utf-8")
        n_lines = len(path.read_text(encoding="utf-8").splitlines())
        first = validate_file(path, env={})
        assert first.spec is not None, [f.format() for f in first.findings[:5]]
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            result = validate_file(path, env={})
            times.append((time.perf_counter() - t0) * 1000)
            assert result.spec is not None
        cold = []
        for _ in range(args.cold):
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "agentgraph", "validate", str(path)],
                check=True,
                capture_output=True,
            )
            cold.append((time.perf_counter() - t0) * 1000)
    print(f"graph: {args.agents} agents, {args.tools} tools, {n_lines} lines")
    print(
        f"validate_file in-process: median {statistics.median(times):.1f} ms, "
        f"best {min(times):.1f} ms ({args.repeat} runs; target <= 300 ms)"
    )
    if cold:
        print(
            f"cold `python -m agentgraph validate`: median {statistics.median(cold):.1f} ms, "
            f"best {min(cold):.1f} ms ({args.cold} runs, interpreter start + imports)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
