"""The graph language, version 1, as pydantic models: the single source of truth.

`schemas/agentgraph.schema.json` is generated from `Graph` (see `schema.py`); editors
autocomplete graph files from it and the validator's first pass checks against it.
Field descriptions are written for the person editing YAML: they show up as editor hints.

Graph-level settings (model, voice, audio formats, transcription) are session-wide in the
Realtime API; per agent there is only what can change mid-session: instructions, tools,
handoffs, guardrails and turn detection.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from agentgraph.spec.sip_models import SipOpenAISpec, SipSpec

__all__ = [
    "GA_VOICES",
    "SEMANTIC_VAD_DROPPED",
    "VOICES",
    "AgentSpec",
    "ApprovalRule",
    "AudioSpec",
    "BuiltinToolUse",
    "Graph",
    "GreetingSpec",
    "GuardrailSpec",
    "HandoffSpec",
    "MatchSpec",
    "ModelSpec",
    "NoTurnDetection",
    "PromptFile",
    "PromptRef",
    "SemanticVad",
    "ServerVad",
    "SipOpenAISpec",
    "SipSpec",
    "ToolChoiceFunction",
    "ToolSpec",
    "TracingSpec",
    "TranscriptionSpec",
    "TurnDetection",
]

#: The voices gpt-realtime offers.
GA_VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
#: Every voice accepted: gpt-realtime's and the seed document's (fable, onyx, nova), which
#: the embedded engine speaks; validation warns that gpt-realtime lacks the last three.
VOICES = (*GA_VOICES, "fable", "onyx", "nova")
Voice = Literal[
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
    "fable",
    "onyx",
    "nova",
]
AudioFormatName = Literal["pcm16", "g711_ulaw", "g711_alaw"]
BuiltinName = Literal["end_call", "transfer_call"]


Ref = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_.]*$",
        description="An import string 'package.module:attribute'.",
    ),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSpec(_Model):
    """Which Realtime model serves the session."""

    provider: Literal["auto", "openai", "local"] = Field(
        "auto",
        description="auto: OpenAI when OPENAI_API_KEY is set, else the embedded local engine.",
    )
    name: str = Field("gpt-realtime", description="Model name, e.g. gpt-realtime.")
    base_url: str | None = Field(
        None,
        description="A Realtime-compatible websocket URL (ws:// or wss://).",
        examples=["ws://127.0.0.1:8765/v1/realtime"],
    )
    api_key: str | None = Field(
        None,
        description="API key; write ${OPENAI_API_KEY}, never a literal.",
        repr=False,
        examples=["${OPENAI_API_KEY}"],
    )


class AudioSpec(_Model):
    """Audio formats on the wire (session-wide)."""

    input_format: AudioFormatName = Field(
        "pcm16", description="What the caller's audio is: pcm16 (24 kHz) or G.711 for phones."
    )
    output_format: AudioFormatName = Field("pcm16", description="What the agent's audio is.")


class TranscriptionSpec(_Model):
    """Transcription of the caller's speech (user-side transcripts)."""

    model: str = Field("gpt-4o-mini-transcribe", description="The transcription model.")
    language: str | None = Field(None, description="ISO-639-1 code such as 'en'.")
    prompt: str | None = Field(
        None,
        description="Words to expect (names, jargon), to help the transcription.",
        examples=["Bright Smile Dental, Dr. Okafor, Invisalign"],
    )


#: server_vad settings that semantic_vad does not take on gpt-realtime; accepted (the seed
#: document writes them) and dropped with one warning naming them.
SEMANTIC_VAD_DROPPED = ("threshold", "prefix_padding_ms", "silence_duration_ms", "idle_timeout_ms")


class SemanticVad(_Model):
    """Turn detection that waits until the caller sounds finished."""

    type: Literal["semantic_vad"]
    eagerness: Literal["low", "medium", "high", "auto"] = Field(
        "auto", description="How soon to answer: low waits longest (8 s), high least (2 s)."
    )
    create_response: bool = Field(True, description="Answer by itself when the caller stops.")
    interrupt_response: bool = Field(
        True, description="The caller speaking cuts the agent off (barge-in)."
    )
    threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="Accepted for server_vad compatibility; dropped."
    )
    prefix_padding_ms: int | None = Field(
        None, ge=0, description="Accepted for server_vad compatibility; dropped."
    )
    silence_duration_ms: int | None = Field(
        None, ge=0, description="Accepted for server_vad compatibility; dropped."
    )
    idle_timeout_ms: int | None = Field(
        None, ge=0, description="Accepted for server_vad compatibility; dropped."
    )


class ServerVad(_Model):
    """Turn detection by voice activity and silence length ('vad' is accepted too)."""

    type: Literal["server_vad", "vad"]
    threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="Voice activity threshold; higher needs louder speech."
    )
    prefix_padding_ms: int = Field(300, ge=0, description="Audio kept from before speech.")
    silence_duration_ms: int = Field(
        500, ge=0, description="Silence that ends the caller's turn.", examples=[700]
    )
    idle_timeout_ms: int | None = Field(
        None,
        ge=0,
        description="After the agent finishes, prompt the caller after this long of silence.",
        examples=[8000],
    )
    create_response: bool = Field(True, description="Answer by itself when the caller stops.")
    interrupt_response: bool = Field(
        True, description="The caller speaking cuts the agent off (barge-in)."
    )


class NoTurnDetection(_Model):
    """Manual turns: nothing is detected, the client commits audio itself."""

    type: Literal["none"]


TurnDetection = Annotated[SemanticVad | ServerVad | NoTurnDetection, Field(discriminator="type")]


class ApprovalRule(_Model):
    """When a tool call needs a yes first, who gives it, and what they are asked."""

    when: str | None = Field(
        None,
        description="A condition over the tool's arguments, e.g. \"time < '09:00' or "
        "time > '17:00'\". Absent: always ask.",
    )
    by: Literal["caller", "operator"] = Field(
        "caller",
        description="caller: the agent asks on the call; operator: whoever runs the session.",
    )
    message: str | None = Field(
        None, description="What to ask; {name} is replaced by the argument 'name'."
    )
    timeout_s: float = Field(30.0, gt=0, description="How long to wait for an answer.")
    on_timeout: Literal["reject"] = Field(
        "reject", description="No answer in time is a no (the only choice: fail closed)."
    )


Approval = Literal["never", "always"] | ApprovalRule


class ToolSpec(_Model):
    """A tool: exactly one of ref, entry_point or builtin."""

    ref: Ref | None = Field(
        None,
        description="A Python function or FunctionTool: 'package.module:name'.",
        examples=["agentgraph_demo.booking:book_appointment"],
    )
    entry_point: str | None = Field(None, description="An entry point in group agentgraph.tools.")
    builtin: BuiltinName | None = Field(None, description="A call-control tool of agentgraph.")
    description: str | None = Field(
        None,
        description="Overrides the function's docstring.",
        examples=["Book an appointment; ask for the date and time first."],
    )
    timeout_s: float | None = Field(
        None, gt=0, description="Give up on the tool after this many seconds.", examples=[10]
    )
    approval: Approval | None = Field(
        None, description="never, always, or a rule: when to ask, whom, and what."
    )


class BuiltinToolUse(_Model):
    """A built-in call tool listed directly in an agent's tools."""

    builtin: BuiltinName = Field(description="end_call or transfer_call.")
    approval: Approval | None = Field(None, description="never, always, or a rule.")


class MatchSpec(_Model):
    """Words or a regular expression that must not appear in the agent's speech."""

    keywords: list[str] | None = Field(
        None, min_length=1, description="Whole words, any case.", examples=[["price", "cost"]]
    )
    regex: str | None = Field(
        None, description="A regular expression (any case).", examples=["\\$\\s?\\d"]
    )


class GuardrailSpec(_Model):
    """An output guardrail: exactly one of match, check, ref or entry_point."""

    match: MatchSpec | None = Field(None, description="Words or a pattern that trip it.")
    check: str | None = Field(
        None,
        description="An instruction a text model judges the output against.",
        examples=["Never give medical advice."],
    )
    ref: Ref | None = Field(
        None,
        description="A guardrail function (context, agent, text): 'package.module:name'.",
        examples=["my_guards:no_prices"],
    )
    entry_point: str | None = Field(
        None, description="An entry point in group agentgraph.guardrails."
    )
    message: str | None = Field(None, description="What the agent says instead when tripped.")
    debounce_length: int = Field(100, ge=1, description="Check every N characters of transcript.")
    on_error: Literal["block", "allow"] = Field(
        "block",
        description="When the check itself fails (raises, times out): block the reply "
        "(default, fail closed) or allow it.",
    )
    model: str | None = Field(
        None,
        description="check only: the chat model that judges (default from environment).",
        examples=["gpt-4o-mini"],
    )
    base_url: str | None = Field(
        None,
        description="check only: a chat-completions base URL, e.g. http://127.0.0.1:8080/v1.",
        examples=["http://127.0.0.1:8080/v1"],
    )
    api_key: str | None = Field(
        None,
        description="check only: key for base_url; use ${...}.",
        repr=False,
        examples=["${JUDGE_API_KEY}"],
    )


class GreetingSpec(_Model):
    """What the agent says first: exactly one of text or instructions."""

    text: str | None = Field(
        None,
        min_length=1,
        description="Said word for word.",
        examples=["Thanks for calling Bright Smile Dental. How can I help?"],
    )
    instructions: str | None = Field(
        None,
        min_length=1,
        description="Guidance for the first response; the model words it.",
        examples=["Greet the caller warmly and ask how you can help."],
    )


Greeting = Annotated[
    str | GreetingSpec,
    Field(
        description="Spoken before the caller says anything: text said word for word, or "
        "{instructions: ...} for the model to word it."
    ),
]


class ToolChoiceFunction(_Model):
    """Make the model call this one tool."""

    function: str = Field(description="The tool's name.", examples=["book_appointment"])


class TracingSpec(_Model):
    """Tracing in the OpenAI dashboard, with names to find the calls by."""

    workflow_name: str | None = Field(
        None, description="The workflow the traces belong to.", examples=["front desk"]
    )
    group_id: str | None = Field(
        None, description="Groups related traces, e.g. per site.", examples=["site-7"]
    )
    metadata: dict[str, str] | None = Field(
        None, description="Extra labels on the traces.", examples=[{"team": "dental"}]
    )


class PromptRef(_Model):
    """A reusable prompt stored at OpenAI (dashboard prompts), by id."""

    id: str = Field(
        pattern=r"^pmpt_[A-Za-z0-9_-]+$",
        description="The prompt's id, e.g. pmpt_abc123.",
        examples=["pmpt_abc123"],
    )
    version: str | None = Field(
        None, description="Which version (default: the current).", examples=["2"]
    )
    variables: dict[str, str] | None = Field(
        None, description="Values for the prompt's variables.", examples=[{"clinic": "Bright"}]
    )


class PromptFile(_Model):
    """Instructions read from a file, relative to the graph file."""

    file: str = Field(description="The file, relative to the graph file's folder.")


class HandoffSpec(_Model):
    """A handoff edge with its own description for the model."""

    to: str = Field(description="The agent to hand over to.")
    description: str | None = Field(
        None,
        description="When to hand over, in words for the model.",
        examples=["Questions about bills and payments."],
    )


class AgentSpec(_Model):
    """One agent: instructions plus what it may use and whom it may hand over to."""

    instructions: str | PromptFile = Field(
        description="What the agent is and does: text, or {file: prompt.md}; {{name}} is "
        "filled from variables."
    )
    handoff_description: str | None = Field(
        None,
        description="How other agents' handoff tools describe this agent to the model.",
        examples=["Books, moves and cancels appointments."],
    )
    tools: list[str | BuiltinToolUse] = Field(
        default_factory=list, description="Names under tools:, or {builtin: end_call}."
    )
    guardrails: list[str] = Field(default_factory=list, description="Names under guardrails:.")
    handoffs: list[str | HandoffSpec] = Field(
        default_factory=list, description="Agents this one may hand the conversation to."
    )
    turn_detection: TurnDetection | None = Field(
        None, description="This agent's own turn detection (not none)."
    )
    greeting: Greeting | None = Field(
        None,
        description="What this agent says first when it starts the conversation.",
        examples=[{"instructions": "Greet the caller and ask for the invoice number."}],
    )


class Graph(_Model):
    """An agentgraph graph file, version 1."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="agentgraph graph")

    version: Literal[1] = Field(description="The language version; always 1.")
    name: str = Field(description="Shown in logs, records and the console.")
    description: str | None = Field(None, description="One line on what the graph is for.")
    model: ModelSpec = Field(
        default_factory=lambda: ModelSpec.model_validate({}),
        description="Which Realtime model and provider.",
    )
    voice: Voice = Field("marin", description="The voice of every agent (fixed for the call).")
    audio: AudioSpec = Field(
        default_factory=lambda: AudioSpec.model_validate({}),
        description="Audio formats on the wire.",
    )
    transcription: TranscriptionSpec | None = Field(
        None, description="Transcribe the caller (user-side transcripts); absent: off."
    )
    turn_detection: TurnDetection | Literal["none"] | None = Field(
        None,
        description="semantic_vad, server_vad (or vad), or none for manual turns; "
        "absent: the server's default (server_vad).",
    )
    noise_reduction: Literal["near_field", "far_field"] | None = Field(
        None, description="Input noise reduction: near_field (headset), far_field (speaker)."
    )
    speed: float | None = Field(
        None,
        ge=0.25,
        le=1.5,
        description="How fast the agent speaks (1.0 is normal).",
        examples=[1.1],
    )
    modalities: list[Literal["audio", "text"]] | None = Field(
        None,
        min_length=1,
        description="What the agent answers with: [audio] (speech with a transcript, the "
        "default) or [text].",
    )
    tool_choice: Literal["auto", "none", "required"] | ToolChoiceFunction | None = Field(
        None,
        description="auto (default), none, required, or {function: tool_name}.",
        examples=["required"],
    )
    max_output_tokens: Annotated[int, Field(ge=1, le=4096)] | Literal["inf"] | None = Field(
        None, description="Longest reply in tokens (1-4096), or inf (the default).", examples=[600]
    )
    tracing: Literal["auto"] | TracingSpec | None = Field(
        None,
        description="auto, or {workflow_name, group_id, metadata}; absent: off.",
        examples=[{"workflow_name": "front desk"}],
    )
    prompt: PromptRef | None = Field(
        None,
        description="A stored OpenAI prompt to use, by id (OpenAI only).",
        examples=[{"id": "pmpt_abc123", "version": "2"}],
    )
    greeting: Greeting | None = Field(
        None,
        description="What the start agent says first (an agent's own greeting wins).",
        examples=["Thanks for calling Bright Smile Dental. How can I help?"],
    )
    start: str | None = Field(None, description="The first agent; default: the first listed.")
    variables: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Values for {{name}} placeholders in instructions."
    )
    tools: dict[str, ToolSpec] = Field(
        default_factory=dict, description="Tools by name; agents list the ones they may call."
    )
    guardrails: dict[str, GuardrailSpec] = Field(
        default_factory=dict, description="Output guardrails by name; agents list theirs."
    )
    agents: dict[str, AgentSpec] = Field(
        min_length=1, description="The agents by name; the first starts unless start: says."
    )
    sip: SipSpec | None = Field(None, description="Answer phone calls (SIP, or OpenAI's SIP).")
    secrets: list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]] = Field(
        default_factory=list,
        description="Environment variables whose ${...} values are secrets (redacted in "
        "all output) besides those named like secrets (KEY, SECRET, TOKEN, PASSWORD, PIN).",
        examples=[["CLINIC_DB_URL"]],
    )
    prompt_folders: list[str] = Field(
        default_factory=list,
        description="Folders (relative to this file) prompt files may also be read from; "
        "by default only the graph's own folder and below.",
        examples=[["../shared/prompts"]],
    )
