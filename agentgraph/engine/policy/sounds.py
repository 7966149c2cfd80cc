"""Sounds-like matching of misheard words against the values a slot can take.

A recognizer that does not know a session's words writes what it heard in other words:
"the grid" for Madrid, "tubes date" for Tuesday, "semi brown" for Emma Brown. When a
city, name, weekday or enum value is wanted but none is found literally, `sounds_like`
compares the phones of every 1-3 word window (CMU pronouncing dictionary, shipped in the
pocketsphinx wheel) with those of each candidate. A match is only ever a guess: the
interpreter gives it a low confidence, so the policy asks "Did you say Madrid?" or reads
the call back before acting on it.
"""

from __future__ import annotations

import difflib
import re
from functools import cache

__all__ = ["phones", "sounds_like"]

_MIN_RATIO = 0.65


@cache
def _table() -> dict[str, str]:
    try:
        from agentgraph.engine.asr.sphinx import pronunciations

        return pronunciations()
    except Exception:  # no pocketsphinx: no sounds-like matching, exact values only
        return {}


@cache
def phones(text: str) -> tuple[str, ...] | None:
    """The phones of `text` without stress marks, or None if a word is not in the dictionary."""
    out: list[str] = []
    table = _table()
    for word in re.findall(r"[a-z']+", text.lower()):
        entry = table.get(word)
        if entry is None:
            return None
        out.extend(re.sub(r"\d", "", p) for p in entry.split())
    return tuple(out) or None


def sounds_like(
    words: list[str],
    candidates: list[str],
    after: frozenset[str] | None = None,
    *,
    min_ratio: float = _MIN_RATIO,
    min_phones: int = 4,
    max_words: int = 3,
) -> tuple[str, float] | None:
    """The candidate some window of `words` sounds most like, and how alike (0-1).

    With `after`, only windows right after one of those words count ("to the grid"), so
    an ordinary sentence is not taken for a city; None looks everywhere (an answer).
    """
    targets = [(c, phones(c)) for c in candidates]
    best: tuple[str, float] | None = None
    for n in range(1, max_words + 1):
        for i in range(len(words) - n + 1):
            if after is not None and (i == 0 or words[i - 1] not in after):
                continue
            heard = phones(" ".join(words[i : i + n]))
            if heard is None or len(heard) < min_phones:
                continue
            for candidate, target in targets:
                if target is None or abs(len(target) - len(heard)) > 3:
                    continue
                ratio = difflib.SequenceMatcher(None, heard, target, autojunk=False).ratio()
                if ratio >= min_ratio and (best is None or ratio > best[1]):
                    best = (candidate, ratio)
    return best
