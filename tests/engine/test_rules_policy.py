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


def test_handoff_chosen_by_description_then_the_new_agent_takes_over() -> None:
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
    # a question about an invoice is not a request for a refund: no refund is started
    assert after.tool_calls == ()
    assert after.text == "Hello, this is Bill. How can I help you?"
    asked = dlg.user("I'd like a refund of my invoice")
    assert asked.text == "What is the invoice number?"


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


def test_tool_errors_and_refused_approvals_are_said_in_caller_words() -> None:
    refused = speak_output(
        "The caller said 'no' and did not approve, so book_appointment was not done."
    )
    assert "book_appointment" not in refused and refused.startswith("Okay, I haven't done that")
    operator = speak_output("The transfer call was not approved, so it was not done.")
    assert "transfer" not in operator and "haven't done" in operator
    crashed = speak_output("Error running tool get_weather: KeyError: 'Atlantis'")
    assert "get_weather" not in crashed and "KeyError" not in crashed
    assert crashed.startswith("Sorry, something went wrong")
    slow = speak_output("Error: the get_weather tool timed out after 10 s.")
    assert "get_weather" not in slow and "taking too long" in slow


TRANSFER = ToolSpec(
    "transfer_money",
    "Move money between the caller's own accounts.",
    {
        "type": "object",
        "properties": {
            "amount": {"type": "number"},
            "from_account": {"type": "string", "enum": ["checking", "savings"]},
            "to_account": {"type": "string", "enum": ["checking", "savings"]},
        },
        "required": ["amount", "from_account", "to_account"],
    },
)


def test_two_accounts_are_told_apart_by_from_and_to() -> None:
    dlg = Dialogue(tools=(TRANSFER,))
    d = dlg.user("Please move fifty dollars from savings into my checking account")
    assert d.tool_calls == (
        ToolCall(
            "transfer_money",
            {"amount": 50.0, "from_account": "savings", "to_account": "checking"},
        ),
    )
    # without a "from"/"to" the account is not guessed: it is asked for
    unsure = Dialogue(tools=(TRANSFER,)).user("Move fifty dollars, savings and checking")
    assert unsure.tool_calls == () and "account" in unsure.text


def test_a_typed_correction_after_a_lookup_calls_it_again() -> None:
    dlg = Dialogue()
    assert dlg.user("What's the weather in Paris?").tool_calls == (
        ToolCall("get_weather", {"city": "Paris"}),
    )
    dlg.tool_output("Sunny, 20 degrees.")
    assert dlg.user("Sorry, I meant Berlin.").tool_calls == (
        ToolCall("get_weather", {"city": "Berlin"}),
    )


def test_heard_booking_is_read_back_and_corrected_before_it_is_made() -> None:
    dlg = Dialogue()
    dlg.history.append(
        Turn("user", "Book an appointment on Monday at 3pm for John Smith", heard=True)
    )
    first = dlg.decide()
    assert first.tool_calls == () and "2026-11-30" in first.text and "15:00" in first.text
    dlg.history.append(Turn("user", "Actually, make it Wednesday.", heard=True))
    second = dlg.decide()
    assert second.tool_calls == () and "2026-12-02" in second.text
    dlg.history.append(Turn("user", "Yes please.", heard=True))
    assert dlg.decide().tool_calls == (
        ToolCall("book_appointment", {"date": "2026-12-02", "time": "15:00", "name": "John Smith"}),
    )


def test_a_lookup_named_first_in_the_instructions_runs_before_the_booking() -> None:
    check = ToolSpec(
        "check_availability",
        "List free appointment times on a date.",
        {"type": "object", "properties": {"date": {"type": "string"}}, "required": ["date"]},
    )
    dlg = Dialogue(
        tools=(check, BOOK),
        instructions="Call check_availability with the date before you call book_appointment.",
    )
    d = dlg.user("I'd like to book an appointment on Monday")
    assert d.tool_calls == (ToolCall("check_availability", {"date": "2026-11-30"}),)
    after = dlg.tool_output("Free on Monday at 09:00 and 11:00.")
    assert after.text == "Free on Monday at 09:00 and 11:00. At what time?"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("nine fifteen pm", "21:15"), ("at 3pm", "15:00"), ("7.30 pm", "19:30"), ("9 am", "09:00")],
)
def test_times_normalise_to_hh_mm(text: str, expected: str) -> None:
    from agentgraph.engine.policy.interpret import caller_words

    assert parse_time(caller_words(text)) == expected


def test_small_talk_gets_a_short_answer_and_a_way_forward() -> None:
    dlg = Dialogue()
    assert dlg.user("How are you?").text == "I'm doing well, thank you! How can I help you today?"
    assert dlg.user("thanks!").text.startswith("You're welcome")
    what = dlg.user("What can you do?").text
    assert what.startswith("I can get the current weather for a city")
    assert "_" not in what
    stopped = dlg.user("I need to cancel my appointment")
    assert "stopped" not in stopped.text.lower()
