"""The embedded offline Realtime engine: a local server speaking the OpenAI Realtime GA
protocol, with speech recognition, a dialogue policy and speech synthesis inside.

`async with EmbeddedEngine() as engine:` serves `engine.url` in the current event loop;
`agentgraph engine serve` runs it standalone. `EngineProtocol` is the sans-I/O core.
"""

from agentgraph.engine.protocol import EngineProtocol, PolicyRequest
from agentgraph.engine.server import EmbeddedEngine

__all__ = ["EmbeddedEngine", "EngineProtocol", "PolicyRequest"]
