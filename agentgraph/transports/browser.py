"""The browser transport: a web page's microphone and speaker over one websocket.

The page (`agentgraph play`) captures the microphone with an AudioWorklet at 24 kHz and
sends it as binary websocket frames of mono PCM16; agent audio goes back the same way and
plays through a second AudioWorklet. JSON frames carry everything else.

Page -> server: binary = caller audio (PCM16, 24 kHz, little-endian);
`{"type": "text", "text"}` a typed turn; `{"type": "commit"}` push-to-talk released with
turn detection off; `{"type": "played", "samples", "gen"}` agent audio the page has really
played; `{"type": "hangup"}` ends the conversation. Other messages go to `on_control`
(the app's approvals and editor).

Server -> page: `{"type": "audio_item", "item_id", "gen"}` before the first chunk of each
agent audio item, binary agent audio, `{"type": "audio_done"}`, and
`{"type": "stop", "gen"}` on `audio_interrupted`: the page drops what it has queued at
once. What is played is accounted for in a mirror `PlayoutBuffer` here, advanced by the
page's `played` reports, so barge-in truncation matches what the caller heard; `gen`
counts interruptions so a report of audio played before a stop never counts against the
next reply.

The link to the page is a small protocol (`BrowserLink`), so this module knows nothing of
the web server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from agentgraph.audio import AudioFormat
from agentgraph.realtime import events as se
from agentgraph.transports.base import (
    PlayoutBuffer,
    Transport,
    TransportSession,
    run_until_first_done,
)

__all__ = ["BrowserLink", "BrowserTransport"]

RATE_HZ = 24000
# The most caller audio one frame may carry (1 s); a larger frame is a broken page.
_MAX_FRAME_BYTES = RATE_HZ * 2


class BrowserLink(Protocol):
    """One page's websocket, as the transport sees it."""

    async def receive(self) -> bytes | dict[str, Any] | None:
        """The next frame from the page (None: the page went away)."""

    def send_json(self, message: dict[str, Any]) -> None:
        """Queue a JSON frame to the page (never blocks)."""

    def send_bytes(self, data: bytes) -> None:
        """Queue a binary frame to the page (never blocks)."""


class BrowserTransport(Transport):
    """Talk to a graph from a web page.

    Args:
        link: the page's websocket.
        manual_turns: turn detection is off: the page's push-to-talk release commits.
        on_control: called with every JSON message that is not about audio or text.
    """

    audio_format = AudioFormat.PCM16

    def __init__(
        self,
        link: BrowserLink,
        *,
        manual_turns: bool = False,
        on_control: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    ) -> None:
        self.link = link
        self.manual_turns = manual_turns
        self.on_control = on_control
        self.mirror = PlayoutBuffer(AudioFormat.PCM16)
        self.gen = 0
        self._item: tuple[str, int] | None = None
        self.hung_up = False
        self.bad_frames = 0

    async def run(self, session: TransportSession) -> None:
        """Carry the conversation until the page hangs up or goes away, or the session
        closes."""
        await run_until_first_done(self._from_page(session), self._to_page(session))

    async def _from_page(self, session: TransportSession) -> None:
        while (message := await self.link.receive()) is not None:
            if isinstance(message, bytes):
                if len(message) % 2 or len(message) > _MAX_FRAME_BYTES:
                    self.bad_frames += 1  # not PCM16 frames: drop, never crash the call
                    continue
                await session.send_audio(message)
                continue
            kind = message.get("type")
            if kind == "text":
                text = str(message.get("text", "")).strip()
                if text:
                    await session.send_message(text)
            elif kind == "commit":
                await session.send_audio(b"", commit=True)
            elif kind == "played":
                self.played(message)
            elif kind == "hangup":
                self.hung_up = True
                return
            elif self.on_control is not None:
                await self.on_control(message)

    def played(self, message: dict[str, Any]) -> None:
        """The page played `samples` more of the agent's audio (in generation `gen`)."""
        samples = message.get("samples")
        if message.get("gen") != self.gen or not isinstance(samples, int) or samples <= 0:
            return  # audio from before the last stop, or nonsense
        audio, chunks = self.mirror.pull_chunks(samples * 2)
        tracker = self.playback_tracker
        if tracker is None:
            return
        offset = 0
        for chunk in chunks:
            tracker.on_play_bytes(
                chunk.item_id, chunk.content_index, audio[offset : offset + chunk.num_bytes]
            )
            offset += chunk.num_bytes

    async def _to_page(self, session: TransportSession) -> None:
        async for event in session:
            match event:
                case se.RealtimeAudioEvent():
                    key = (event.item_id, event.content_index)
                    if key != self._item:
                        self._item = key
                        self.link.send_json(
                            {"type": "audio_item", "item_id": event.item_id, "gen": self.gen}
                        )
                    self.mirror.push(event.item_id, event.content_index, event.audio)
                    self.link.send_bytes(event.audio)
                case se.RealtimeAudioDoneEvent():
                    self.link.send_json({"type": "audio_done", "item_id": event.item_id})
                case se.RealtimeAudioInterruptedEvent():
                    self.interrupt()

    def interrupt(self) -> None:
        """Stop the page's playback now; later reports of the old audio are ignored."""
        self.gen += 1
        self._item = None
        self.mirror.interrupt(fade_ms=0)
        self.link.send_json({"type": "stop", "gen": self.gen})
        if self.playback_tracker is not None:
            self.playback_tracker.on_interrupted()
