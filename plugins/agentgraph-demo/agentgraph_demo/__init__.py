"""Demo tools for agentgraph: weather, appointment booking, knowledge-base search.

Each tool is a plain typed function with a Google-style docstring; agentgraph turns the
signature into the tool's JSON Schema and the docstring into its description. They are
published as entry points (group `agentgraph.tools`, and `agentgraph.guardrails` for the
guardrail) so a graph can say `entry_point: get_weather`.
"""

from agentgraph_demo.booking import book_appointment, check_availability
from agentgraph_demo.guardrails import no_medical_advice
from agentgraph_demo.knowledge import search_knowledge_base
from agentgraph_demo.weather import get_weather

__all__ = [
    "book_appointment",
    "check_availability",
    "get_weather",
    "no_medical_advice",
    "search_knowledge_base",
]
