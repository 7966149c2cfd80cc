"""The embedded offline Realtime engine (placeholder; filled in below)."""

__all__: list[str] = []
