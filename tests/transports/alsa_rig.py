"""A fake sound card for real PortAudio: ALSA `file` PCMs on named pipes.

The rig writes an ALSA config (pointed at by ALSA_CONFIG_PATH) whose default device is an
`asym` of two `file` PCMs: capture reads `mic.fifo`, playback writes `spk.fifo`. A feeder
thread writes caller audio (from a WAV) into the microphone pipe at real-time pace and a
drainer thread reads the speaker pipe at real-time pace, keeping what it reads with
timestamps. The pipes are what pace PortAudio (ALSA's `null` slave has no clock), so the
process under test sees a sound card that runs in real time.

Open the rig (`with AlsaRig(tmp_path) as rig`) *before* anything in the process under test
initialises PortAudio: opening the capture PCM opens the pipe, which needs a writer.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from pathlib import Path
from types import TracebackType

import numpy as np

RATE_HZ = 24000
BLOCK_BYTES = 960  # 20 ms of pcm16 at 24 kHz

ASOUNDRC = """
pcm.!default {{
    type asym
    playback.pcm "agentgraph_speaker"
    capture.pcm "agentgraph_mic"
}}
pcm.agentgraph_speaker {{
    type file
    slave.pcm {{ type null }}
    file "{speaker}"
    format "raw"
}}
pcm.agentgraph_mic {{
    type file
    slave.pcm {{ type null }}
    file "/dev/null"
    infile "{mic}"
    format "raw"
}}
"""


class AlsaRig:
    """The fake sound card (see module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.mic_path = directory / "mic.fifo"
        self.speaker_path = directory / "spk.fifo"
        self.config_path = directory / "asoundrc"
        self._mic_queue = bytearray()
        self._lock = threading.Lock()
        self.speaker: list[tuple[float, bytes]] = []  # (monotonic time, 20 ms block)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def env(self) -> dict[str, str]:
        """Environment for the process under test."""
        return {**os.environ, "ALSA_CONFIG_PATH": str(self.config_path)}

    def say(self, pcm: bytes) -> None:
        """Queue caller audio (pcm16 24 kHz) for the microphone; silence otherwise."""
        with self._lock:
            self._mic_queue += pcm

    @property
    def mic_pending_bytes(self) -> int:
        with self._lock:
            return len(self._mic_queue)

    def __enter__(self) -> AlsaRig:
        os.mkfifo(self.mic_path)
        os.mkfifo(self.speaker_path)
        self.config_path.write_text(
            ASOUNDRC.format(speaker=self.speaker_path, mic=self.mic_path), encoding="utf-8"
        )
        # O_RDWR: opening never blocks, and the pipes stay open across PortAudio's probing
        self._mic_fd = os.open(self.mic_path, os.O_RDWR | os.O_NONBLOCK)
        self._spk_fd = os.open(self.speaker_path, os.O_RDWR | os.O_NONBLOCK)
        for fd in (self._mic_fd, self._spk_fd):  # small pipes: little hidden latency
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 4096)
        for target in (self._feed, self._drain):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        os.close(self._mic_fd)
        os.close(self._spk_fd)

    def _feed(self) -> None:
        # a little noise floor instead of digital silence, like a real microphone
        rng = np.random.default_rng(7)
        noise = (rng.normal(0, 30, RATE_HZ).astype("<i2")).tobytes()
        noise_at = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                block = bytes(self._mic_queue[:BLOCK_BYTES])
                del self._mic_queue[:BLOCK_BYTES]
            if len(block) < BLOCK_BYTES:
                need = BLOCK_BYTES - len(block)
                if noise_at + need > len(noise):
                    noise_at = 0
                block += noise[noise_at : noise_at + need]
                noise_at += need
            with contextlib.suppress(BlockingIOError):  # PortAudio not reading: drop
                os.write(self._mic_fd, block)
            next_at += 0.02
            time.sleep(max(0.0, next_at - time.monotonic()))

    def _drain(self) -> None:
        next_at = time.monotonic()
        pending = bytearray()
        while not self._stop.is_set():
            # never more than one block per tick: back-pressure paces the writer
            with contextlib.suppress(BlockingIOError):
                pending += os.read(self._spk_fd, BLOCK_BYTES - len(pending))
            # consume at real-time pace: one 20 ms block per tick
            if len(pending) >= BLOCK_BYTES:
                self.speaker.append((time.monotonic(), bytes(pending[:BLOCK_BYTES])))
                del pending[:BLOCK_BYTES]
            next_at += 0.02
            time.sleep(max(0.0, next_at - time.monotonic()))

    def speaker_levels(self) -> list[tuple[float, float]]:
        """(time, RMS amplitude) of every speaker block read so far."""
        out = []
        for t, block in list(self.speaker):
            samples = np.frombuffer(block, dtype="<i2").astype(np.float64)
            out.append((t, float(np.sqrt(np.mean(samples**2)))))
        return out
