"""The demo plugin's tools behave like a small real service (SQLite included)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from agentgraph_demo import (
    book_appointment,
    check_availability,
    get_weather,
    no_medical_advice,
    search_knowledge_base,
)


@pytest.fixture(autouse=True)
def demo_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "demo.sqlite3"
    monkeypatch.setenv("AGENTGRAPH_DEMO_DB", str(path))
    return path


@pytest.mark.parametrize(
    "city", ["Tokyo", "london", "Paris", "Lisbon", "New York", "Berlin", "Sydney", "nyc"]
)
def test_weather_for_known_cities(city: str) -> None:
    answer = get_weather(city)
    assert answer.startswith("In ") and "degrees Celsius" in answer


def test_weather_for_unknown_city_is_polite() -> None:
    answer = get_weather("Atlantis")
    assert answer.startswith("Sorry") and "Tokyo" in answer


def test_booking_round_trip_in_sqlite(demo_db: Path) -> None:
    day = dt.date.today() + dt.timedelta(days=30)
    while day.weekday() == 6:
        day += dt.timedelta(days=1)
    date = day.isoformat()
    assert "14:00" in check_availability(date)
    confirmation = book_appointment(date, "2pm", "Ann Lee")
    assert confirmation.startswith(f"Booked Ann Lee on {date} at 14:00")
    assert "14:00" not in check_availability(date)
    assert "already taken" in book_appointment(date, "14:00", "Bob")
    rows = sqlite3.connect(demo_db).execute("SELECT date, time, name FROM appointments").fetchall()
    assert rows == [(date, "14:00", "Ann Lee")]


def test_booking_rejects_bad_input_politely() -> None:
    assert "YYYY-MM-DD" in book_appointment("next blursday", "10:00", "X")
    assert "HH:MM" in book_appointment("2030-01-02", "noonish", "X")
    assert "not a bookable time" in book_appointment("2030-01-02", "03:00", "X")
    assert "name" in book_appointment("2030-01-02", "10:00", "  ")


def test_knowledge_base_search() -> None:
    assert search_knowledge_base("When are you open on Saturday?").startswith("Opening hours")
    assert search_knowledge_base("do you take my insurance").startswith("Insurance")
    assert search_knowledge_base("where do I park the car").startswith("Parking")
    assert "couldn't find" in search_knowledge_base("quantum chromodynamics")


def test_plugin_guardrail_trips_on_medical_advice() -> None:
    tripped = no_medical_advice(None, None, "You should take 400 mg of ibuprofen.")
    assert tripped.tripwire_triggered and "medical advice" in tripped.output_info
    assert not no_medical_advice(None, None, "We can see you tomorrow at ten.").tripwire_triggered
