"""A tiny knowledge base of clinic articles with keyword search."""

from __future__ import annotations

import re

__all__ = ["ARTICLES", "search_knowledge_base"]

#: title -> (keywords, text)
ARTICLES: dict[str, tuple[frozenset[str], str]] = {
    "Opening hours": (
        frozenset(
            {
                "open",
                "opening",
                "hours",
                "close",
                "closing",
                "when",
                "weekend",
                "saturday",
                "sunday",
                "holiday",
                "time",
                "times",
            }
        ),
        "We are open Monday to Friday from 9:00 to 17:00 and on Saturday from 9:00 to 12:00. "
        "We are closed on Sundays and public holidays.",
    ),
    "Insurance": (
        frozenset(
            {
                "insurance",
                "insured",
                "insurer",
                "cover",
                "covered",
                "coverage",
                "claim",
                "policy",
                "plan",
            }
        ),
        "We accept most major insurance plans. Bring your insurance card to your first visit; "
        "we file the claim for you. Uninsured patients get a 10 percent discount.",
    ),
    "Parking": (
        frozenset({"parking", "park", "car", "garage", "drive", "driving", "bike"}),
        "Free parking is available in the garage behind the building; take a ticket and we "
        "validate it at the front desk. There is also a bike rack by the entrance.",
    ),
    "Cancellations": (
        frozenset(
            {"cancel", "cancellation", "reschedule", "change", "move", "late", "fee", "missed"}
        ),
        "You can cancel or reschedule free of charge up to 24 hours before your appointment. "
        "Later cancellations and missed appointments cost 25 dollars.",
    ),
    "Emergencies": (
        frozenset(
            {"emergency", "urgent", "pain", "bleeding", "swelling", "accident", "broken", "tonight"}
        ),
        "For dental emergencies during opening hours, call us and we will see you the same "
        "day. Outside opening hours, call the emergency line at 555 0100.",
    ),
    "Payment": (
        frozenset(
            {"pay", "payment", "card", "cash", "invoice", "bill", "price", "cost", "installments"}
        ),
        "We take cash, debit and credit cards. Larger treatments can be paid in installments.",
    ),
}
_WORD = re.compile(r"[a-z]+")


def search_knowledge_base(query: str) -> str:
    """Search the clinic's knowledge base (opening hours, insurance, parking, payment...).

    Args:
        query: what the caller wants to know, in their own words.
    """
    words = set(_WORD.findall(query.lower()))
    best_title, best_score = "", 0
    for title, (keywords, _text) in ARTICLES.items():
        score = len(words & keywords) + (2 if title.lower() in query.lower() else 0)
        if score > best_score:
            best_title, best_score = title, score
    if best_score == 0:
        topics = ", ".join(t.lower() for t in ARTICLES)
        return f"I couldn't find anything about that. I can help with: {topics}."
    return f"{best_title}: {ARTICLES[best_title][1]}"
