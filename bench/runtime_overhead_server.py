"""Paced fake Realtime server for bench/runtime_overhead.py (runs in its own process).

Per connection it streams real-time-paced responses: every 25 ms one
`response.output_audio.delta` (1200 bytes = 25 ms of pcm16; the first 8 bytes carry the
server's send time as CLOCK_MONOTONIC ns, shared by all processes on the machine) and
about 7 transcript deltas a second (~47 events/s), wrapped in the usual response events.
Every `--tool-every-s` seconds a session's turn is a function call instead; the time from
sending its `response.done` to receiving the client's next `response.create` is the tool
round trip. Sessions are spread over the 25 ms tick in 1 ms slots, as independent calls
would be (`--aligned` ticks them all at once: the worst case, where an event's latency
includes the server writing every other session's event first). `--burst-minutes N`
sends N minutes of call as fast as possible (per-event cost over call length). Stats go
to `--stats FILE` as JSON when the server gets SIGTERM.
Needs only the standard library and websockets.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import signal
import struct
import sys
import time

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

DELTA_BYTES = 1200  # 25 ms of pcm16 24 kHz
TICK_S = 0.025
SLOTS = 25  # 1 ms apart
RESPONSE_TICKS = 160  # a 4 s spoken answer
TRANSCRIPT_EVERY = 6  # ticks between transcript deltas (~6.7/s)
_REST = base64.b64encode(bytes(DELTA_BYTES - 9)).decode()  # 9 timestamp bytes = 12 b64 chars


def delta_message(response_id: str, item_id: str) -> str:
    stamp = base64.b64encode(struct.pack("<qx", time.monotonic_ns())).decode()
    return (
        '{"type":"response.output_audio.delta","event_id":"e","response_id":"'
        + response_id
        + '","item_id":"'
        + item_id
        + '","output_index":0,"content_index":0,"delta":"'
        + stamp
        + _REST
        + '"}'
    )


class Conn:
    def __init__(
        self, ws: ServerConnection, index: int, stats: dict[str, list[float]], tool_every_ticks: int
    ) -> None:
        self.ws = ws
        self.index = index
        self.stats = stats
        self.tick = 0
        self.seq = 0
        self.response_id = ""
        self.item_id = ""
        self.in_response = 0  # ticks left of the current spoken response
        self.tool_every = tool_every_ticks
        self.next_tool = (index * 37) % max(1, tool_every_ticks) + tool_every_ticks
        self.tool_sent_at: int | None = None
        self.waiting_tool = False

    async def send(self, obj: dict[str, object] | str) -> None:
        await self.ws.send(obj if isinstance(obj, str) else json.dumps(obj))

    async def start_response(self) -> None:
        self.seq += 1
        self.response_id = f"resp_{self.seq}"
        self.item_id = f"item_{self.seq}"
        await self.send(
            {
                "type": "response.created",
                "event_id": "e",
                "response": {
                    "id": self.response_id,
                    "object": "realtime.response",
                    "status": "in_progress",
                    "output": [],
                    "usage": None,
                },
            }
        )
        item = {
            "id": self.item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        await self.send(
            {
                "type": "response.output_item.added",
                "event_id": "e",
                "response_id": self.response_id,
                "output_index": 0,
                "item": item,
            }
        )
        await self.send(
            {
                "type": "conversation.item.added",
                "event_id": "e",
                "previous_item_id": None,
                "item": item,
            }
        )
        await self.send(
            {
                "type": "response.content_part.added",
                "event_id": "e",
                "response_id": self.response_id,
                "item_id": self.item_id,
                "output_index": 0,
                "content_index": 0,
                "part": {"type": "audio", "transcript": ""},
            }
        )
        self.in_response = RESPONSE_TICKS

    async def end_response(self) -> None:
        base = {
            "event_id": "e",
            "response_id": self.response_id,
            "item_id": self.item_id,
            "output_index": 0,
            "content_index": 0,
        }
        transcript = "word " * (RESPONSE_TICKS // TRANSCRIPT_EVERY)
        await self.send({"type": "response.output_audio.done", **base})
        await self.send(
            {"type": "response.output_audio_transcript.done", **base, "transcript": transcript}
        )
        item = {
            "id": self.item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_audio", "transcript": transcript}],
        }
        await self.send(
            {
                "type": "response.output_item.done",
                "event_id": "e",
                "response_id": self.response_id,
                "output_index": 0,
                "item": item,
            }
        )
        await self.send(
            {
                "type": "response.done",
                "event_id": "e",
                "response": {
                    "id": self.response_id,
                    "object": "realtime.response",
                    "status": "completed",
                    "output": [item],
                    "usage": {"total_tokens": 1},
                },
            }
        )

    async def function_call(self) -> None:
        self.seq += 1
        rid, iid, cid = f"resp_{self.seq}", f"item_{self.seq}", f"call_{self.seq}"
        await self.send(
            {
                "type": "response.created",
                "event_id": "e",
                "response": {
                    "id": rid,
                    "object": "realtime.response",
                    "status": "in_progress",
                    "output": [],
                },
            }
        )
        item = {
            "id": iid,
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "call_id": cid,
            "name": "get_time",
            "arguments": "",
        }
        await self.send(
            {
                "type": "response.output_item.added",
                "event_id": "e",
                "response_id": rid,
                "output_index": 0,
                "item": item,
            }
        )
        await self.send(
            {
                "type": "response.function_call_arguments.done",
                "event_id": "e",
                "response_id": rid,
                "item_id": iid,
                "output_index": 0,
                "call_id": cid,
                "name": "get_time",
                "arguments": "{}",
            }
        )
        done = {**item, "status": "completed", "arguments": "{}"}
        await self.send(
            {
                "type": "response.output_item.done",
                "event_id": "e",
                "response_id": rid,
                "output_index": 0,
                "item": done,
            }
        )
        await self.send(
            {
                "type": "response.done",
                "event_id": "e",
                "response": {
                    "id": rid,
                    "object": "realtime.response",
                    "status": "completed",
                    "output": [done],
                },
            }
        )
        self.tool_sent_at = time.monotonic_ns()
        self.waiting_tool = True

    async def on_tick(self) -> None:
        self.tick += 1
        if self.waiting_tool:
            return
        if self.in_response == 0:
            if self.tool_every and self.tick >= self.next_tool:
                self.next_tool = self.tick + self.tool_every
                await self.function_call()
                return
            await self.start_response()
        await self.send(delta_message(self.response_id, self.item_id))
        if self.in_response % TRANSCRIPT_EVERY == 0:
            await self.send(
                '{"type":"response.output_audio_transcript.delta","event_id":"e",'
                '"response_id":"'
                + self.response_id
                + '","item_id":"'
                + self.item_id
                + '","output_index":0,"content_index":0,'
                '"delta":"word "}'
            )
        self.in_response -= 1
        if self.in_response == 0:
            await self.end_response()

    def on_client(self, message: str) -> asyncio.Future[None] | None:
        head = message[:80]
        if "input_audio_buffer.append" in head:
            return None
        event = json.loads(message)
        kind = event.get("type")
        if kind == "session.update":
            return asyncio.ensure_future(
                self.send(
                    {"type": "session.updated", "event_id": "e", "session": event.get("session")}
                )
            )
        if kind == "response.create" and self.waiting_tool and self.tool_sent_at is not None:
            self.stats["tool_rtt_ms"].append((time.monotonic_ns() - self.tool_sent_at) / 1e6)
            self.waiting_tool = False
        return None


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stats", required=True)
    parser.add_argument("--tool-every-s", type=float, default=5.0)
    parser.add_argument("--burst-minutes", type=float, default=0.0)
    parser.add_argument(
        "--aligned", action="store_true", help="tick every session at the same instant (worst case)"
    )
    args = parser.parse_args()
    stats: dict[str, list[float]] = {"tool_rtt_ms": []}
    conns: list[Conn] = []
    tool_every = int(args.tool_every_s / TICK_S) if args.tool_every_s > 0 else 0

    async def handler(ws: ServerConnection) -> None:
        conn = Conn(ws, len(conns), stats, tool_every)
        await conn.send(
            {
                "type": "session.created",
                "event_id": "e",
                "session": {
                    "type": "realtime",
                    "object": "realtime.session",
                    "id": f"sess_{conn.index}",
                    "model": "gpt-realtime",
                    "output_modalities": ["audio"],
                    "instructions": "",
                    "tools": [],
                    "audio": {"output": {"voice": "marin"}},
                },
            }
        )
        conns.append(conn)
        if args.burst_minutes:
            burst = asyncio.ensure_future(burst_call(conn, args.burst_minutes))
        try:
            async for message in ws:
                conn.on_client(message if isinstance(message, str) else message.decode())
        except ConnectionClosed:
            pass
        finally:
            conns.remove(conn)
            if args.burst_minutes:
                burst.cancel()

    async def ticker() -> None:
        # One timer for all sessions: every SLOT_S the sessions of that slot tick, so each
        # session still gets one tick per TICK_S but they don't all send at once.
        slots = 1 if args.aligned else SLOTS
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        slot = 0
        while True:
            next_at += TICK_S / slots
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            for conn in list(conns):
                if conn.index % slots == slot:
                    with contextlib.suppress(ConnectionClosed):
                        await conn.on_tick()
            slot = (slot + 1) % slots

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with serve(handler, "127.0.0.1", 0, max_size=None, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        print(port, flush=True)
        tick_task = None if args.burst_minutes else asyncio.ensure_future(ticker())
        await stop.wait()
        if tick_task is not None:
            tick_task.cancel()
    with open(args.stats, "w") as fh:
        json.dump(stats, fh)


async def burst_call(conn: Conn, minutes: float) -> None:
    """Send `minutes` of call (ticks) as fast as the socket takes them, marking each minute."""
    ticks = int(minutes * 60 / TICK_S)
    per_minute = int(60 / TICK_S)
    try:
        for tick in range(ticks):
            if tick % per_minute == 0:
                await conn.send({"type": "bench.minute", "minute": tick // per_minute})
            await conn.on_tick()
        await conn.send({"type": "bench.minute", "minute": ticks // per_minute})
    except ConnectionClosed:
        pass


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
