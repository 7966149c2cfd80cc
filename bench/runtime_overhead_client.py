"""One client process for bench/runtime_overhead.py: K sessions of one implementation.

    python runtime_overhead_client.py --impl agentgraph|floor|openai-agents --url WS_URL \
        --sessions K --seconds S --warmup W --out result.json [--long-call-minutes N]

Each session streams 20 ms caller chunks (one ticker for all sessions) and consumes the
server's paced events; the app-level latency of each audio delta is now minus the send
time embedded in its first 8 bytes (CLOCK_MONOTONIC is shared between processes). CPU is
this process's CPU time over the measured window. Runs under the repo's interpreter for
agentgraph and the floor, under the bench virtualenv for openai-agents.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import json
import os
import struct
import sys
import time
from typing import Any

CHUNK = bytes(960)  # 20 ms of pcm16 24 kHz silence
_unpack = struct.Struct("<q").unpack_from


class Recorder:
    def __init__(self) -> None:
        self.measuring = False
        self.latencies_ns: list[int] = []
        self.deltas = 0
        self.minute_cpu: list[float] = []

    def audio(self, data: bytes) -> None:
        self.deltas += 1
        if self.measuring:
            self.latencies_ns.append(time.monotonic_ns() - _unpack(data, 0)[0])
        if self.deltas % 2400 == 0:  # one call minute of audio deltas (25 ms each)
            self.minute_cpu.append(time.process_time())


# ----------------------------------------------------------------- agentgraph


async def open_agentgraph(url: str, rec: Recorder, batch_ms: int = 0) -> tuple[Any, Any]:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    from agentgraph.realtime import RealtimeAgent, RealtimeRunner, function_tool

    async def get_time() -> str:
        """The time."""
        return "12:00"

    agent = RealtimeAgent(name="bench", instructions="x", tools=[function_tool(get_time)])
    runner = RealtimeRunner(
        agent, config={"model_settings": {"voice": "marin"}, "audio_send_interval_ms": batch_ms}
    )
    session = await runner.run(model_config={"url": url, "api_key": "sk-bench"})
    await session.connect()

    async def consume() -> None:
        async for event in session:
            if event.type == "audio_delta":
                rec.audio(event.audio)

    return session, asyncio.ensure_future(consume())


def send_agentgraph(session: Any) -> None:
    session.send_audio(CHUNK)


# ----------------------------------------------------------------- bare websockets floor


async def open_floor(url: str, rec: Recorder) -> tuple[Any, Any]:
    from websockets.asyncio.client import connect

    ws = await connect(
        url,
        additional_headers={"Authorization": "Bearer sk-bench"},
        max_size=None,
        compression=None,
    )
    await ws.send(
        json.dumps(
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "instructions": "x",
                    "tools": [
                        {
                            "type": "function",
                            "name": "get_time",
                            "description": "The time.",
                            "parameters": {"type": "object", "properties": {}},
                        }
                    ],
                },
            }
        )
    )

    async def consume() -> None:
        pending_call: str | None = None
        async for message in ws:
            event = json.loads(message)
            kind = event["type"]
            if kind == "response.output_audio.delta":
                rec.audio(base64.b64decode(event["delta"]))
            elif kind == "response.function_call_arguments.done":
                pending_call = event["call_id"]
                await ws.send(
                    json.dumps(
                        {
                            "type": "conversation.item.create",
                            "item": {
                                "type": "function_call_output",
                                "call_id": pending_call,
                                "output": "12:00",
                            },
                        }
                    )
                )
            elif kind == "response.done" and pending_call is not None:
                pending_call = None
                await ws.send('{"type":"response.create"}')

    return ws, asyncio.ensure_future(consume())


async def send_floor(ws: Any) -> None:
    await ws.send(
        json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(CHUNK).decode()})
    )


# ----------------------------------------------------------------- openai-agents 0.24


async def open_openai_agents(url: str, rec: Recorder) -> tuple[Any, Any]:
    from agents import function_tool
    from agents.realtime import RealtimeAgent, RealtimeRunner

    @function_tool
    def get_time() -> str:
        """The time."""
        return "12:00"

    agent = RealtimeAgent(name="bench", instructions="x", tools=[get_time])
    runner = RealtimeRunner(agent, config={"model_settings": {"voice": "marin"}})
    session = await runner.run(model_config={"url": url, "api_key": "sk-bench"})
    await session.__aenter__()

    async def consume() -> None:
        async for event in session:
            if event.type == "audio":
                rec.audio(event.audio.data)

    return session, asyncio.ensure_future(consume())


async def send_openai_agents(session: Any) -> None:
    await session.send_audio(CHUNK)


# ----------------------------------------------------------------- driver


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rec = Recorder()
    opener = {
        "agentgraph": open_agentgraph,
        "floor": open_floor,
        "openai-agents": open_openai_agents,
        "agentgraph-batched": lambda url, rec: open_agentgraph(url, rec, 40),
    }[args.impl]
    sessions = []
    for _ in range(args.sessions):
        sessions.append(await opener(args.url, rec))
    if os.environ.get("BENCH_GC_OFF"):
        gc.disable()
    gc_stats: dict[int, list[float]] = {0: [], 1: [], 2: []}
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            gc_stats[info["generation"]].append(time.perf_counter() - gc_started[0])

    if os.environ.get("BENCH_GC_STATS"):
        gc.callbacks.append(on_gc)
    if args.impl != "openai-agents":
        gc.collect()
        gc.freeze()  # start-up objects out of the GC's way (allowed by the issue)
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + args.warmup + args.seconds
    measure_at = loop.time() + args.warmup
    cpu0 = wall0 = 0.0
    late_ticks = 0

    async def ticker() -> None:
        nonlocal late_ticks
        next_at = loop.time()
        while True:
            next_at += 0.02
            delay = next_at - loop.time()
            if delay < -0.02:
                late_ticks += 1
            await asyncio.sleep(max(0.0, delay))
            if args.impl.startswith("agentgraph"):
                for session, _ in sessions:
                    send_agentgraph(session)
            elif args.impl == "floor":
                for ws, _ in sessions:
                    await send_floor(ws)
            else:
                for session, _ in sessions:
                    await send_openai_agents(session)

    tick = asyncio.ensure_future(ticker()) if not args.long_call_minutes else None
    if args.long_call_minutes:
        target = int(args.long_call_minutes * 2400)
        start = time.process_time()
        rec.minute_cpu.append(start)
        while rec.deltas < target:
            await asyncio.sleep(0.05)
        cpu = [b - a for a, b in zip(rec.minute_cpu, rec.minute_cpu[1:], strict=False)]
        result = {
            "impl": args.impl,
            "minute_cpu_s": cpu,
            "per_event_us_by_minute": [c / (2400 * 47 / 40) * 1e6 for c in cpu],
        }
    else:
        await asyncio.sleep(max(0.0, measure_at - loop.time()))
        rec.measuring = True
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.sleep(max(0.0, stop_at - loop.time()))
        cpu = time.process_time() - cpu0
        wall = time.monotonic() - wall0
        rec.measuring = False
        lat = sorted(rec.latencies_ns)

        def pct(p: float) -> float | None:
            return lat[min(len(lat) - 1, int(p * len(lat)))] / 1e6 if lat else None

        expected = args.sessions * 40 * wall
        result = {
            "impl": args.impl,
            "sessions": args.sessions,
            "wall_s": wall,
            "cpu_pct_one_core": 100 * cpu / wall,
            "cpu_pct_per_session": 100 * cpu / wall / args.sessions,
            "p50_ms": pct(0.5),
            "p99_ms": pct(0.99),
            "max_ms": pct(1.0),
            "deltas": len(lat),
            "deltas_expected": expected,
            "late_ticks": late_ticks,
        }
    if os.environ.get("BENCH_GC_STATS"):
        result["gc"] = {
            g: (len(v), max(v, default=0) * 1e3, sum(v) * 1e3) for g, v in gc_stats.items()
        }
        result["gc_objects"] = len(gc.get_objects())
        print(json.dumps(result["gc"]), result["gc_objects"], file=sys.stderr)
    if tick is not None:
        tick.cancel()
    for handle, consumer in sessions:
        consumer.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(handle.close(), 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--impl", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--long-call-minutes", type=float, default=0.0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    with open(args.out, "w") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main()
