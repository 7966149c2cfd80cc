"""Weather from a bundled table: deterministic, offline, good for demos and tests."""

from __future__ import annotations

import re

__all__ = ["WEATHER", "get_weather"]

#: city -> (temperature in Celsius, conditions)
WEATHER: dict[str, tuple[int, str]] = {
    "tokyo": (18, "partly cloudy"),
    "london": (11, "light rain"),
    "paris": (14, "overcast"),
    "lisbon": (21, "sunny"),
    "new york": (9, "windy and clear"),
    "berlin": (7, "cloudy"),
    "sydney": (24, "sunny"),
    "madrid": (19, "clear"),
    "rome": (17, "sunny"),
    "amsterdam": (10, "drizzle"),
    "san francisco": (15, "foggy"),
    "toronto": (4, "snow showers"),
    "mumbai": (31, "humid and hazy"),
    "cairo": (27, "clear"),
    "singapore": (30, "thunderstorms"),
}
_ALIASES = {"nyc": "new york", "new york city": "new york", "sf": "san francisco"}


def _title(city: str) -> str:
    return " ".join(part.capitalize() for part in city.split())


def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: the city name, e.g. Tokyo or New York.
    """
    key = re.sub(r"[^a-z ]", "", city.lower()).strip()
    key = re.sub(r"\s+", " ", key)
    key = _ALIASES.get(key, key)
    if key not in WEATHER:
        known = ", ".join(_title(c) for c in sorted(WEATHER))
        return (
            f"Sorry, I don't have the weather for {city.strip() or 'that place'}. "
            f"I know these cities: {known}."
        )
    temperature, conditions = WEATHER[key]
    return f"In {_title(key)} it is {temperature} degrees Celsius and {conditions}."
