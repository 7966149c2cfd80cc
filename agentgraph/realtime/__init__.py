"""The realtime runtime: agents, tools, approvals, handoffs, guardrails and sessions.

Shaped like the OpenAI Agents SDK realtime API, so its examples run with the import
changed to `agentgraph.realtime`.
"""

from agentgraph.models import OpenAIRealtimeSIPModel, OpenAIRealtimeWebSocketModel
from agentgraph.realtime.agent import RealtimeAgent, ToolApprovalFunction
from agentgraph.realtime.approval import ApprovalPolicy
from agentgraph.realtime.call_tools import CallControl, end_call, make_transfer_call, transfer_call
from agentgraph.realtime.config import (
    VOICES,
    ModelSettings,
    ModelSettingsError,
    RealtimeRunConfig,
    RunSettings,
    normalize_model_settings,
    normalize_run_config,
)
from agentgraph.realtime.events import (
    SESSION_EVENT_TYPES,
    RealtimeAgentEndEvent,
    RealtimeAgentStartEvent,
    RealtimeApprovalAskedEvent,
    RealtimeApprovalDecidedEvent,
    RealtimeAudioDoneEvent,
    RealtimeAudioEvent,
    RealtimeAudioInterruptedEvent,
    RealtimeConnectionEvent,
    RealtimeDtmfEvent,
    RealtimeErrorEvent,
    RealtimeGuardrailTrippedEvent,
    RealtimeHandoffEvent,
    RealtimeHistoryAddedEvent,
    RealtimeInputTranscriptDeltaEvent,
    RealtimeInputTranscriptDoneEvent,
    RealtimeRawModelEvent,
    RealtimeResponseDoneEvent,
    RealtimeResponseStartedEvent,
    RealtimeSessionEvent,
    RealtimeSpeechStartedEvent,
    RealtimeSpeechStoppedEvent,
    RealtimeToolApprovalRequiredEvent,
    RealtimeToolEndEvent,
    RealtimeToolStartEvent,
    RealtimeTranscriptDeltaEvent,
    RealtimeTranscriptDoneEvent,
)
from agentgraph.realtime.greeting import Greeting
from agentgraph.realtime.guardrails import (
    GuardrailFunctionOutput,
    RealtimeOutputGuardrail,
    output_guardrail,
)
from agentgraph.realtime.handoffs import Handoff, handoff, transfer_tool_name
from agentgraph.realtime.history import HistoryItem
from agentgraph.realtime.playback import PlaybackState, RealtimePlaybackTracker
from agentgraph.realtime.runner import RealtimeRunner
from agentgraph.realtime.session import RealtimeSession
from agentgraph.realtime.state import ConversationState
from agentgraph.realtime.text import Agent, ContentCheck, Runner, RunResult, instruction_guardrail
from agentgraph.realtime.tool import FunctionTool, ToolContext, function_tool

__all__ = [
    "SESSION_EVENT_TYPES",
    "VOICES",
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
    "RealtimeApprovalAskedEvent",
    "RealtimeApprovalDecidedEvent",
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
    "ToolApprovalFunction",
    "ToolContext",
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
]
