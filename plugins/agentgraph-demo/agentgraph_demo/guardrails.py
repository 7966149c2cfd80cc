"""A plugin guardrail: the front desk must not give medical advice."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["no_medical_advice"]

_ADVICE = re.compile(
    r"\b(you should take|take (an? )?(ibuprofen|paracetamol|aspirin|antibiotics?)|"
    r"\d+\s?mg\b|dosage|diagnos(e|is))",
    re.IGNORECASE,
)


def no_medical_advice(context: Any, agent: Any, text: str) -> Any:
    """Trip when the agent starts recommending medication, dosages or diagnoses.

    Args:
        context: the session context (unused).
        agent: the agent speaking (unused).
        text: the agent's transcript so far.
    """
    from agentgraph.realtime import GuardrailFunctionOutput  # only needed when it runs

    match = _ADVICE.search(text)
    return GuardrailFunctionOutput(
        output_info=(
            "Do not give medical advice; offer an appointment with a dentist instead."
            if match
            else None
        ),
        tripwire_triggered=match is not None,
    )
