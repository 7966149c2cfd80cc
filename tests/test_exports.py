"""`agentgraph` re-exports the public API of `agentgraph.realtime`, lazily, in sync."""

from __future__ import annotations

import subprocess
import sys

import agentgraph
import agentgraph.realtime


def test_top_level_exports_everything_realtime_exports() -> None:
    missing = set(agentgraph.realtime.__all__) - set(agentgraph.__all__)
    assert not missing, f"add to agentgraph._LAZY_EXPORTS: {sorted(missing)}"


def test_every_export_resolves_to_the_same_object() -> None:
    for name in agentgraph.__all__:
        value = getattr(agentgraph, name)
        if name in agentgraph.realtime.__all__:
            assert value is getattr(agentgraph.realtime, name)


def test_importing_agentgraph_does_not_load_the_runtime() -> None:
    code = "import sys, agentgraph; print('agentgraph.realtime' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
