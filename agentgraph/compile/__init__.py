"""Compile a validated graph into `agentgraph.realtime` objects.

`compile_graph(spec) -> CompiledGraph` resolves tool and guardrail references through
`agentgraph.plugins` and builds agents, handoffs, approval policies, guardrails and the
session settings: exactly what a Python user would write by hand. The runtime is imported
only when `compile_graph` is first used (PEP 562), so `validate --import` (which uses
`agentgraph.compile.check`) stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # real types for checkers; at run time the imports stay lazy
    from agentgraph.compile.check import validate_with_imports
    from agentgraph.compile.compiler import (
        CompiledGraph,
        ModelChoice,
        SipSettings,
        compile_graph,
    )

__all__ = ["CompiledGraph", "ModelChoice", "SipSettings", "compile_graph", "validate_with_imports"]

_LAZY = {
    "CompiledGraph": "agentgraph.compile.compiler",
    "ModelChoice": "agentgraph.compile.compiler",
    "SipSettings": "agentgraph.compile.compiler",
    "compile_graph": "agentgraph.compile.compiler",
    "validate_with_imports": "agentgraph.compile.check",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'agentgraph.compile' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
