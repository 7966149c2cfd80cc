"""Appointment booking stored in SQLite.

The database lives at `$AGENTGRAPH_DEMO_DB`, or `agentgraph-demo.sqlite3` in the temp
folder. Opening hours are 09:00-17:00 with hourly slots; 08:00 and 17:00-18:00 can be
booked too but are out of hours (the booking example asks the caller to approve those).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import tempfile
from pathlib import Path

__all__ = ["SLOTS", "book_appointment", "check_availability", "database_path"]

SLOTS = (
    "08:00",
    "09:00",
    "10:00",
    "11:00",
    "12:00",
    "13:00",
    "14:00",
    "15:00",
    "16:00",
    "17:00",
    "17:30",
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS appointments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    date TEXT NOT NULL,
    time TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (date, time)
)
"""
_TIME = re.compile(r"^\s*(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?\s*$", re.I)


def database_path() -> Path:
    """Where bookings are stored (`AGENTGRAPH_DEMO_DB` or a file in the temp folder)."""
    configured = os.environ.get("AGENTGRAPH_DEMO_DB")
    if configured:
        return Path(configured)
    return Path(tempfile.gettempdir()) / "agentgraph-demo.sqlite3"


def _connect() -> sqlite3.Connection:
    conn = sqlite3.connect(database_path(), timeout=5)
    conn.execute(_SCHEMA)
    return conn


def _parse_date(text: str) -> dt.date | None:
    cleaned = text.strip().lower()
    today = dt.date.today()
    if cleaned == "today":
        return today
    if cleaned == "tomorrow":
        return today + dt.timedelta(days=1)
    try:
        return dt.date.fromisoformat(cleaned)
    except ValueError:
        return None


def _parse_time(text: str) -> str | None:
    match = _TIME.match(text)
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = (match.group(3) or "").lower().replace(".", "")
    if suffix == "pm" and hour < 12:
        hour += 12
    if suffix == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def _taken(conn: sqlite3.Connection, day: dt.date) -> set[str]:
    rows = conn.execute("SELECT time FROM appointments WHERE date = ?", (day.isoformat(),))
    return {row[0] for row in rows}


def check_availability(date: str) -> str:
    """List the free appointment times on a date.

    Args:
        date: the day, as YYYY-MM-DD (or "today" / "tomorrow").
    """
    day = _parse_date(date)
    if day is None:
        return f"I could not read the date '{date}'. Please give it as YYYY-MM-DD."
    if day.weekday() == 6:
        return f"We are closed on Sundays. Please pick another day than {day.isoformat()}."
    with _connect() as conn:
        free = [slot for slot in SLOTS if slot not in _taken(conn, day)]
    if not free:
        return f"Sorry, {day.isoformat()} is fully booked."
    return f"Free times on {day.isoformat()}: {', '.join(free)}."


def book_appointment(date: str, time: str, name: str) -> str:
    """Book an appointment for a caller.

    Args:
        date: the day, as YYYY-MM-DD (or "today" / "tomorrow").
        time: the time, as HH:MM in 24-hour format (e.g. 14:00).
        name: the caller's full name.
    """
    day = _parse_date(date)
    if day is None:
        return f"I could not read the date '{date}'. Please give it as YYYY-MM-DD."
    slot = _parse_time(time)
    if slot is None:
        return f"I could not read the time '{time}'. Please give it as HH:MM."
    if not name.strip():
        return "I need the caller's name to book an appointment."
    if slot not in SLOTS:
        return f"{slot} is not a bookable time. Bookable times are {', '.join(SLOTS)}."
    with _connect() as conn:
        try:
            cursor = conn.execute(
                "INSERT INTO appointments (date, time, name) VALUES (?, ?, ?)",
                (day.isoformat(), slot, name.strip()),
            )
        except sqlite3.IntegrityError:
            free = [s for s in SLOTS if s not in _taken(conn, day)]
            others = ", ".join(free) if free else "none that day"
            return f"Sorry, {slot} on {day.isoformat()} is already taken. Free times: {others}."
        booking_id = cursor.lastrowid
    return (
        f"Booked {name.strip()} on {day.isoformat()} at {slot}. Confirmation number {booking_id}."
    )
