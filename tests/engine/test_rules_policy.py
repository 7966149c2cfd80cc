"""The rules policy, driven with text only: tool choice, slot filling, questions, handoffs."""

from __future__ import annotations

import datetime as dt

import pytest

from agentgraph.engine.policy import (
    Decision,
    PolicyContext,
    RulesPolicy,
    ToolCall,
    ToolSpec,
    Turn,
    speak_output,
)
from agentgraph.engine.policy.slots import parse_date, parse_number, parse_time

TODAY = dt.date(2026, 11, 28)  # a Saturday
WEATHER = ToolSpec(
    "get_weather",
    "Get the current weather for a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
BOOK = ToolSpec(
    "book_appointment",
    "Book a dental appointment.",
    {
        "type": "object",
        "properties": {
            "date": {"type": "string"},
            "time": {"type": "string"},
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": ["cleaning", "checkup", "filling"]},
        },
        "required": ["date", "time", "name"],
    },
)
ORDER = ToolSpec(
    "order_pizza",
    "Order a pizza for delivery.",
    {
        "type": "object",
        "properties": {
            "size": {"type": "string", "enum": ["small", "medium", "large"]},
            "quantity": {"type": "integer"},
        },
        "required": ["size", "quantity"],
    },
)
BILLING = ToolSpec(
    "transfer_to_billing",
    "Handoff to the billing agent to handle the request. Questions about invoices and payments.",
    {"type": "object", "properties": {}, "additionalProperties": False},
)
TOOLS = (WEATHER, BOOK, ORDER, BILLING)


class Dialogue:
    def __init__(self, tools: tuple[ToolSpec, ...] = TOOLS, instructions: str = "") -> None:
        self.policy = RulesPolicy()
        self.tools = tools
        self.instructions = instructions
        self.history: list[Turn] = []

    def decide(self, **kw: object) -> Decision:
        ctx = PolicyContext(self.instructions, self.tools, tuple(self.history), TODAY, **kw)  # type: ignore[arg-type]
        d = self.policy.decide_now(ctx)
        if d.text:
            self.history.append(Turn("assistant", d.text))
        for i, call in enumerate(d.tool_calls):
            self.history.append(
                Turn("function_call", name=call.name, call_id=f"c{len(self.history)}{i}")
            )
        return d

    def user(self, text: str) -> Decision:
        self.history.append(Turn("user", text))
        return self.decide()

    def tool_output(self, output: str) -> Decision:
        call = next(t for t in reversed(self.history) if t.role == "function_call")
        self.history.append(Turn("function_call_output", text=output, call_id=call.call_id))
        return self.decide()


def test_text_turn_calls_weather_tool_with_city() -> None:
    d = Dialogue().user("What's the weather in Tokyo?")
    assert d.tool_calls == (ToolCall("get_weather", {"city": "Tokyo"}),)
    assert d.text == ""


def test_city_from_gazetteer_not_mentioned_anywhere_in_session() -> None:
    d = Dialogue().user("how is the weather in rio de janeiro today")
    assert d.tool_calls == (ToolCall("get_weather", {"city": "Rio de Janeiro"}),)


def test_spoken_tool_output_is_said_naturally() -> None:
    dlg = Dialogue()
    dlg.user("What's the weather in Tokyo?")
    assert (
        dlg.tool_output('"Sunny and 22 degrees in Tokyo."').text == "Sunny and 22 degrees in Tokyo."
    )
    assert speak_output('{"city": "Tokyo", "temperature_c": 22}') == (
        "City is Tokyo and temperature c is 22."
    )
    assert speak_output('{"message": "Booked for 3 pm."}') == "Booked for 3 pm."
    assert speak_output("plain text") == "plain text"


def test_missing_argument_is_asked_and_answer_carried_across_turns() -> None:
    dlg = Dialogue()
    first = dlg.user("I want to book an appointment tomorrow at three pm")
    assert first.tool_calls == ()
    assert first.text == "May I have your name?"
    second = dlg.user("It's Maria Garcia")
    assert second.tool_calls == (
        ToolCall(
            "book_appointment", {"date": "2026-11-29", "time": "15:00", "name": "Maria Garcia"}
        ),
    )


def test_enum_and_integer_slots_spoken_as_words() -> None:
    dlg = Dialogue()
    first = dlg.user("I'd like to order two pizzas")
    assert "small, medium or large" in first.text
    assert dlg.user("large please").tool_calls == (
        ToolCall("order_pizza", {"size": "large", "quantity": 2}),
    )


def test_handoff_chosen_by_description_then_new_agent_continues_request() -> None:
    dlg = Dialogue()
    d = dlg.user("I have a question about my invoice")
    assert d.tool_calls == (ToolCall("transfer_to_billing", {}),)
    # The runtime switches agent: new tools, then sends the handoff's output.
    refund = ToolSpec(
        "refund_invoice",
        "Refund an invoice.",
        {
            "type": "object",
            "properties": {"invoice_number": {"type": "string"}},
            "required": ["invoice_number"],
        },
    )
    dlg.tools = (refund,)
    dlg.instructions = "You are Bill, the billing agent."
    after = dlg.tool_output('{"assistant": "billing"}')
    assert after.tool_calls == ()
    assert after.text == "What is the invoice number?"


def test_greeting_and_capabilities_when_nothing_matches() -> None:
    dlg = Dialogue(instructions="You are Ava, the front desk of Acme Dental.")
    greet = dlg.decide()
    assert greet.text.startswith("Hello, this is Ava.")
    assert "get the current weather for a city" in greet.text
    # another agent is named by what it helps with, never by its key
    assert "help with questions about invoices and payments" in greet.text
    assert "billing" not in greet.text.replace("invoices", "")
    lost = dlg.user("sing me a song about giraffes")
    assert lost.tool_calls == () and lost.text.startswith("Sorry")


def test_confirmation_yes_and_no() -> None:
    dlg = Dialogue(instructions="Help the caller book. Confirm date and time before booking.")
    ask = dlg.user("book a checkup for John Smith on monday at ten am")
    assert ask.tool_calls == () and ask.text.endswith("Shall I go ahead?")
    assert "2026-11-30" in ask.text and "10:00" in ask.text
    assert dlg.user("no").text.startswith("Okay, I haven't done it")
    dlg.user("book a checkup for John Smith on monday at ten am")
    yes = dlg.user("yes please")
    assert yes.tool_calls == (
        ToolCall(
            "book_appointment",
            {"date": "2026-11-30", "time": "10:00", "name": "John Smith", "kind": "checkup"},
        ),
    )


def test_tool_choice_none_and_forced() -> None:
    dlg = Dialogue()
    dlg.history.append(Turn("user", "What's the weather in Paris?"))
    assert dlg.decide(tool_choice="none").tool_calls == ()
    dlg.history.append(Turn("user", "hello"))
    forced = dlg.decide(tool_choice={"type": "function", "name": "get_weather"})
    assert forced.text == "Which city?"


def test_per_response_literal_instruction_is_spoken() -> None:
    dlg = Dialogue()
    d = dlg.decide(response_instructions='Ask the caller: "Book Monday at 3 pm?"')
    assert d.text == "Book Monday at 3 pm?"


def test_deterministic() -> None:
    a = [Dialogue().user(t) for t in ("hi", "weather in Oslo", "book it")]
    b = [Dialogue().user(t) for t in ("hi", "weather in Oslo", "book it")]
    assert a == b


@pytest.mark.parametrize(
    ("text", "date", "time"),
    [
        ("tomorrow at three pm", "2026-11-29", "15:00"),
        ("next friday at 9:30 am", "2026-12-04", "09:30"),
        ("on march fifth at noon", "2027-03-05", "12:00"),
        ("the twenty first of december at half past two", "2026-12-21", "14:30"),
        ("today at ten thirty in the morning", "2026-11-28", "10:30"),
    ],
)
def test_dates_and_times(text: str, date: str, time: str) -> None:
    assert parse_date(text, TODAY) == date
    assert parse_time(text) == time


@pytest.mark.parametrize(
    ("text", "value"),
    [("twenty two", 22), ("a hundred and five", 105), ("3.5 kilos", 3.5), ("nineteen", 19)],
)
def test_numbers(text: str, value: float) -> None:
    assert parse_number(text) == value


def test_guardrail_feedback_is_spoken_not_the_same_answer_again() -> None:
    dlg = Dialogue()
    dlg.user("What's the weather in Tokyo?")
    dlg.history.append(Turn("system", "Your previous answer was blocked by a rule."))
    # the runtime says what to say as response metadata, not in a sentence to parse
    metadata = {"agentgraph": "guardrail", "guardrail_message": "I can't quote prices."}
    assert dlg.decide(response_metadata=metadata).text == "I can't quote prices."


def test_filler_while_a_tool_is_slow() -> None:
    d = Dialogue().decide(
        response_instructions=(
            "Say one short sentence telling the caller you are still working on it. "
            "Do not call any tool."
        ),
        tool_choice="none",
    )
    assert d == Decision(text="One moment, I'm still working on that.")


def test_nothing_recognized_asks_to_repeat() -> None:
    assert Dialogue().user("").text.startswith("Sorry, I didn't catch that.")
