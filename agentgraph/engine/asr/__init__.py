"""Speech recognition for the embedded engine: pocketsphinx with a per-session language."""

from agentgraph.engine.asr.sphinx import SphinxRecognizer, pronunciations
from agentgraph.engine.asr.vocabulary import session_sentences, session_text

__all__ = ["SphinxRecognizer", "pronunciations", "session_sentences", "session_text"]
