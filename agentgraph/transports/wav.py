"""The WAV file transport: `--input caller.wav --output reply.wav`.

The input file may have any rate, width and channel count (converted to the session's
format by `agentgraph.audio`). It is sent in 20 ms chunks, paced in real time like a
microphone, or as fast as possible with `fast=True`, followed by `trailing_silence_ms` of
silence so voice activity detection hears the caller stop. The agent's audio goes to the
output file (or nowhere). With manual turns (turn detection off) the input is committed as
one turn at the end. The transport returns once the agent has finished answering.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from agentgraph.audio import AudioFormat, pcm16_to_alaw, pcm16_to_ulaw, read_wav_pcm16
from agentgraph.errors import UsageError
from agentgraph.transports.base import Transport, TransportSession
from agentgraph.transports.scripted import BLOCK_MS, EventPump, FilePlayer

__all__ = ["WavTransport", "load_caller_audio"]


def load_caller_audio(path: Path, audio_format: AudioFormat = AudioFormat.PCM16) -> bytes:
    """Read any PCM WAV file as caller audio in `audio_format`.

    Raises:
        UsageError: the file is missing or not a PCM WAV file.
    """
    if not path.is_file():
        raise UsageError(f"input file not found: {path}")
    try:
        pcm = read_wav_pcm16(path, rate_hz=audio_format.sample_rate_hz)
    except ValueError as exc:
        raise UsageError(f"{path}: {exc} (use a PCM .wav file)") from exc
    if audio_format is AudioFormat.G711_ULAW:
        return pcm16_to_ulaw(pcm)
    if audio_format is AudioFormat.G711_ALAW:
        return pcm16_to_alaw(pcm)
    return pcm


class WavTransport(Transport):
    """Caller audio from a WAV file (or none), agent audio to a WAV file (or nowhere).

    Args:
        input_path: the caller's audio; None sends nothing (use with a text transport).
        output_path: where agent audio is written; None discards it.
        fast: don't pace input or output in real time.
        manual_turns: turn detection is off: commit the input as one turn at the end.
        trailing_silence_ms: silence sent after the file so VAD hears the end of speech.
        answer_timeout_s: give up waiting for the agent after this long.
        audio_format: the session's audio format.
    """

    def __init__(
        self,
        input_path: Path | None,
        output_path: Path | None = None,
        *,
        fast: bool = False,
        manual_turns: bool = False,
        trailing_silence_ms: int = 1200,
        answer_timeout_s: float = 120.0,
        audio_format: AudioFormat = AudioFormat.PCM16,
    ) -> None:
        self.input_path = input_path
        self.output_path = output_path
        self.fast = fast
        self.manual_turns = manual_turns
        self.trailing_silence_ms = trailing_silence_ms
        self.answer_timeout_s = answer_timeout_s
        self.audio_format = audio_format
        self.caller_audio = (
            load_caller_audio(input_path, audio_format) if input_path is not None else b""
        )
        self.answered = False

    async def run(self, session: TransportSession) -> None:
        """Send the file, collect the answer, return when the agent is done."""
        player = FilePlayer(
            self.output_path,
            audio_format=self.audio_format,
            tracker=self.playback_tracker,
            fast=self.fast,
        )
        player.start()
        pump = EventPump(session, player)
        pump.start()
        try:
            await self.send_caller_audio(session, self.caller_audio)
            if self.manual_turns:
                await session.send_audio(b"", commit=True)
                pump.caller_turn()
            self.answered = await pump.wait_answered(
                timeout_s=self.answer_timeout_s, no_answer_s=5.0
            )
            await player.drain()
        finally:
            await pump.stop()
            await player.close()

    async def send_caller_audio(self, session: TransportSession, audio: bytes) -> None:
        """Send `audio` plus trailing silence in 20 ms chunks, paced unless `fast`."""
        fmt = self.audio_format
        silence_byte = (
            b"\x00"
            if fmt is AudioFormat.PCM16
            else (b"\xff" if fmt is AudioFormat.G711_ULAW else b"\xd5")
        )
        if not self.manual_turns:
            audio += silence_byte * (self.trailing_silence_ms * fmt.bytes_per_ms)
        chunk = BLOCK_MS * fmt.bytes_per_ms
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        view = memoryview(audio)
        for start in range(0, len(audio), chunk):
            await session.send_audio(bytes(view[start : start + chunk]))
            if self.fast:
                if start % (chunk * 50) == 0:
                    await asyncio.sleep(0)  # let events flow while we stream
                continue
            next_at += BLOCK_MS / 1000
            delay = next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
