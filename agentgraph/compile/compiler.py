"""Spec -> `agentgraph.realtime` objects: the same objects a Python user would write.

Order of work: tools once per graph (shared by the agents that list them), guardrails
once per graph, agents without handoffs, then handoffs (agents may point at each other),
then the session-wide model settings in the SDK's flat shape. Plugin references are
loaded here, so compiling runs plugin code; validation does not.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentgraph.audio import AudioFormat
from agentgraph.errors import PluginError, SpecError
from agentgraph.plugins import GUARDRAIL_GROUP, TOOL_GROUP, load_entry, load_ref
from agentgraph.realtime import (
    ApprovalPolicy,
    FunctionTool,
    Greeting,
    GuardrailFunctionOutput,
    Handoff,
    ModelSettings,
    RealtimeAgent,
    RealtimeOutputGuardrail,
    end_call,
    function_tool,
    handoff,
    instruction_guardrail,
    make_transfer_call,
    normalize_model_settings,
)
from agentgraph.spec import Spec, check_approvals, parse_condition
from agentgraph.spec.models import (
    SEMANTIC_VAD_DROPPED,
    ApprovalRule,
    BuiltinToolUse,
    GreetingSpec,
    GuardrailSpec,
    HandoffSpec,
    NoTurnDetection,
    SemanticVad,
    ServerVad,
    ToolChoiceFunction,
    ToolSpec,
)
from agentgraph.spec.sip_models import SipMediaStreamsSpec

__all__ = [
    "CompiledGraph",
    "MatchGuardrail",
    "ModelChoice",
    "SipMediaStreamsSettings",
    "SipOpenAISettings",
    "SipSettings",
    "approval_policy",
    "compile_graph",
    "turn_detection_wire",
]

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """Which model backend to use; `provider` stays as written (auto is resolved by the app).

    Attributes:
        provider: "auto" (OpenAI when OPENAI_API_KEY is set, else local), "openai", "local".
        name: the Realtime model name.
        base_url: a Realtime-compatible URL, or None for the provider's default.
        api_key: the key from the graph (usually `${OPENAI_API_KEY}`); never printed.
    """

    provider: str
    name: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class SipOpenAISettings:
    """OpenAI SIP connector: where the `realtime.call.incoming` webhook listens."""

    webhook_secret: str = field(repr=False)
    host: str
    port: int
    path: str
    project_id: str | None = None


@dataclass(frozen=True, slots=True)
class SipMediaStreamsSettings:
    """Who may open a media stream: a URL token and/or Twilio's signature over `public_url`."""

    token: str | None = field(default=None, repr=False)
    twilio_auth_token: str | None = field(default=None, repr=False)
    public_url: str | None = None


@dataclass(frozen=True, slots=True)
class SipSettings:
    """Direct SIP: listen address, who may call, how many at once, routes to agents."""

    host: str
    port: int
    allow: tuple[IpNetwork, ...]
    max_calls: int
    routes: Mapping[str, str]
    codecs: tuple[str, ...]
    start_agent: str
    openai: SipOpenAISettings | None = None
    media_streams: SipMediaStreamsSettings | None = None

    def allows(self, address: str) -> bool:
        """Whether a caller at `address` (an IP) may call."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.allow)

    def agent_for(self, number: str | None) -> str:
        """The agent that answers calls to `number` (the start agent when unrouted)."""
        if number is not None and number in self.routes:
            return self.routes[number]
        return self.start_agent


@dataclass(frozen=True)
class CompiledGraph:
    """A graph ready to run.

    Attributes:
        name: the graph's name.
        starting_agent: the agent the session starts with.
        agents: every agent by name.
        run_config: a `RealtimeRunConfig` dict: `{"model_settings": {...}}` (flat shape,
            what a Python user writes) and the graph's `greeting`.
        model: the model backend choice.
        sip: SIP settings, or None when the graph has no `sip` section.
        spec: the validated spec it came from (secrets, warnings, positions).
        model_settings: the same settings, typed and normalised once at compile time
            (`ModelSettings`); use this rather than parsing `run_config` again.
    """

    name: str
    starting_agent: RealtimeAgent
    agents: dict[str, RealtimeAgent]
    run_config: dict[str, Any]
    model: ModelChoice
    sip: SipSettings | None
    spec: Spec = field(repr=False)
    model_settings: ModelSettings = field(default_factory=ModelSettings)

    def config_for(self, audio_format: AudioFormat | None = None) -> dict[str, Any]:
        """The `RealtimeRunConfig` to run with: the typed `model_settings` (with a
        transport's audio format on both directions, when given) and the greeting."""
        settings = self.model_settings
        if audio_format is not None:
            settings = dataclasses.replace(
                settings, input_format=audio_format, output_format=audio_format
            )
        config = {k: v for k, v in self.run_config.items() if k != "model_settings"}
        config["model_settings"] = settings
        return config


@dataclass(frozen=True, slots=True)
class MatchGuardrail:
    """The built-in `match` guardrail: trips when the pattern occurs (case-insensitive)."""

    pattern: re.Pattern[str]
    message: str | None = None

    @classmethod
    def from_words(
        cls, keywords: list[str] | None, regex: str | None, message: str | None = None
    ) -> MatchGuardrail:
        parts = []
        if keywords:
            parts.append(r"\b(?:" + "|".join(re.escape(k) for k in keywords) + r")\b")
        if regex:
            parts.append(f"(?:{regex})")
        return cls(re.compile("|".join(parts), re.IGNORECASE), message)

    def __call__(self, context: Any, agent: Any, text: str) -> GuardrailFunctionOutput:
        match = self.pattern.search(text)
        if match is None:
            return GuardrailFunctionOutput(output_info=None, tripwire_triggered=False)
        info = self.message or f"Do not say '{match.group(0)}'."
        return GuardrailFunctionOutput(output_info=info, tripwire_triggered=True)


def approval_policy(
    rule: ApprovalRule | str | None, params: Mapping[str, Any] | None = None
) -> ApprovalPolicy | None:
    """The runtime policy for a YAML `approval:` value (None for never/absent).

    Args:
        rule: the YAML value.
        params: the tool's parameter JSON Schema; it types the condition's comparisons.
    """
    if rule is None or rule == "never":
        return None
    if rule == "always":
        rule = ApprovalRule.model_validate({})
    assert isinstance(rule, ApprovalRule)
    return ApprovalPolicy(
        when=parse_condition(rule.when, params) if rule.when is not None else None,
        by=rule.by,
        message=rule.message,
        timeout_s=rule.timeout_s,
        on_timeout=rule.on_timeout,
    )


def turn_detection_wire(
    td: SemanticVad | ServerVad | NoTurnDetection | str | None,
) -> dict[str, Any] | None:
    """The GA `turn_detection` object (None for manual turns).

    semantic_vad's server_vad-only keys (threshold, prefix_padding_ms,
    silence_duration_ms) are dropped here; validation already warned (AG114).
    """
    if td is None or isinstance(td, (NoTurnDetection, str)):
        return None
    drop = set(SEMANTIC_VAD_DROPPED) if isinstance(td, SemanticVad) else set()
    wire = td.model_dump(exclude_none=True, exclude=drop)
    if wire["type"] == "vad":
        wire["type"] = "server_vad"
    return wire


def _greeting(value: str | GreetingSpec | None) -> Greeting | None:
    """A YAML greeting as the runtime's `Greeting` (text said word for word, or
    instructions for the first response)."""
    if value is None:
        return None
    if isinstance(value, str):
        return Greeting(text=value)
    return Greeting(text=value.text, instructions=value.instructions)


def _where(section: str, name: str) -> str:
    return f"{section}.{name}"


def _load(section: str, name: str, ref: str | None, entry_point: str | None, group: str) -> Any:
    try:
        if ref is not None:
            return load_ref(ref)
        assert entry_point is not None
        return load_entry(group, entry_point)
    except PluginError as exc:
        raise PluginError(f"{_where(section, name)}: {exc}") from exc


def _builtin(kind: str, name: str, approval: ApprovalRule | str | None) -> FunctionTool:
    if kind == "end_call":
        tool = end_call
        if approval is not None:
            policy = approval_policy(approval, tool.params_json_schema)
            tool = dataclasses.replace(tool, approval=policy)
    elif approval is None:
        tool = make_transfer_call()  # transfer needs approval by default
    else:
        tool = make_transfer_call()
        policy = approval_policy(approval, tool.params_json_schema)
        tool = dataclasses.replace(tool, approval=policy)
    return tool if tool.name == name else dataclasses.replace(tool, name=name)


def _compile_tool(name: str, spec: ToolSpec) -> FunctionTool:
    if spec.builtin is not None:
        tool = _builtin(spec.builtin, name, spec.approval)
        if spec.description or spec.timeout_s is not None:
            tool = dataclasses.replace(
                tool,
                description=spec.description or tool.description,
                timeout_s=spec.timeout_s if spec.timeout_s is not None else tool.timeout_s,
            )
        return tool
    target = _load("tools", name, spec.ref, spec.entry_point, TOOL_GROUP)
    if isinstance(target, FunctionTool):
        changes: dict[str, Any] = {}
        if target.name != name:
            changes["name"] = name
        if spec.description is not None:
            changes["description"] = spec.description
        if spec.timeout_s is not None:
            changes["timeout_s"] = spec.timeout_s
        if spec.approval == "never":
            changes["approval"] = None
            changes["needs_approval"] = False
        result: FunctionTool = dataclasses.replace(target, **changes) if changes else target
        return result
    if not callable(target):
        raise PluginError(
            f"tools.{name}: {type(target).__name__} is not a function or FunctionTool"
        )
    wrapped: FunctionTool = function_tool(
        target,
        name_override=name if name != getattr(target, "__name__", None) else None,
        description_override=spec.description,
        timeout_s=spec.timeout_s,
    )
    return wrapped


def _with_approval(tool: FunctionTool, spec: ToolSpec) -> FunctionTool:
    """The tool with its YAML approval rule, typed by the parameters it really has (the
    rules were checked against them first, so parsing cannot fail here)."""
    if spec.builtin is not None or spec.approval is None or spec.approval == "never":
        return tool
    return dataclasses.replace(
        tool, approval=approval_policy(spec.approval, tool.params_json_schema)
    )


def _compile_guardrail(name: str, spec: GuardrailSpec) -> RealtimeOutputGuardrail:
    guard = _guardrail(name, spec)
    if getattr(guard, "on_error", "block") != spec.on_error:  # block: the runtime default
        guard = dataclasses.replace(guard, on_error=spec.on_error)
    return guard


def _guardrail(name: str, spec: GuardrailSpec) -> RealtimeOutputGuardrail:
    if spec.match is not None:
        fn = MatchGuardrail.from_words(spec.match.keywords, spec.match.regex, spec.message)
        return RealtimeOutputGuardrail(
            guardrail_function=fn,
            name=name,
            debounce_length=spec.debounce_length,
            message=spec.message,
        )
    if spec.check is not None:
        # A text model judges the transcript against the instruction (chat completions).
        return instruction_guardrail(
            spec.check,
            name=name,
            message=spec.message,
            debounce_length=spec.debounce_length,
            model=spec.model,
            base_url=spec.base_url,
            api_key=spec.api_key,
        )
    target = _load("guardrails", name, spec.ref, spec.entry_point, GUARDRAIL_GROUP)
    if isinstance(target, RealtimeOutputGuardrail):
        return dataclasses.replace(
            target,
            name=name,
            debounce_length=spec.debounce_length,
            message=spec.message or target.message,
        )
    if not callable(target):
        raise PluginError(f"guardrails.{name}: {type(target).__name__} is not a function")
    return RealtimeOutputGuardrail(
        guardrail_function=target,
        name=name,
        debounce_length=spec.debounce_length,
        message=spec.message,
    )


def _model_settings(spec: Spec) -> dict[str, Any]:
    """The session-wide settings in the SDK's flat shape (what a Python user writes)."""
    g = spec.graph
    settings: dict[str, Any] = {
        "model_name": g.model.name,
        "voice": g.voice,
        "modalities": list(g.modalities or ["audio"]),
        "input_audio_format": g.audio.input_format,
        "output_audio_format": g.audio.output_format,
    }
    if g.transcription is not None:
        settings["input_audio_transcription"] = g.transcription.model_dump(exclude_none=True)
    if g.turn_detection is not None:
        settings["turn_detection"] = turn_detection_wire(g.turn_detection)
    if g.noise_reduction is not None:
        settings["input_audio_noise_reduction"] = {"type": g.noise_reduction}
    if g.speed is not None:
        settings["speed"] = g.speed
    if isinstance(g.tool_choice, ToolChoiceFunction):
        settings["tool_choice"] = {"type": "function", "name": g.tool_choice.function}
    elif g.tool_choice is not None:
        settings["tool_choice"] = g.tool_choice
    if g.max_output_tokens is not None:
        settings["max_output_tokens"] = g.max_output_tokens
    if g.tracing is not None:
        settings["tracing"] = (
            g.tracing if isinstance(g.tracing, str) else g.tracing.model_dump(exclude_none=True)
        )
    if g.prompt is not None:
        settings["prompt"] = g.prompt.model_dump(exclude_none=True)
    return settings


def _sip(spec: Spec) -> SipSettings | None:
    sip = spec.graph.sip
    if sip is None:
        return None
    host, port = sip.listen.rsplit(":", 1)
    openai = None
    if sip.openai is not None:
        o_host, o_port = sip.openai.listen.rsplit(":", 1)
        openai = SipOpenAISettings(
            webhook_secret=sip.openai.webhook_secret,
            host=o_host.strip("[]"),
            port=int(o_port),
            path=sip.openai.path,
            project_id=sip.openai.project_id,
        )
    return SipSettings(
        host=host.strip("[]"),
        port=int(port),
        allow=tuple(ipaddress.ip_network(n, strict=False) for n in sip.allow),
        max_calls=sip.max_calls,
        routes=dict(sip.routes),
        codecs=tuple(sip.codecs),
        start_agent=spec.start,
        openai=openai,
        media_streams=_media_streams(sip.media_streams),
    )


def _media_streams(streams: SipMediaStreamsSpec | None) -> SipMediaStreamsSettings | None:
    if streams is None:
        return None
    return SipMediaStreamsSettings(
        token=streams.token,
        twilio_auth_token=streams.twilio_auth_token,
        public_url=streams.public_url,
    )


def compile_graph(spec: Spec) -> CompiledGraph:
    """Build the runtime objects for a validated graph.

    Args:
        spec: from `agentgraph.spec.load_graph`.

    Raises:
        PluginError: a tool or guardrail reference cannot be imported or used.
    """
    g = spec.graph
    tools = {name: _compile_tool(name, t) for name, t in g.tools.items()}
    # The rules against the parameters the tools really have: a rule that names a
    # parameter that does not exist, or compares one with a literal of the wrong kind,
    # stops here, before the first call.
    params: dict[str, Mapping[str, Any]] = {n: t.params_json_schema for n, t in tools.items()}
    problems = check_approvals(spec, params)
    if problems:
        raise SpecError(problems)
    tools = {name: _with_approval(tool, g.tools[name]) for name, tool in tools.items()}
    guards = {name: _compile_guardrail(name, s) for name, s in g.guardrails.items()}
    agents: dict[str, RealtimeAgent] = {}
    for name, a in g.agents.items():
        agent_tools: list[FunctionTool] = []
        for entry in a.tools:
            if isinstance(entry, BuiltinToolUse):
                agent_tools.append(_builtin(entry.builtin, entry.builtin, entry.approval))
            else:
                agent_tools.append(tools[entry])
        agents[name] = RealtimeAgent(
            name=name,
            instructions=spec.instructions[name],
            tools=agent_tools,
            output_guardrails=[guards[x] for x in a.guardrails],
            handoff_description=a.handoff_description,
            turn_detection=turn_detection_wire(a.turn_detection),
            greeting=_greeting(a.greeting),
        )
    for name, a in g.agents.items():
        edges: list[RealtimeAgent | Handoff] = []
        for edge in a.handoffs:
            if isinstance(edge, HandoffSpec):
                edges.append(
                    handoff(agents[edge.to], tool_description_override=edge.description)
                    if edge.description
                    else agents[edge.to]
                )
            else:
                edges.append(agents[edge])
        agents[name].handoffs = edges
    api_key = g.model.api_key or None
    flat = _model_settings(spec)
    run_config: dict[str, Any] = {"model_settings": flat}
    if g.greeting is not None:
        run_config["greeting"] = _greeting(g.greeting)
    return CompiledGraph(
        name=g.name,
        starting_agent=agents[spec.start],
        agents=agents,
        run_config=run_config,
        model_settings=normalize_model_settings(flat),
        model=ModelChoice(
            provider=g.model.provider, name=g.model.name, base_url=g.model.base_url, api_key=api_key
        ),
        sip=_sip(spec),
        spec=spec,
    )
