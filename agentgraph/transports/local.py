"""Microphone and speaker through sounddevice (PortAudio): 24 kHz mono pcm16.

Theory of operation. Two PortAudio streams run in PortAudio's own threads:

- input: 20 ms blocks; each block is handed to the event loop with
  `loop.call_soon_threadsafe(queue.put_nowait, pcm)` and a single task sends it to the
  session (no coroutine per block);
- output: 10 ms blocks pulled from a `PlayoutBuffer` under a lock. A jitter buffer holds
  playback back until `jitter_ms` of a reply is queued (or the reply is complete), so a
  slow network does not make the speaker stutter. What the callback really hands to the
  device is reported to the playback tracker (from the event loop), so barge-in truncation
  matches what the caller heard.

On `audio_interrupted` the queue is cut to a 5 ms fade-out and cleared; the output callback
runs every 10 ms, so playback stops within 10 ms (plus the device's own buffer, which is
kept at PortAudio's "low" latency).

sounddevice is imported only here and only when the transport starts; a missing PortAudio
library or device becomes a one-line `UsageError` naming the fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

from agentgraph.audio import AudioFormat
from agentgraph.errors import UsageError
from agentgraph.realtime import events as se
from agentgraph.transports.base import PlayedChunk, PlayoutBuffer, Transport, TransportSession

__all__ = ["LocalAudioTransport", "import_sounddevice", "list_devices", "parse_device"]

RATE_HZ = 24000
INPUT_BLOCK_MS = 20
OUTPUT_BLOCK_MS = 10
_BYTES_PER_MS = AudioFormat.PCM16.bytes_per_ms

_NO_PORTAUDIO = (
    "PortAudio is not installed, so there is no microphone or speaker: install it with "
    "`sudo apt-get install libportaudio2` (Debian/Ubuntu) or `brew install portaudio` "
    "(macOS), or run with --input/--output WAV files or --text"
)


def import_sounddevice() -> Any:
    """Import sounddevice, turning a missing PortAudio into one clear line.

    Raises:
        UsageError: PortAudio (or sounddevice) is not installed.
    """
    try:
        import sounddevice
    except (OSError, ImportError) as exc:
        raise UsageError(_NO_PORTAUDIO) from exc
    return sounddevice


def parse_device(value: str | int | None) -> str | int | None:
    """A `--input-device/--output-device` value: an index (digits) or part of a name."""
    if value is None or isinstance(value, int):
        return value
    text = value.strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text


def list_devices() -> list[dict[str, Any]]:
    """Every audio device: index, name, host API, channels and whether it is a default.

    Raises:
        UsageError: PortAudio is missing.
    """
    sd = import_sounddevice()
    try:
        devices = sd.query_devices()
        default_in, default_out = sd.default.device
        hostapis = sd.query_hostapis()
    except sd.PortAudioError as exc:
        raise UsageError(f"cannot list audio devices: {exc}") from exc
    out = []
    for dev in devices:
        index = int(dev["index"])
        out.append(
            {
                "index": index,
                "name": str(dev["name"]),
                "hostapi": str(hostapis[dev["hostapi"]]["name"]),
                "max_input_channels": int(dev["max_input_channels"]),
                "max_output_channels": int(dev["max_output_channels"]),
                "default_samplerate": float(dev["default_samplerate"]),
                "default_input": index == default_in,
                "default_output": index == default_out,
            }
        )
    return out


def _check_device(sd: Any, device: str | int | None, kind: str) -> None:
    flag = "--input-device" if kind == "input" else "--output-device"
    what = "microphone" if kind == "input" else "speaker"
    try:
        info = sd.query_devices(device, kind=kind)
    except ValueError as exc:  # no device matching a name / index out of range
        raise UsageError(
            f"no {kind} device {device!r}: run `agentgraph devices` to list them and pass "
            f"{flag} NAME_OR_INDEX"
        ) from exc
    except sd.PortAudioError as exc:
        if device is None:
            raise UsageError(
                f"no default {what} found: pass {flag} (see `agentgraph devices`), or use "
                "--input/--output WAV files or --text"
            ) from exc
        raise UsageError(f"cannot use {kind} device {device!r}: {exc}") from exc
    channels = info["max_input_channels" if kind == "input" else "max_output_channels"]
    if channels < 1:
        raise UsageError(
            f"device {info['name']!r} has no {kind} channels: pick another with {flag} "
            "(see `agentgraph devices`)"
        )


class _Output:
    """The speaker side, shared by the event loop (push/interrupt) and PortAudio's thread."""

    def __init__(self, jitter_ms: int, fade_ms: float) -> None:
        self.buffer = PlayoutBuffer(AudioFormat.PCM16)
        self.lock = threading.Lock()
        self.jitter_bytes = jitter_ms * _BYTES_PER_MS
        self.fade_ms = fade_ms
        self.playing = False
        self.reply_complete = False

    def push(self, item_id: str, content_index: int, audio: bytes) -> None:
        with self.lock:
            self.buffer.push(item_id, content_index, audio)
            self.reply_complete = False

    def complete(self) -> None:
        with self.lock:
            self.reply_complete = True

    def interrupt(self) -> None:
        with self.lock:
            self.buffer.interrupt(fade_ms=self.fade_ms)
            # the fade must play now, not wait for the jitter buffer
            self.playing = self.buffer.buffered_bytes > 0
            self.reply_complete = True

    def pull(self, num_bytes: int) -> tuple[bytes, list[PlayedChunk]]:
        with self.lock:
            buffered = self.buffer.buffered_bytes
            if (
                not self.playing
                and buffered
                and (buffered >= self.jitter_bytes or self.reply_complete)
            ):
                self.playing = True
            if not self.playing:
                return b"", []
            audio, chunks = self.buffer.pull_chunks(num_bytes)
            if not self.buffer.buffered_bytes:
                self.playing = False  # underrun or end of reply: refill the jitter buffer
            return audio, chunks

    @property
    def idle(self) -> bool:
        with self.lock:
            return not self.buffer.buffered_bytes


class LocalAudioTransport(Transport):
    """Talk to the agent through the microphone and speaker.

    Args:
        input_device: PortAudio input device (index or part of its name); None = default.
        output_device: PortAudio output device; None = default.
        jitter_ms: audio to queue before a reply starts playing.
        fade_ms: fade-out length when the caller interrupts.
        manual_turns: turn detection is off (push to talk): each line from `lines`
            (Enter) ends the caller's turn; end of input ends the conversation.
        lines: where those lines come from (a `StdinLines`).
    """

    audio_format = AudioFormat.PCM16

    def __init__(
        self,
        *,
        input_device: str | int | None = None,
        output_device: str | int | None = None,
        jitter_ms: int = 60,
        fade_ms: float = 5.0,
        manual_turns: bool = False,
        lines: Any = None,
    ) -> None:
        self.input_device = parse_device(input_device)
        self.output_device = parse_device(output_device)
        self.jitter_ms = jitter_ms
        self.fade_ms = fade_ms
        self.sd = import_sounddevice()
        _check_device(self.sd, self.input_device, "input")
        _check_device(self.sd, self.output_device, "output")
        self.output = _Output(jitter_ms, fade_ms)
        self.manual_turns = manual_turns
        self.source = lines
        self.input_overflows = 0
        self.output_underflows = 0

    async def run(self, session: TransportSession) -> None:
        """Stream the microphone to the session and replies to the speaker until the
        session ends or the task is cancelled (Ctrl-C)."""
        loop = asyncio.get_running_loop()
        mic: asyncio.Queue[bytes] = asyncio.Queue(maxsize=500)
        sd = self.sd
        output = self.output

        def put_mic(pcm: bytes) -> None:
            if mic.full():  # the session stalled: drop the oldest, keep latency bounded
                mic.get_nowait()
            mic.put_nowait(pcm)

        def on_input(indata: Any, frames: int, time: Any, status: Any) -> None:
            if status.input_overflow:
                self.input_overflows += 1
            loop.call_soon_threadsafe(put_mic, bytes(indata))

        def report(audio: bytes, chunks: list[PlayedChunk]) -> None:
            tracker = self.playback_tracker
            if tracker is None:
                return
            offset = 0
            for chunk in chunks:
                tracker.on_play_bytes(
                    chunk.item_id, chunk.content_index, audio[offset : offset + chunk.num_bytes]
                )
                offset += chunk.num_bytes

        def on_output(outdata: Any, frames: int, time: Any, status: Any) -> None:
            if status.output_underflow:
                self.output_underflows += 1
            want = frames * 2
            audio, chunks = output.pull(want)
            view = memoryview(outdata).cast("B")
            view[: len(audio)] = audio
            if len(audio) < want:
                view[len(audio) :] = bytes(want - len(audio))
            if chunks:
                with contextlib.suppress(RuntimeError):  # loop closed during shutdown
                    loop.call_soon_threadsafe(report, audio, chunks)

        try:
            in_stream = sd.RawInputStream(
                samplerate=RATE_HZ,
                channels=1,
                dtype="int16",
                device=self.input_device,
                blocksize=RATE_HZ * INPUT_BLOCK_MS // 1000,
                latency="low",
                callback=on_input,
            )
            out_stream = sd.RawOutputStream(
                samplerate=RATE_HZ,
                channels=1,
                dtype="int16",
                device=self.output_device,
                blocksize=RATE_HZ * OUTPUT_BLOCK_MS // 1000,
                latency="low",
                callback=on_output,
            )
        except sd.PortAudioError as exc:
            raise UsageError(
                f"cannot open the audio device at 24 kHz mono: {exc} "
                "(pick another with --input-device/--output-device)"
            ) from exc

        async def send_mic() -> None:
            while True:
                await session.send_audio(await mic.get())

        async def play_events() -> None:
            async for event in session:
                match event:
                    case se.RealtimeAudioEvent():
                        output.push(event.item_id, event.content_index, event.audio)
                    case se.RealtimeAudioDoneEvent():
                        output.complete()
                    case se.RealtimeAudioInterruptedEvent():
                        output.interrupt()
                        if self.playback_tracker is not None:
                            self.playback_tracker.on_interrupted()

        async def push_to_talk() -> None:
            if self.source is None:
                from agentgraph.transports.console import StdinLines

                self.source = StdinLines()
            while await self.source.readline() is not None:
                await session.send_audio(b"", commit=True)

        with in_stream, out_stream:
            tasks = [loop.create_task(send_mic())]
            events = loop.create_task(play_events())
            if self.manual_turns:
                tasks.append(loop.create_task(push_to_talk()))
            try:
                # the conversation ends with the session, or at end of input (push to talk)
                await asyncio.wait([events, *tasks[1:]], return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (*tasks, events):
                    task.cancel()
                results = await asyncio.gather(*tasks, events, return_exceptions=True)
            for result in results:  # a failure in a pump is the conversation's failure
                if isinstance(result, BaseException) and not isinstance(
                    result, asyncio.CancelledError
                ):
                    raise result
