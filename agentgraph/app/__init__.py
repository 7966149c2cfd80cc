"""The app layer: wires one graph, one model backend and one transport into a session.

`run_app(RunOptions)` is what `agentgraph run` calls; `run_tests` is `agentgraph test`.
The console renderer, the session records writer and the latency meter observe a session
through `SessionHub`. Submodules are imported lazily by the CLI.
"""

__all__: list[str] = []
