"""The text transport: `--text` (type lines, read replies) and `--say "…"` (one turn, exit).

Each line is sent as a user message; the transport waits until the agent has finished
answering before taking the next line, so piped input (`printf 'hi\\nbye\\n' | agentgraph run
--text`) behaves like a person typing. Replies are shown by the console renderer (the
transcript works in audio and text modality); agent audio goes to `output_path` when given.
`/quit` or end of input ends the conversation.

`StdinLines` reads standard input from a daemon thread (works for terminals, pipes and
files alike) and hands lines to whoever awaits them: the text transport, or an operator
approval prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from pathlib import Path
from typing import TextIO

from agentgraph.audio import AudioFormat
from agentgraph.transports.base import Transport, TransportSession
from agentgraph.transports.scripted import EventPump, FilePlayer

__all__ = ["StdinLines", "TextTransport"]

QUIT_COMMANDS = frozenset({"/quit", "/exit", "/bye"})


class StdinLines:
    """Lines of a text stream as an asyncio source; `None` means end of input.

    Args:
        stream: the stream to read (stdin by default).
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdin
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._started = False
        self.eof = False

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        thread = threading.Thread(target=self._read, name="agentgraph-stdin", daemon=True)
        thread.start()

    def _read(self) -> None:
        try:
            for line in self.stream:
                self._put(line.rstrip("\r\n"))
        except (OSError, ValueError):  # closed stream
            pass
        self._put(None)

    def _put(self, line: str | None) -> None:
        # RuntimeError: the loop is closed and nobody is listening any more
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._queue.put_nowait, line)

    async def readline(self, timeout_s: float | None = None) -> str | None:
        """The next line, or None at end of input (or on timeout)."""
        if self.eof:
            return None
        self._start()
        try:
            line = await asyncio.wait_for(self._queue.get(), timeout_s)
        except TimeoutError:
            return None
        if line is None:
            self.eof = True
        return line


class TextTransport(Transport):
    """A typed conversation: lines in, replies on the console (and audio to a file).

    Args:
        lines: fixed turns (`--say`); None reads `source` until end of input.
        source: where typed lines come from (stdin by default).
        output_path: where agent audio is written; None discards it.
        fast: write agent audio as it arrives instead of in real time.
        answer_timeout_s: how long to wait for an answer to one line.
        audio_format: the session's audio format.
    """

    def __init__(
        self,
        lines: list[str] | None = None,
        *,
        source: StdinLines | None = None,
        output_path: Path | None = None,
        fast: bool = True,
        answer_timeout_s: float = 120.0,
        audio_format: AudioFormat = AudioFormat.PCM16,
    ) -> None:
        self.lines = lines
        self.source = source
        self.output_path = output_path
        self.fast = fast
        self.answer_timeout_s = answer_timeout_s
        self.audio_format = audio_format
        self.unanswered: list[str] = []

    async def run(self, session: TransportSession) -> None:
        """Send each line, wait for the whole answer, then the next; return at the end."""
        player = FilePlayer(
            self.output_path,
            audio_format=self.audio_format,
            tracker=self.playback_tracker,
            fast=self.fast,
        )
        player.start()
        pump = EventPump(session, player)
        pump.start()
        source = self.source
        try:
            pending = list(self.lines) if self.lines is not None else None
            while True:
                if pending is not None:
                    if not pending:
                        break
                    line: str | None = pending.pop(0)
                else:
                    if source is None:
                        source = self.source = StdinLines()
                    line = await source.readline()
                if line is None or line.strip() in QUIT_COMMANDS:
                    break
                if not line.strip():
                    continue
                await session.send_message(line)
                pump.caller_turn()
                answered = await pump.wait_answered(
                    timeout_s=self.answer_timeout_s, no_answer_s=min(30.0, self.answer_timeout_s)
                )
                if not answered:
                    self.unanswered.append(line)
                if pump.ended:
                    break
            await player.drain()
        finally:
            await pump.stop()
            await player.close()
