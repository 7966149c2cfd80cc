"""Graphs and caller requests for bench/understanding.py (text only; audio is generated).

Two disjoint parts. TUNE graphs and phrasings are what the interpreter and the rules
policy were developed against. HELD-OUT graphs (parcels, a bank, a cinema, a hotel, an
electricity supplier) and their phrasings were written once, before any held-out score
was seen, and are only scored. Each request is a caller goal: the tool and arguments the
caller wants, the first thing they say, what they answer when asked for each argument,
and optionally a correction said on their second turn ("actually, make it Wednesday").
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass, field
from typing import Any

TODAY = dt.date(2026, 12, 3)  # a Thursday

__all__ = ["GRAPHS", "TODAY", "Graph", "Request", "requests"]


def _day(name: str) -> str:
    names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    ahead = (names.index(name) - TODAY.weekday()) % 7 or 7
    return (TODAY + dt.timedelta(days=ahead)).isoformat()


def _tool(name: str, desc: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "function",
        "name": name,
        "description": desc,
        "parameters": {"type": "object", "properties": props, "required": required},
    }


def _handoff(agent: str, about: str) -> dict[str, Any]:
    return _tool(
        f"transfer_to_{agent}",
        f"Handoff to the {agent} agent to handle the request. {about}",
        {},
        [],
    )


S = {"type": "string"}
INT = {"type": "integer"}


@dataclass(frozen=True)
class Graph:
    """A graph's first agent as the engine sees it: instructions and tools."""

    name: str
    held_out: bool
    instructions: str
    tools: list[dict[str, Any]]
    lookups: tuple[str, ...] = ()  # lookups the policy may run before the wanted tool


@dataclass(frozen=True)
class Request:
    """One caller goal and how the caller words it."""

    graph: str
    tool: str
    args: dict[str, Any]
    first: str
    answers: dict[str, str] = field(default_factory=dict)
    correction: str | None = None  # said on the second turn
    kind: str = "plain"


GRAPHS: dict[str, Graph] = {
    g.name: g
    for g in [
        Graph(
            "concierge",
            False,
            "You are Ava, the concierge of the Harbour Hotel.",
            [
                _tool("get_weather", "Get the current weather for a city.", {"city": S}, ["city"]),
                _tool(
                    "book_table",
                    "Book a table at the hotel restaurant.",
                    {
                        "party_size": {"type": "integer", "description": "Number of people"},
                        "time": {"type": "string", "description": "Time as HH:MM, 24-hour"},
                    },
                    ["party_size", "time"],
                ),
                _tool(
                    "get_order_status",
                    "Look up the status of an order.",
                    {"order_number": {"type": "string", "description": "The order number"}},
                    ["order_number"],
                ),
            ],
        ),
        Graph(
            "dental",
            False,
            "You are Sam at Bright Smile Dental. Call check_availability with the date "
            "before you call book_appointment.",
            [
                _tool(
                    "check_availability",
                    "List free appointment times on a date.",
                    {"date": {"type": "string", "description": "YYYY-MM-DD"}},
                    ["date"],
                ),
                _tool(
                    "book_appointment",
                    "Book a dental appointment.",
                    {"date": S, "time": S, "name": S},
                    ["date", "time", "name"],
                ),
                _tool(
                    "cancel_appointment",
                    "Cancel an existing appointment.",
                    {"name": S, "date": S},
                    ["name", "date"],
                ),
                _handoff("billing", "Questions about invoices and payments."),
            ],
            lookups=("check_availability",),
        ),
        Graph(
            "pharmacy",
            False,
            "You are the refill line of Greenleaf Pharmacy.",
            [
                _tool(
                    "refill_prescription",
                    "Request a refill of a prescription.",
                    {
                        "prescription_number": S,
                        "pickup_store": {
                            "type": "string",
                            "enum": ["downtown", "airport", "riverside"],
                        },
                    },
                    ["prescription_number", "pickup_store"],
                ),
                _tool(
                    "check_refill_status",
                    "Check whether a prescription refill is ready.",
                    {"prescription_number": S},
                    ["prescription_number"],
                ),
            ],
        ),
        Graph(
            "taxi",
            False,
            "You are the booking line of City Cabs.",
            [
                _tool(
                    "book_taxi",
                    "Book a taxi to a destination.",
                    {
                        "destination": {"type": "string", "description": "Destination city"},
                        "time": {"type": "string", "description": "Pickup time HH:MM"},
                        "passengers": INT,
                        "wheelchair_accessible": {"type": "boolean"},
                    },
                    ["destination", "time", "passengers"],
                ),
                _tool(
                    "get_fare_estimate",
                    "Estimate the fare to a destination.",
                    {"destination": {"type": "string", "description": "Destination city"}},
                    ["destination"],
                ),
            ],
        ),
        # ---- held out: never tuned on -------------------------------------------------
        Graph(
            "parcels",
            True,
            "You are the helpline of Swift Parcels.",
            [
                _tool(
                    "track_parcel",
                    "Find out where a parcel is.",
                    {"tracking_number": S},
                    ["tracking_number"],
                ),
                _tool(
                    "redirect_parcel",
                    "Send a parcel on to a different city.",
                    {"tracking_number": S, "city": S},
                    ["tracking_number", "city"],
                ),
            ],
        ),
        Graph(
            "bank",
            True,
            "You are the phone banking assistant of Northern Bank.",
            [
                _tool(
                    "get_balance",
                    "Tell the caller the balance of one of their accounts.",
                    {"account": {"type": "string", "enum": ["checking", "savings"]}},
                    ["account"],
                ),
                _tool(
                    "transfer_money",
                    "Move money between the caller's own accounts.",
                    {
                        "amount": {"type": "number"},
                        "from_account": {"type": "string", "enum": ["checking", "savings"]},
                        "to_account": {"type": "string", "enum": ["checking", "savings"]},
                    },
                    ["amount", "from_account", "to_account"],
                ),
                _tool(
                    "block_card",
                    "Block a lost or stolen card.",
                    {"card": {"type": "string", "enum": ["debit", "credit"]}},
                    ["card"],
                ),
            ],
        ),
        Graph(
            "cinema",
            True,
            "You are the box office of the Rex Cinema.",
            [
                _tool(
                    "list_showtimes",
                    "List the showtimes of a movie on a date.",
                    {
                        "movie": {"type": "string", "enum": ["Dune", "Wicked", "Gladiator"]},
                        "date": {"type": "string", "format": "date"},
                    },
                    ["movie", "date"],
                ),
                _tool(
                    "buy_tickets",
                    "Buy cinema tickets for a showing.",
                    {
                        "movie": {"type": "string", "enum": ["Dune", "Wicked", "Gladiator"]},
                        "date": {"type": "string", "format": "date"},
                        "time": {"type": "string", "description": "HH:MM"},
                        "tickets": INT,
                    },
                    ["movie", "date", "time", "tickets"],
                ),
            ],
        ),
        Graph(
            "hotel",
            True,
            "You are the reservations desk of the Lakeside Inn.",
            [
                _tool(
                    "reserve_room",
                    "Reserve a room at the inn.",
                    {
                        "check_in": {"type": "string", "format": "date"},
                        "nights": INT,
                        "room_type": {"type": "string", "enum": ["single", "double", "suite"]},
                    },
                    ["check_in", "nights", "room_type"],
                ),
                _tool(
                    "get_checkout_time",
                    "Tell the caller when checkout is.",
                    {},
                    [],
                ),
            ],
        ),
        Graph(
            "power",
            True,
            "You are the customer line of Bright Power, an electricity supplier.",
            [
                _tool(
                    "report_outage",
                    "Report a power cut in a town.",
                    {"town": S},
                    ["town"],
                ),
                _tool(
                    "get_bill_amount",
                    "Look up the amount due on an account.",
                    {"account_number": S},
                    ["account_number"],
                ),
            ],
        ),
    ]
}

_CITIES = ["Paris", "Berlin", "Tokyo", "Madrid", "Chicago", "Dublin", "Rome", "Toronto"]
_NAMES = [
    ("Maria Garcia", "Maria Garcia"),
    ("John Smith", "John Smith"),
    ("Emma Brown", "Emma Brown"),
]
_NUMS = ["557", "2148", "3906", "71824", "640", "9315"]
_SPELL = {
    "0": "zero",
    "1": "one",
    "2": "two",
    "3": "three",
    "4": "four",
    "5": "five",
    "6": "six",
    "7": "seven",
    "8": "eight",
    "9": "nine",
}
_COUNT = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 1: "one"}


def _spell(digits: str) -> str:
    return " ".join(_SPELL[d] for d in digits)


def _tune(rng: random.Random) -> list[Request]:
    out: list[Request] = []
    weather = [
        "What's the weather in {c}?",
        "Is it going to rain in {c} today?",
        "How is the weather looking in {c}?",
        "Can you tell me the weather for {c}, please?",
        "Um, I'm flying to {c}. What's the weather like there?",
    ]
    for i, c in enumerate(_CITIES):
        out.append(
            Request(
                "concierge",
                "get_weather",
                {"city": c},
                weather[i % len(weather)].format(c=c),
                {"city": f"{c}."},
            )
        )
    table = [
        ("Book a table for {n} at {t}, please.", True),
        ("I'd like to reserve a table for {n} people.", False),
        ("Could I get a table for {n} tonight at {t}?", True),
        ("We'd love dinner at {t}, a table for {n}.", True),
    ]
    times = [("8 pm", "20:00"), ("seven thirty in the evening", "19:30"), ("6 pm", "18:00")]
    for i in range(8):
        n = 2 + i % 4
        tt, tv = times[i % len(times)]
        phrase, with_time = table[i % len(table)]
        out.append(
            Request(
                "concierge",
                "book_table",
                {"party_size": n, "time": tv},
                phrase.format(n=_COUNT[n], t=tt),
                {"time": f"At {tt}.", "party_size": f"{_COUNT[n]} people"},
                kind="plain" if with_time else "ask",
            )
        )
    orders = [
        "Where is my order {d}?",
        "Can you check on order number {d}?",
        "I'd like to know the status of my order. It's {d}.",
    ]
    for i, d in enumerate(_NUMS[:6]):
        out.append(
            Request(
                "concierge",
                "get_order_status",
                {"order_number": d},
                orders[i % 3].format(d=_spell(d)),
                {"order_number": _spell(d)},
            )
        )
    days = ["monday", "tuesday", "wednesday", "friday"]
    for i in range(8):
        day = days[i % 4]
        name, said = _NAMES[i % 3]
        hour = [("10 am", "10:00"), ("3 pm", "15:00"), ("nine thirty in the morning", "09:30")][
            i % 3
        ]
        first = [
            f"I'd like to book an appointment on {day.title()} at {hour[0]}.",
            f"Can I come in on {day.title()}? My name is {said}.",
            f"Hi, I need a check up appointment, {day.title()} at {hour[0]} if possible.",
            "I'd like to make an appointment please.",
        ][i % 4]
        out.append(
            Request(
                "dental",
                "book_appointment",
                {"date": _day(day), "time": hour[1], "name": name},
                first,
                {"date": f"{day.title()}.", "time": f"At {hour[0]}.", "name": f"It's {said}."},
            )
        )
    for i in range(4):
        day = days[(i + 1) % 4]
        name, said = _NAMES[i % 3]
        out.append(
            Request(
                "dental",
                "cancel_appointment",
                {"name": name, "date": _day(day)},
                [
                    f"I need to cancel my appointment on {day.title()}.",
                    "Can you cancel my appointment, please?",
                ][i % 2],
                {"date": f"{day.title()}.", "name": f"My name is {said}."},
            )
        )
    for first in ("I have a question about my invoice.", "I'd like to talk about a payment."):
        out.append(Request("dental", "transfer_to_billing", {}, first))
    stores = ["downtown", "airport", "riverside"]
    for i, d in enumerate(_NUMS):
        store = stores[i % 3]
        out.append(
            Request(
                "pharmacy",
                "refill_prescription",
                {"prescription_number": d, "pickup_store": store},
                [
                    f"I need a refill of prescription {_spell(d)}.",
                    f"Could you refill my prescription please? I'll pick it up at {store}.",
                    f"Hi, I'm running out of my medication, prescription {_spell(d)}, "
                    f"for the {store} store.",
                ][i % 3],
                {"prescription_number": _spell(d), "pickup_store": f"The {store} store."},
            )
        )
        if i < 4:
            out.append(
                Request(
                    "pharmacy",
                    "check_refill_status",
                    {"prescription_number": d},
                    [
                        f"Is my refill ready? The number is {_spell(d)}.",
                        "I want to check if my prescription refill is ready.",
                    ][i % 2],
                    {"prescription_number": _spell(d)},
                )
            )
    for i, c in enumerate(_CITIES[:6]):
        n = 1 + i % 4
        tt, tv = [("5 pm", "17:00"), ("eight thirty in the morning", "08:30"), ("noon", "12:00")][
            i % 3
        ]
        args: dict[str, Any] = {"destination": c, "time": tv, "passengers": n}
        first = [
            f"I need a taxi to {c} at {tt} for {_COUNT[n]}.",
            f"Can you send a cab to take us to {c}?",
            f"Book me a ride to {c} please, at {tt}.",
        ][i % 3]
        out.append(
            Request(
                "taxi",
                "book_taxi",
                args,
                first,
                {
                    "destination": f"To {c}.",
                    "time": f"At {tt}.",
                    "passengers": f"{_COUNT[n]} passengers",
                },
            )
        )
        out.append(
            Request(
                "taxi",
                "get_fare_estimate",
                {"destination": c},
                [f"How much would a taxi to {c} cost?", f"What's the fare to {c}?"][i % 2],
                {"destination": f"To {c}."},
            )
        )
    # corrections over two turns
    out.append(
        Request(
            "concierge",
            "get_weather",
            {"city": "Berlin"},
            "What's the weather in Paris?",
            correction="Sorry, I meant Berlin.",
            kind="correction",
        )
    )
    out.append(
        Request(
            "concierge",
            "book_table",
            {"party_size": 4, "time": "20:00"},
            "A table for two at 8 pm, please.",
            {"time": "At 8 pm."},
            correction="No, four people.",
            kind="correction",
        )
    )
    for day, new in (("monday", "wednesday"), ("tuesday", "friday")):
        out.append(
            Request(
                "dental",
                "book_appointment",
                {"date": _day(new), "time": "15:00", "name": "Emma Brown"},
                f"Book me in on {day.title()} at 3 pm, my name is Emma Brown.",
                {"name": "Emma Brown."},
                correction=f"Actually, make it {new.title()}.",
                kind="correction",
            )
        )
    rng.shuffle(out)
    return out


def _held_out(rng: random.Random) -> list[Request]:
    out: list[Request] = []
    tracks = ["48213", "90517", "33460", "7719", "60082", "25931", "81146", "5530"]
    for i, d in enumerate(tracks):
        out.append(
            Request(
                "parcels",
                "track_parcel",
                {"tracking_number": d},
                [
                    f"Where's my parcel? The tracking number is {_spell(d)}.",
                    "Hello, my package hasn't arrived yet. Can you find it?",
                    f"I'm trying to find parcel {_spell(d)}.",
                    f"Could you tell me where parcel number {_spell(d)} is right now?",
                ][i % 4],
                {"tracking_number": f"It's {_spell(d)}."},
            )
        )
    for i, d in enumerate(tracks[:6]):
        c = _CITIES[(i + 2) % len(_CITIES)]
        out.append(
            Request(
                "parcels",
                "redirect_parcel",
                {"tracking_number": d, "city": c},
                [
                    f"Can you send parcel {_spell(d)} to {c} instead?",
                    f"I won't be home, please redirect my parcel to {c}.",
                    "I'd like my parcel delivered to a different city.",
                ][i % 3],
                {"tracking_number": _spell(d), "city": f"{c}, please."},
            )
        )
    accounts = ["checking", "savings"]
    for i in range(8):
        acc = accounts[i % 2]
        out.append(
            Request(
                "bank",
                "get_balance",
                {"account": acc},
                [
                    f"What's the balance on my {acc} account?",
                    f"How much money do I have in {acc}?",
                    "Hi, can you tell me my balance?",
                    f"I'd like to hear my {acc} balance please.",
                ][i % 4],
                {"account": f"My {acc} account."},
            )
        )
    amounts = [(50, "fifty"), (200, "two hundred"), (75, "seventy five"), (1000, "one thousand")]
    for i in range(8):
        amt, said = amounts[i % 4]
        src, dst = accounts[i % 2], accounts[(i + 1) % 2]
        out.append(
            Request(
                "bank",
                "transfer_money",
                {"amount": amt, "from_account": src, "to_account": dst},
                [
                    f"Please move {said} dollars from {src} to {dst}.",
                    f"I want to transfer {said} dollars from my {src} account to {dst}.",
                    "I'd like to move some money between my accounts.",
                    f"Could you put {said} dollars into my {dst}, from {src}?",
                ][i % 4],
                {
                    "amount": f"{said} dollars",
                    "from_account": f"From {src}.",
                    "to_account": f"To {dst}.",
                },
            )
        )
    for i in range(6):
        card = ["debit", "credit"][i % 2]
        out.append(
            Request(
                "bank",
                "block_card",
                {"card": card},
                [
                    f"I lost my {card} card, please block it.",
                    f"My {card} card was stolen!",
                    "I can't find my card anywhere, I need it blocked.",
                ][i % 3],
                {"card": f"The {card} card."},
            )
        )
    movies = ["Dune", "Wicked", "Gladiator"]
    days = ["friday", "saturday", "sunday", "monday"]
    for i in range(8):
        m, day = movies[i % 3], days[i % 4]
        out.append(
            Request(
                "cinema",
                "list_showtimes",
                {"movie": m, "date": _day(day)},
                [
                    f"When is {m} showing on {day.title()}?",
                    f"What times can I see {m} on {day.title()}?",
                    f"Is {m} on this {day.title()}?",
                    "What's on this weekend?",
                ][i % 4],
                {"movie": f"{m}.", "date": f"On {day.title()}."},
            )
        )
    for i in range(10):
        m, day = movies[(i + 1) % 3], days[(i + 2) % 4]
        n = 1 + i % 4
        tt, tv = [("7 pm", "19:00"), ("nine fifteen pm", "21:15"), ("4 pm", "16:00")][i % 3]
        out.append(
            Request(
                "cinema",
                "buy_tickets",
                {"movie": m, "date": _day(day), "time": tv, "tickets": n},
                [
                    f"I'd like {_COUNT[n]} tickets for {m} on {day.title()} at {tt}.",
                    f"Can I buy tickets for {m}?",
                    f"{_COUNT[n].title()} tickets to {m} please, the {tt} showing on "
                    f"{day.title()}.",
                    f"We want to see {m} on {day.title()}.",
                    f"Get me {_COUNT[n]} seats for {m} at {tt} on {day.title()}.",
                ][i % 5],
                {
                    "movie": f"{m}.",
                    "date": f"{day.title()}.",
                    "time": f"The {tt} one.",
                    "tickets": f"{_COUNT[n]} tickets",
                },
            )
        )
    rooms = ["single", "double", "suite"]
    for i in range(9):
        room, day = rooms[i % 3], days[i % 4]
        nights = 1 + i % 3
        out.append(
            Request(
                "hotel",
                "reserve_room",
                {"check_in": _day(day), "nights": nights, "room_type": room},
                [
                    f"I'd like a {room} room from {day.title()} for {_COUNT[nights]} nights.",
                    "Do you have a room available? I'd like to book one.",
                    f"Can I reserve a {room} for {_COUNT[nights]} nights, arriving {day.title()}?",
                ][i % 3],
                {
                    "check_in": f"Arriving {day.title()}.",
                    "nights": f"{_COUNT[nights]} nights",
                    "room_type": f"A {room}, please.",
                },
            )
        )
    for first in (
        "What time is checkout?",
        "When do I have to leave the room on my last day?",
        "Hi there, when's check out?",
    ):
        out.append(Request("hotel", "get_checkout_time", {}, first))
    towns = ["Leeds", "Bristol", "Oxford", "Cambridge", "York", "Brighton"]
    for i, t in enumerate(towns):
        out.append(
            Request(
                "power",
                "report_outage",
                {"town": t},
                [
                    f"The power's gone off in {t}.",
                    f"I want to report a power cut in {t}.",
                    f"We have no electricity here in {t}.",
                ][i % 3],
                {"town": f"In {t}."},
            )
        )
    for i, d in enumerate(["88341", "20467", "51190", "76023", "39458"]):
        out.append(
            Request(
                "power",
                "get_bill_amount",
                {"account_number": d},
                [
                    f"How much do I owe on account {_spell(d)}?",
                    "What's my bill this month?",
                    f"Can you tell me the amount due for account number {_spell(d)}?",
                ][i % 3],
                {"account_number": f"It's {_spell(d)}."},
            )
        )
    out.append(
        Request(
            "parcels",
            "redirect_parcel",
            {"tracking_number": "48213", "city": "Rome"},
            f"Please send parcel {_spell('48213')} to Madrid.",
            correction="Oh, no, Rome, not Madrid.",
            kind="correction",
        )
    )
    out.append(
        Request(
            "bank",
            "transfer_money",
            {"amount": 300, "from_account": "savings", "to_account": "checking"},
            "Move two hundred dollars from savings to checking.",
            correction="Actually, make it three hundred.",
            kind="correction",
        )
    )
    out.append(
        Request(
            "cinema",
            "buy_tickets",
            {"movie": "Dune", "date": _day("saturday"), "time": "19:00", "tickets": 3},
            "Two tickets for Dune on Saturday at 7 pm.",
            correction="Sorry, three tickets.",
            kind="correction",
        )
    )
    out.append(
        Request(
            "hotel",
            "reserve_room",
            {"check_in": _day("friday"), "nights": 2, "room_type": "double"},
            "A single room from Friday for two nights, please.",
            correction="No wait, a double.",
            kind="correction",
        )
    )
    rng.shuffle(out)
    return out


def requests(part: str, seed: int = 7) -> list[Request]:
    """The requests of one part (`tune` or `held-out`), in a fixed shuffled order."""
    rng = random.Random(seed)
    return _tune(rng) if part == "tune" else _held_out(rng)


def _check() -> None:
    for req in itertools.chain(requests("tune"), requests("held-out")):
        graph = GRAPHS[req.graph]
        assert any(t["name"] == req.tool for t in graph.tools), req
        assert graph.held_out == (req in requests("held-out")), req


if __name__ == "__main__":
    _check()
    print(len(requests("tune")), "tune,", len(requests("held-out")), "held-out")
