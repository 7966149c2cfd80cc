"""agentgraph: realtime voice agents described in YAML.

The public Python API lives in `agentgraph.realtime` and is re-exported here. The
re-exports are lazy (PEP 562 `__getattr__`), so `import agentgraph` -- which every CLI
command does -- stays cheap and `agentgraph --help` never loads the runtime.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name -> module that defines it. tests/test_exports.py keeps this in sync with
# `agentgraph.realtime.__all__`.
_LAZY_EXPORTS: dict[str, str] = {
    name: "agentgraph.realtime"
    for name in (
        "Agent",
        "ApprovalPolicy",
        "CallControl",
        "ContentCheck",
        "ConversationState",
        "FunctionTool",
        "Greeting",
        "GuardrailFunctionOutput",
        "Handoff",
        "HistoryItem",
        "ModelSettings",
        "ModelSettingsError",
        "OpenAIRealtimeSIPModel",
        "OpenAIRealtimeWebSocketModel",
        "PlaybackState",
        "RealtimeAgent",
        "RealtimeAgentEndEvent",
        "RealtimeAgentStartEvent",
        "RealtimeAudioDoneEvent",
        "RealtimeAudioEvent",
        "RealtimeAudioInterruptedEvent",
        "RealtimeConnectionEvent",
        "RealtimeDtmfEvent",
        "RealtimeErrorEvent",
        "RealtimeGuardrailTrippedEvent",
        "RealtimeHandoffEvent",
        "RealtimeHistoryAddedEvent",
        "RealtimeInputTranscriptDeltaEvent",
        "RealtimeInputTranscriptDoneEvent",
        "RealtimeOutputGuardrail",
        "RealtimePlaybackTracker",
        "RealtimeRawModelEvent",
        "RealtimeApprovalAskedEvent",
        "RealtimeApprovalDecidedEvent",
        "RealtimeResponseDoneEvent",
        "RealtimeResponseStartedEvent",
        "RealtimeRunConfig",
        "RealtimeRunner",
        "RealtimeSession",
        "RealtimeSessionEvent",
        "RealtimeSpeechStartedEvent",
        "RealtimeSpeechStoppedEvent",
        "RealtimeToolApprovalRequiredEvent",
        "RealtimeToolEndEvent",
        "RealtimeToolStartEvent",
        "RealtimeTranscriptDeltaEvent",
        "RealtimeTranscriptDoneEvent",
        "RunResult",
        "RunSettings",
        "Runner",
        "SESSION_EVENT_TYPES",
        "ToolApprovalFunction",
        "ToolContext",
        "VOICES",
        "end_call",
        "function_tool",
        "handoff",
        "instruction_guardrail",
        "make_transfer_call",
        "normalize_model_settings",
        "normalize_run_config",
        "output_guardrail",
        "transfer_call",
        "transfer_tool_name",
    )
}
_LAZY_EXPORTS.update(
    {
        "AgentGraphError": "agentgraph.errors",
        "load_graph": "agentgraph.spec",
        "compile_graph": "agentgraph.compile",
    }
)

__all__ = ["__version__", *sorted(_LAZY_EXPORTS)]


def __getattr__(name: str) -> Any:
    module_name = _LAZY_EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'agentgraph' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
