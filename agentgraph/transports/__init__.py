"""Transports: where a session's audio comes from and where it goes.

`base` defines the interface every transport implements; the concrete transports
(`local` sounddevice, `wav` files, `console` text, `sip`, `media_streams`) are imported
from their own modules so optional pieces (PortAudio, SIP) load only when used.
"""

from agentgraph.transports.base import (
    PlaybackTracker,
    PlayedChunk,
    PlayoutBuffer,
    Transport,
    TransportSession,
)

__all__ = ["PlaybackTracker", "PlayedChunk", "PlayoutBuffer", "Transport", "TransportSession"]
