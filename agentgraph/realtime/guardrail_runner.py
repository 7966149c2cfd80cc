"""Runs output guardrails on the agent's transcript as it grows (one part per session core).

When checks run: each guardrail again once its `debounce_length` more characters arrived,
at every sentence end (the embedded engine sends a sentence of text just before its audio,
so checking there cuts a blocked reply before the caller hears more than about a sentence),
and once on the final transcript if anything is unchecked.

A trip stops the answer (playback stopped, item truncated, response cancelled), emits
`guardrail_tripped`, and asks for a new response that says the guardrail's configured
`message` (response metadata `agentgraph: guardrail` carries it for the engine's policy).
The guardrail's `output_info` is never spoken. A guardrail that raises blocks the reply
(fail closed) unless it was built with `on_error="allow"`; either way an `error` event says
what failed.

`transcript_done` of an item waits until every check of it has finished, so observers
never show a blocked reply as said (the tripped event carries the blocked text).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentgraph.realtime import events as se
from agentgraph.realtime.guardrails import GuardrailFunctionOutput, RealtimeOutputGuardrail
from agentgraph.realtime.host import RunGuardrail

if TYPE_CHECKING:
    from agentgraph.realtime.agent_audio import AgentAudio
    from agentgraph.realtime.host import SessionHost

__all__ = ["DEFAULT_BLOCKED_MESSAGE", "GuardrailRunner"]

DEFAULT_BLOCKED_MESSAGE = "Sorry, I can't help with that."
_SENTENCE_END = (".", "!", "?", "。", "…")
_MARK = "agentgraph"


class GuardrailRunner:
    """Debounced output-guardrail checks for one session."""

    def __init__(self, host: SessionHost, audio: AgentAudio) -> None:
        self.host = host
        self.audio = audio
        self._text: dict[str, str] = {}  # item -> transcript so far
        self._next: dict[tuple[str, int], int] = {}
        self._checked: dict[tuple[str, int], int] = {}
        self._running: dict[str, int] = {}  # item -> checks in flight
        self._held_done: dict[str, str] = {}  # item -> final transcript not yet emitted
        self.tripped: set[str] = set()

    def guardrails(self) -> list[RealtimeOutputGuardrail]:
        return [*self.host.agent.output_guardrails, *self.host.settings.output_guardrails]

    def on_delta(self, item_id: str, delta: str) -> None:
        """A transcript delta arrived; start the checks that are due."""
        guardrails = self.guardrails()
        if not guardrails or item_id in self.tripped:
            return
        text = self._text.get(item_id, "") + delta
        self._text[item_id] = text
        total = len(text)
        sentence_end = delta.rstrip().endswith(_SENTENCE_END)
        due = []
        for index, guardrail in enumerate(guardrails):
            key = (item_id, index)
            if total >= self._next.get(key, guardrail.debounce_length) or (
                sentence_end and self._checked.get(key, 0) < total
            ):
                self._next[key] = total + guardrail.debounce_length
                due.append(index)
        self._run(item_id, due, guardrails)

    def on_done(self, item_id: str, transcript: str) -> bool:
        """The transcript is final. Returns True when `transcript_done` may be emitted now;
        otherwise the runner emits it once the last check passed (or never, on a trip)."""
        guardrails = self.guardrails()
        if item_id in self.tripped:
            return False
        if not guardrails:
            return True
        self._text[item_id] = transcript
        total = len(transcript)
        due = [i for i in range(len(guardrails)) if self._checked.get((item_id, i), -1) < total]
        self._run(item_id, due, guardrails)
        if self._running.get(item_id):
            self._held_done[item_id] = transcript
            return False
        self.forget(item_id)
        return True

    def _run(self, item_id: str, due: list[int], guardrails: list[RealtimeOutputGuardrail]) -> None:
        if not due:
            return
        text = self._text.get(item_id, "")
        agent = self.host.agent
        for index in due:
            self._checked[(item_id, index)] = len(text)
            self._running[item_id] = self._running.get(item_id, 0) + 1
            self.host.act(RunGuardrail(item_id, index, guardrails[index], agent, text))

    def receive_result(
        self,
        action: RunGuardrail,
        result: GuardrailFunctionOutput | None,
        error: BaseException | None,
    ) -> None:
        """A check finished: `result`, or the exception it raised."""
        item_id = action.item_id
        self._running[item_id] = max(0, self._running.get(item_id, 0) - 1)
        guardrail = action.guardrail
        if item_id not in self.tripped:
            if error is not None:
                self.host.emit(
                    se.RealtimeErrorEvent(
                        error={
                            "type": "guardrail_error",
                            "message": (
                                f"guardrail {guardrail.get_name()} failed: "
                                f"{type(error).__name__}: {error}"
                                + (
                                    " (the reply was let through: on_error is allow)"
                                    if guardrail.on_error == "allow"
                                    else " (the reply was blocked: guardrails fail closed)"
                                )
                            ),
                        }
                    )
                )
                if guardrail.on_error != "allow":
                    self._trip(item_id, guardrail, action.text, None)
            elif result is not None and result.tripwire_triggered:
                self._trip(item_id, guardrail, action.text, result.output_info)
        if not self._running.get(item_id):
            self._running.pop(item_id, None)
            held = self._held_done.pop(item_id, None)
            if held is not None and item_id not in self.tripped:
                self.host.emit(se.RealtimeTranscriptDoneEvent(item_id=item_id, transcript=held))
                self.forget(item_id)

    def _trip(
        self, item_id: str, guardrail: RealtimeOutputGuardrail, text: str, info: object
    ) -> None:
        host = self.host
        self.tripped.add(item_id)
        self._held_done.pop(item_id, None)
        # Only the configured message is ever said; output_info is for logs.
        message = guardrail.message or DEFAULT_BLOCKED_MESSAGE
        full = self._text.get(item_id) or text
        host.cancel_response()
        self.audio.cut_item(item_id)
        host.emit(
            se.RealtimeGuardrailTrippedEvent(
                guardrail_name=guardrail.get_name(),
                message=message,
                text=full,
                output_info=info,
                item_id=item_id,
            )
        )
        host.add_guidance(
            f"Your previous answer was blocked by the rule '{guardrail.get_name()}' and the "
            f'caller did not hear it; you say "{message}" instead. Follow that rule from now on.'
        )
        host.request_response(
            {
                "instructions": f'Say exactly this to the caller and nothing else: "{message}"',
                "tool_choice": "none",
                "metadata": {_MARK: "guardrail", "guardrail_message": message[:500]},
            }
        )

    def forget(self, item_id: str) -> None:
        """Drop bookkeeping of a finished item (keeps memory flat on long calls)."""
        self._text.pop(item_id, None)
        for index in range(len(self.guardrails())):
            self._next.pop((item_id, index), None)
            self._checked.pop((item_id, index), None)
