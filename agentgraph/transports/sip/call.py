"""The per-call transport: one SIP call <-> one realtime session.

Caller RTP frames (G.711, 20 ms) go to `session.send_audio()` unchanged: the session is
configured for `audio/pcmu` or `audio/pcma`, whichever the RTP leg negotiated, so nothing
is resampled. The agent's `audio_delta` chunks are queued in the call's `PlayoutBuffer`;
the 20 ms RTP pacer pulls from it and reports each played chunk to the playback tracker,
so barge-in truncation is clamped to what the caller really heard. `audio_interrupted`
flushes the queue at once. DTMF digits (RFC 4733 or SIP INFO) are gathered until a pause
or `#` and given to the session with `receive_dtmf()`. The call itself is the session's
`call_control`, so the built-in `end_call` tool sends a BYE and `transfer_call` a REFER.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from agentgraph.audio import (
    AudioFormat,
    alaw_to_pcm16,
    pcm16_to_alaw,
    pcm16_to_ulaw,
    ulaw_to_pcm16,
)
from agentgraph.realtime import events as se
from agentgraph.transports.base import Transport, TransportSession, run_until_first_done
from agentgraph.transports.sip.server import SipCall

__all__ = ["SipCallTransport", "transcode_g711"]

log = logging.getLogger(__name__)


class SipCallTransport(Transport):
    """Carries one SIP call for a session; returns when either side hangs up.

    Args:
        call: the answered call (from `SipServer`'s `on_call`).
        dtmf_gap_s: digits typed within this gap are sent together.
        hangup_when_done: send a BYE when the session ends first.
    """

    def __init__(
        self,
        call: SipCall,
        *,
        dtmf_gap_s: float = 1.5,
        hangup_when_done: bool = True,
        session_format: AudioFormat | None = None,
    ) -> None:
        self.call = call
        # The session's format; it differs from the RTP codec only when the session was
        # opened before the answer picked the other G.711 law (then we transcode).
        self.audio_format = session_format or call.audio_format
        self.dtmf_gap_s = dtmf_gap_s
        self.hangup_when_done = hangup_when_done
        self.digits_sent: list[str] = []

    async def run(self, session: TransportSession) -> None:
        """Pump audio and digits in, play agent audio out, until the call ends."""
        call = self.call
        with contextlib.suppress(AttributeError):  # sessions without call control
            session.call_control = call  # type: ignore[attr-defined]
        call.rtp.playout.tracker = self.playback_tracker
        try:
            await run_until_first_done(
                self._audio_in(session),
                self._dtmf_in(session),
                self._events(session),
                call.ended.wait(),
            )
        finally:
            if self.hangup_when_done and not call.ended.is_set():
                await call.hangup()

    async def _audio_in(self, session: TransportSession) -> None:
        queue = self.call.rtp.audio_in
        rtp_format = self.call.audio_format
        while True:
            frame = await queue.get()
            if rtp_format is not self.audio_format:
                frame = transcode_g711(frame, rtp_format, self.audio_format)
            await session.send_audio(frame)

    async def _dtmf_in(self, session: TransportSession) -> None:
        queue = self.call.rtp.dtmf_in
        while True:
            digits = await queue.get()
            while not digits.endswith("#"):
                try:
                    digits += await asyncio.wait_for(queue.get(), self.dtmf_gap_s)
                except TimeoutError:
                    break
            self.digits_sent.append(digits)
            await session.receive_dtmf(digits)

    async def _events(self, session: TransportSession) -> None:
        playout = self.call.rtp
        async for event in session:
            match event:
                case se.RealtimeAudioEvent():
                    audio = event.audio
                    if self.audio_format is not self.call.audio_format:
                        audio = transcode_g711(audio, self.audio_format, self.call.audio_format)
                    playout.playout.push(event.item_id, event.content_index, audio)
                case se.RealtimeAudioInterruptedEvent():
                    playout.playout.interrupt()  # G.711: everything queued is dropped at once
                case se.RealtimeConnectionEvent(status="closed"):
                    return
                case se.RealtimeErrorEvent():
                    log.warning(
                        "call %s: session error: %s", self.call.call_id, _short(event.error)
                    )


def transcode_g711(data: bytes, src: AudioFormat, dst: AudioFormat) -> bytes:
    """u-law <-> A-law through linear PCM (same rate, same length)."""
    pcm = alaw_to_pcm16(data) if src is AudioFormat.G711_ALAW else ulaw_to_pcm16(data)
    return pcm16_to_alaw(pcm) if dst is AudioFormat.G711_ALAW else pcm16_to_ulaw(pcm)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "..."
