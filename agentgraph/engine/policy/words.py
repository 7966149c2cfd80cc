"""Word tables of the interpreter and the rules policy (English, lower case).

Kept apart from the logic so the tables can grow without touching it. `SYNONYMS` maps
a stem of an everyday word to the stem a tool's name or description is likely to use, so
a caller who says "reserve", "cab" or "film" meets a tool that says book, taxi or movie.
"""

from __future__ import annotations

__all__ = [
    "CHANGING_VERBS",
    "GREETING",
    "LOOKUP_VERBS",
    "NO",
    "STOP",
    "SYNONYMS",
    "YES",
]

# fmt: off
# Words that say nothing about which tool is meant.
STOP = frozenset(
    [
        "a", "able", "about", "actually", "agent", "ahead", "all", "also", "am", "an", "and",
        "any", "are", "as", "assist", "at", "be", "been", "bit", "by", "caller", "caller's", "can",
        "could", "current", "did", "do", "does", "don't", "er", "for", "from", "get", "give", "go",
        "going", "gonna", "had", "handle", "handles", "handoff", "has", "have", "hello", "help",
        "here", "hey", "hi", "hmm", "hoping", "how", "i", "i'd", "i'll", "i'm", "id", "if", "im",
        "in", "into", "is", "it", "its", "just", "kind", "know", "let", "let's", "like", "love",
        "may", "maybe", "me", "might", "mine", "much", "my", "need", "new", "not", "of", "oh",
        "ok", "okay", "on", "one", "or", "our", "out", "perhaps", "please", "possible", "question",
        "questions", "quick", "quickly", "really", "request", "right", "see", "should", "show",
        "so", "some", "somebody", "someone", "something", "sort", "tell", "thank", "thanks",
        "that", "the", "their", "them", "there", "there's", "they", "think", "this", "to",
        "transfer", "try", "trying", "uh", "um", "up", "user", "very", "wanna", "want", "was",
        "we", "well", "were", "what", "what's", "whats", "which", "who", "will", "with", "wonder",
        "wondering", "would", "yeah", "you", "your",
    ]
)
# Words that agree.
YES = frozenset(
    [
        "absolutely", "affirmative", "correct", "go", "ok", "okay", "right", "sure", "yeah", "yep",
        "yes", "yup", "perfect", "great", "fine", "definitely", "certainly", "exactly", "alright",
        "yea", "ya",
    ]
)
# Words that disagree.
NO = frozenset(
    [
        "don't", "dont", "nah", "negative", "no", "nope", "not", "wrong", "incorrect", "don't",
    ]
)
GREETING = frozenset(["hello", "hi", "hey", "morning", "afternoon", "evening", "greetings", "hiya"])
# Verbs whose tools change something: never called on a guess.
CHANGING_VERBS = frozenset(
    [
        "book", "cancel", "pay", "send", "order", "delete", "transfer", "reserve", "buy",
        "purchase", "refund", "remove", "schedule", "submit", "place", "charge", "create",
        "refill", "renew", "reschedule", "update", "change", "add", "request", "dispatch",
        "call", "move", "withdraw", "deposit", "sign", "register", "subscribe", "unsubscribe",
        "close", "open", "block", "freeze", "report", "file", "post", "set",
    ]
)
# Verbs whose tools only look something up, whatever noun follows ("get_order_status").
LOOKUP_VERBS = frozenset(
    [
        "get", "check", "look", "lookup", "find", "search", "list", "show", "fetch", "track",
        "query", "read", "view", "is", "what", "where", "when", "how", "estimat", "quot",
        "status", "balanc", "weather", "availability", "describ", "explain", "tell",
    ]
)
# stem of what a caller says -> stem a tool is likely to use
SYNONYMS: dict[str, str] = {
    "reserv": "book", "reservation": "book", "appoint": "appointment",
    "cab": "taxi", "ride": "taxi", "lift": "taxi",
    "track": "status", "where": "status",
    "medication": "prescription", "medicin": "prescription", "pill": "prescription",
    "meds": "prescription", "drug": "prescription", "renew": "refill",
    "forecast": "weather", "temperatur": "weather", "rain": "weather", "sunny": "weather",
    "raining": "weather", "umbrella": "weather",
    "purchas": "buy", "free": "availability", "availabl": "availability",
    "cost": "pric", "fare": "pric", "fee": "pric", "much": "pric", "expensiv": "pric",
    "dinner": "table", "lunch": "table", "restaurant": "table",
}
# fmt: on
