"""Voice names on the wire: what gpt-realtime offers and what the seed document adds.

One list for the client (`realtime.config`) and the embedded engine; the YAML language keeps
its own `Literal` (spec imports nothing), and a test keeps the two equal.
"""

__all__ = ["GA_VOICES", "SEED_ONLY_VOICES", "VOICES"]

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
#: The seed document's voices that gpt-realtime lacks; the embedded engine speaks them.
SEED_ONLY_VOICES = ("fable", "onyx", "nova")
#: Every voice accepted.
VOICES = (*GA_VOICES, *SEED_ONLY_VOICES)
