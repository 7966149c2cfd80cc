"""Runs output guardrails on the agent's transcript as it grows (one per session).

Each guardrail runs again once its `debounce_length` more characters arrived, and once on
the final transcript if anything is unchecked. A trip stops the answer (playback stopped,
item truncated, response cancelled), emits `guardrail_tripped`, adds the guardrail's
message as a system message and asks for a new response. A guardrail that raises is
reported as an `error` event and does not trip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentgraph.realtime import events as se
from agentgraph.realtime.guardrails import RealtimeOutputGuardrail

if TYPE_CHECKING:
    from agentgraph.realtime.session import RealtimeSession

__all__ = ["GuardrailRunner"]


class GuardrailRunner:
    """Debounced output-guardrail checks for one session."""

    def __init__(self, session: RealtimeSession) -> None:
        self.session = session
        self._chars: dict[str, int] = {}
        self._next: dict[tuple[str, int], int] = {}
        self._checked: dict[tuple[str, int], int] = {}
        self._tripped: set[str] = set()

    def _guardrails(self) -> list[RealtimeOutputGuardrail]:
        return [
            *self.session.current_agent.output_guardrails,
            *self.session.settings.output_guardrails,
        ]

    def on_delta(self, item_id: str, num_chars: int) -> None:
        """A transcript delta arrived; start the checks that are due."""
        guardrails = self._guardrails()
        if not guardrails or item_id in self._tripped:
            return
        total = self._chars.get(item_id, 0) + num_chars
        self._chars[item_id] = total
        due = []
        for index, guardrail in enumerate(guardrails):
            key = (item_id, index)
            if total >= self._next.get(key, guardrail.debounce_length):
                self._next[key] = total + guardrail.debounce_length
                due.append(index)
        if due:
            self.session.spawn(self._check(item_id, due))

    def on_done(self, item_id: str) -> None:
        """The transcript is final: check it with every guardrail that has not seen all of it."""
        guardrails = self._guardrails()
        if not guardrails or item_id in self._tripped:
            return
        total = len(self.session.history.text_of(item_id))
        due = [i for i in range(len(guardrails)) if self._checked.get((item_id, i), -1) < total]
        if due:
            self.session.spawn(self._check(item_id, due))

    async def _check(self, item_id: str, indexes: list[int]) -> None:
        session = self.session
        agent = session.current_agent
        guardrails = self._guardrails()
        text = session.history.text_of(item_id)
        for index in indexes:
            if item_id in self._tripped or index >= len(guardrails):
                return
            guardrail = guardrails[index]
            self._checked[(item_id, index)] = len(text)
            try:
                result = await guardrail.run(session.context, agent, text)
            except Exception as exc:
                session._emit(
                    se.RealtimeErrorEvent(
                        error={
                            "type": "guardrail_error",
                            "message": (
                                f"guardrail {guardrail.get_name()} failed: "
                                f"{type(exc).__name__}: {exc}"
                            ),
                        }
                    )
                )
                continue
            if result.tripwire_triggered and item_id not in self._tripped:
                self._trip(item_id, guardrail, text, result.output_info)
                return

    def _trip(
        self, item_id: str, guardrail: RealtimeOutputGuardrail, text: str, info: object
    ) -> None:
        session = self.session
        self._tripped.add(item_id)
        message = (
            guardrail.message
            or (info if isinstance(info, str) and info else None)
            or (f"that answer broke the rule '{guardrail.get_name()}'")
        )
        session.stop_for_guardrail(item_id)
        session._emit(
            se.RealtimeGuardrailTrippedEvent(
                guardrail_name=guardrail.get_name(), message=message, text=text, output_info=info
            )
        )
        session.add_guidance(
            f"Your previous answer was stopped by a guardrail: {message}. "
            "Answer the caller again and follow this rule."
        )
        session.request_response()
