"""Soak `agentgraph serve` under mixed hostile traffic on loopback, for a bounded time.

    python bench/soak.py --minutes 2            # figures for the closing note
    python bench/soak.py --minutes 30 --out /tmp/soak

Starts `agentgraph engine serve` and `agentgraph serve GRAPH --openai-sip --media-streams`
(SIP allow list 127.0.0.1/32, max_calls 4, a media-stream token, secrets in the
environment), then runs at
once until the deadline:

* legitimate SIP calls from 127.0.1.x (allowed): INVITE, ACK, 3 s of u-law RTP (a spoken weather
  question, then silence), BYE; counted answered (200 OK) and heard (agent RTP back);
* an INVITE flood from 127.0.0.2 (outside the allow list) and random datagrams at the
  SIP port;
* webhook abuse: bursts of connections declaring 1 MB bodies, half-sent headers and
  unsigned deliveries;
* media-stream abuse: bursts of 10 streams without the graph's stream token (403);
* engine clients that never read (a 600 kB item retrieved over and over).

Reports legitimate calls answered (target 100 %), RSS of serve and the engine (with
their children) over time (target flat), crashes (exited early or printed a traceback:
0) and secrets found by grepping every file the run produced, in raw, JSON-escaped,
XML-escaped and repr spellings (0). Writes `soak.json` in the output folder.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import html
import json
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SECRETS = {
    "SOAK_API_KEY": 'sk-soak-"quoted"\\back-Grüße-7f3a9c',
    "SOAK_MEDIA_TOKEN": "soak-media-stream-token-5d1e",
    "SOAK_WEBHOOK_SECRET": "whsec_" + base64.b64encode(b"soak-webhook-secret-0123456789").decode(),
}
GRAPH = """\
version: 1
name: Soak
model: {{provider: local, base_url: "{engine}"}}
audio: {{input_format: g711_ulaw, output_format: g711_ulaw}}
turn_detection: {{type: server_vad, silence_duration_ms: 500}}
variables: {{backend: "${{SOAK_API_KEY}}"}}
tools:
  get_weather: {{entry_point: get_weather}}
agents:
  weather:
    instructions: Answer weather questions with get_weather, in one short sentence.
    tools: [get_weather]
sip:
  listen: 127.0.0.1:{sip_port}
  allow: [127.0.0.1/32, 127.0.1.0/24]
  max_calls: 4
  openai:
    webhook_secret: "${{SOAK_WEBHOOK_SECRET}}"
    listen: 127.0.0.1:{hook_port}
  media_streams:
    token: "${{SOAK_MEDIA_TOKEN}}"
"""


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_line(path: Path, pattern: str, proc: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(pattern, path.read_text(errors="replace"))
        if found:
            return found.group(1)
        if proc.poll() is not None:
            raise SystemExit(f"{path.name}: exited early:\n{path.read_text()[-2000:]}")
        time.sleep(0.2)
    raise SystemExit(f"{path.name}: no {pattern!r} within {timeout} s")


def rss_kb(pid: int) -> int:
    """RSS of `pid` and all its descendants, in kB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, AttributeError):
            continue
    return total


def question_ulaw() -> bytes:
    """A spoken weather question as 8 kHz u-law (espeak-ng, converted by agentgraph)."""
    from agentgraph.audio import pcm16_to_ulaw, read_wav_pcm16

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "q.wav"
        subprocess.run(
            ["espeak-ng", "-v", "en-us", "-w", str(wav), "What is the weather in Paris?"],
            check=True,
            capture_output=True,
        )
        return pcm16_to_ulaw(read_wav_pcm16(wav, rate_hz=8000))


class Stats(dict[str, int]):
    def add(self, key: str, n: int = 1) -> None:
        self[key] = self.get(key, 0) + n


# -- legitimate calls ----------------------------------------------------------------------


class UdpPeer(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.queue.put_nowait(data)


def sip_request(method: str, call_id: str, port: int, sip_port: int, **kw: Any) -> bytes:
    body = kw.get("body", "")
    ip = kw.get("ip", "127.0.0.1")
    lines = [
        f"{method} sip:1000@127.0.0.1:{sip_port} SIP/2.0",
        f"Via: SIP/2.0/UDP {ip}:{port};branch=z9hG4bK-{kw.get('branch', call_id)};rport",
        "Max-Forwards: 70",
        f"From: <sip:soak@{ip}:{port}>;tag=soak",
        f"To: <sip:1000@127.0.0.1>{kw.get('to_tag', '')}",
        f"Call-ID: {call_id}",
        f"CSeq: {kw.get('cseq', 1)} {method}",
        f"Contact: <sip:soak@{ip}:{port}>",
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


async def one_call(n: int, sip_port: int, speech: bytes, stats: Stats) -> None:
    loop = asyncio.get_running_loop()
    caller_ip = f"127.0.1.{n % 250 + 1}"  # each caller its own address, as phones are
    sig_t, sig = await loop.create_datagram_endpoint(UdpPeer, local_addr=(caller_ip, 0))
    rtp_t, rtp = await loop.create_datagram_endpoint(UdpPeer, local_addr=(caller_ip, 0))
    port = sig_t.get_extra_info("sockname")[1]
    rtp_port = rtp_t.get_extra_info("sockname")[1]
    call_id = f"soak-{n}-{random.getrandbits(32):08x}"
    server = ("127.0.0.1", sip_port)
    sdp = (
        f"v=0\r\no=soak 1 1 IN IP4 {caller_ip}\r\ns=-\r\nc=IN IP4 {caller_ip}\r\nt=0 0\r\n"
        f"m=audio {rtp_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    )
    stats.add("calls_attempted")
    try:
        final = None
        for _ in range(16):  # INVITE retransmissions every 0.5 s, 8 s in all
            sig_t.sendto(
                sip_request("INVITE", call_id, port, sip_port, body=sdp, ip=caller_ip), server
            )
            try:
                while final is None:
                    data = await asyncio.wait_for(sig.queue.get(), 0.5)
                    status = int(data.split(b" ", 2)[1])
                    if status >= 200:
                        final = data
            except TimeoutError:
                continue
            break
        if final is None or int(final.split(b" ", 2)[1]) != 200:
            stats.add("calls_not_answered")
            stats.add(f"calls_final_{final.split(b' ', 2)[1].decode() if final else 'none'}")
            return
        stats.add("calls_answered")
        head, _, body = final.partition(b"\r\n\r\n")
        to_tag = re.search(rb"To:[^\r\n]*(;tag=[^;\r\n]+)", head)
        tag = to_tag.group(1).decode() if to_tag else ""
        media_port = int(re.search(rb"m=audio (\d+)", body).group(1))  # type: ignore[union-attr]
        sig_t.sendto(
            sip_request(
                "ACK", call_id, port, sip_port, to_tag=tag, branch=f"{call_id}-ack", ip=caller_ip
            ),
            server,
        )
        audio = speech + b"\xff" * 8000 * 3  # the question, then 3 s of silence
        heard = 0
        seq, ts, ssrc = random.getrandbits(16), 0, random.getrandbits(32)
        start = loop.time()
        for i in range(0, len(audio), 160):
            packet = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, ts, ssrc) + audio[i : i + 160]
            rtp_t.sendto(packet, ("127.0.0.1", media_port))
            seq, ts = seq + 1, ts + 160
            await asyncio.sleep(max(0.0, start + (i // 160 + 1) * 0.02 - loop.time()))
            while not rtp.queue.empty():
                rtp.queue.get_nowait()
                heard += 1
        stats.add("calls_heard_agent" if heard > 25 else "calls_silent")
        bye = sip_request(
            "BYE", call_id, port, sip_port, to_tag=tag, cseq=2, branch=f"{call_id}-bye"
        )
        sig_t.sendto(bye, server)
        try:
            while True:
                data = await asyncio.wait_for(sig.queue.get(), 4.0)
                if b"CSeq: 2 BYE" in data:
                    stats.add(f"bye_{data.split(b' ', 2)[1].decode()}")
                    break
        except TimeoutError:
            stats.add("bye_no_answer")
    except Exception as exc:  # counted, so a broken harness shows in the report
        stats.add(f"call_harness_error_{type(exc).__name__}")
    finally:
        sig_t.close()
        rtp_t.close()


async def legit_calls(deadline: float, sip_port: int, stats: Stats) -> None:
    speech = question_ulaw()
    tasks: set[asyncio.Task[None]] = set()
    n = 0
    while time.monotonic() < deadline:
        if len(tasks) < 2:  # legitimate load stays within max_calls (4)
            n += 1
            task = asyncio.ensure_future(one_call(n, sip_port, speech, stats))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.sleep(2.0)
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


# -- hostile traffic -----------------------------------------------------------------------


async def flood_and_fuzz(deadline: float, sip_port: int, stats: Stats) -> None:
    refused = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    refused.bind(("127.0.0.2", 0))
    refused.setblocking(False)
    fuzz = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fuzz.bind(("127.0.0.3", 0))  # the attacker is not the caller (per-source limits)
    fuzz.setblocking(False)
    port = refused.getsockname()[1]
    n = 0
    while time.monotonic() < deadline:
        for _ in range(20):  # ~400 INVITEs/s from a refused network
            n += 1
            invite = sip_request("INVITE", f"flood-{n}", port, sip_port, body="v=0\r\n")
            try:
                refused.sendto(invite.replace(b"127.0.0.1:" + str(port).encode(),
                                              b"127.0.0.2:" + str(port).encode()),
                               ("127.0.0.1", sip_port))  # fmt: skip
                stats.add("flood_invites")
            except BlockingIOError:
                stats.add("flood_dropped_locally")
        for _ in range(5):  # ~100 random datagrams/s
            data = random.randbytes(random.randint(1, 1400))
            if random.random() < 0.5:
                data = b"INVITE sip:x SIP/2.0\r\n" + data
            try:
                fuzz.sendto(data, ("127.0.0.1", sip_port))
                stats.add("fuzz_datagrams")
            except BlockingIOError:
                pass
        await asyncio.sleep(0.05)
    refused.close()
    fuzz.close()


async def http_status(port: int, head: bytes, *, hold: float = 0.0) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        if hold:
            await asyncio.sleep(hold)
        line = await asyncio.wait_for(reader.readline(), 30)
        return int(line.split()[1]) if line else 0
    except (TimeoutError, ConnectionError, IndexError, ValueError):
        return 0
    finally:
        writer.close()


async def webhook_abuse(deadline: float, hook_port: int, stats: Stats) -> None:
    big = (
        "POST /openai/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n"
        f"webhook-id: wh_x\r\nwebhook-timestamp: {int(time.time())}\r\n"
        "webhook-signature: v1,AAAA\r\n\r\n"
    ).encode()
    unsigned = b"POST /openai/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
    half = b"POST /openai/webhook HTTP/1.1\r\nHost: x\r\n"
    while time.monotonic() < deadline:
        heads = [big] * 40 + [unsigned] * 10 + [half] * 10
        statuses = await asyncio.gather(*(http_status(hook_port, h) for h in heads))
        for status in statuses:
            stats.add(f"webhook_{status}")
        await asyncio.sleep(1.0)


async def media_abuse(deadline: float, ms_port: int, stats: Stats) -> None:
    import websockets

    start = json.dumps({"event": "start", "streamSid": "MZ", "start": {"streamSid": "MZ"}})

    async def one() -> None:
        try:
            async with websockets.connect(f"ws://127.0.0.1:{ms_port}/media-stream") as ws:
                await ws.send(start)
                stats.add("media_admitted")
                await asyncio.sleep(2.0)
        except websockets.InvalidStatus as exc:
            stats.add(f"media_{exc.response.status_code}")
        except (OSError, websockets.ConnectionClosed):
            stats.add("media_closed")

    while time.monotonic() < deadline:
        await asyncio.gather(*(one() for _ in range(10)))
        await asyncio.sleep(3.0)


async def slow_readers(deadline: float, engine_url: str, stats: Stats) -> None:
    import websockets

    audio = base64.b64encode(b"\x00" * 600_000).decode()
    create = json.dumps(
        {
            "type": "conversation.item.create",
            "item": {
                "id": "item_big",
                "type": "message",
                "role": "user",
                "content": [{"type": "input_audio", "audio": audio}],
            },
        }
    )
    retrieve = json.dumps({"type": "conversation.item.retrieve", "item_id": "item_big"})
    while time.monotonic() < deadline:
        try:
            async with websockets.connect(
                engine_url + "?model=gpt-realtime",
                additional_headers={"Authorization": "Bearer soak"},
                max_queue=1,
                max_size=None,
            ) as ws:
                await ws.send(create)
                for _ in range(200):
                    await ws.send(retrieve)
                    await asyncio.sleep(0.01)
                # never read: the engine must give up on us (1008) rather than buffer
                await asyncio.wait_for(ws.wait_closed(), 60)
                stats.add("slow_reader_closed_by_engine")
        except TimeoutError:
            stats.add("slow_reader_not_closed")
        except websockets.ConnectionClosed:
            stats.add("slow_reader_closed_by_engine")
        except OSError:
            stats.add("slow_reader_connect_failed")
        await asyncio.sleep(5.0)


# -- the run -------------------------------------------------------------------------------


def spellings(secret: str) -> set[str]:
    return {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret),
        repr(secret)[1:-1],
    }


def secrets_found(folder: Path) -> list[str]:
    hits = []
    for path in folder.rglob("*"):
        if not path.is_file() or path.name == "graph.yaml":
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        for name, value in SECRETS.items():
            if any(s in text for s in spellings(value)):
                hits.append(f"{path.relative_to(folder)}: {name}")
    return hits


async def traffic(
    minutes: float,
    ports: dict[str, int],
    engine_url: str,
    out: Path,
    pids: dict[str, int],
    stats: Stats,
    without: set[str],
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + minutes * 60
    samples: list[dict[str, Any]] = []

    async def sample() -> None:
        t0 = time.monotonic()
        while time.monotonic() < deadline:
            samples.append(
                {"t_s": round(time.monotonic() - t0)}
                | {f"{name}_rss_mb": round(rss_kb(pid) / 1024, 1) for name, pid in pids.items()}
            )
            await asyncio.sleep(max(5.0, minutes * 60 / 30))

    kinds = {
        "flood": flood_and_fuzz(deadline, ports["sip"], stats),
        "webhook": webhook_abuse(deadline, ports["hook"], stats),
        "media": media_abuse(deadline, ports["media"], stats),
        "slow_readers": slow_readers(deadline, engine_url, stats),
    }
    for kind in without:
        kinds.pop(kind).close()
    await asyncio.gather(sample(), legit_calls(deadline, ports["sip"], stats), *kinds.values())
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="how long (default 30)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: tmp)")
    parser.add_argument(
        "--without",
        default="",
        help="comma-separated traffic to leave out: flood, webhook, media, slow_readers",
    )
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="agentgraph-soak-"))
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, **SECRETS, PYTHONPATH=str(REPO))
    env.pop("OPENAI_API_KEY", None)
    ports = {"sip": free_port(socket.SOCK_DGRAM), "hook": free_port(), "media": free_port()}
    engine_log = (out / "engine.log").open("wb")
    engine = subprocess.Popen(
        [sys.executable, "-m", "agentgraph", "engine", "serve", "--port", "0"],
        stdout=engine_log, stderr=subprocess.STDOUT, env=env, cwd=out,
    )  # fmt: skip
    engine_url = wait_line(out / "engine.log", r"serving (ws://\S+?)\?", engine, 120)
    (out / "graph.yaml").write_text(
        GRAPH.format(engine=engine_url, sip_port=ports["sip"], hook_port=ports["hook"])
    )
    serve_log = (out / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "agentgraph", "serve", str(out / "graph.yaml"), "--openai-sip",
         "--media-streams", f"127.0.0.1:{ports['media']}", "--stats", str(out / "stats.json")],
        stdout=serve_log, stderr=subprocess.STDOUT, env=env, cwd=out,
    )  # fmt: skip
    wait_line(out / "serve.log", r"(SIP on udp)", serve, 120)
    stats = Stats()
    pids = {"serve": serve.pid, "engine": engine.pid}
    try:
        without = {w for w in args.without.split(",") if w}
        samples = asyncio.run(traffic(args.minutes, ports, engine_url, out, pids, stats, without))
    finally:
        crashed = [name for name, p in (("serve", serve), ("engine", engine)) if p.poll()]
        for proc in (serve, engine):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in (serve, engine):
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        serve_log.close()
        engine_log.close()
    tracebacks = sum(
        (out / log).read_text(errors="replace").count("Traceback")
        for log in ("serve.log", "engine.log")
    )
    attempted = stats.get("calls_attempted", 0)
    report = {
        "minutes": args.minutes,
        "without": args.without,
        "legit_calls_attempted": attempted,
        "legit_calls_answered_pct": round(
            100 * stats.get("calls_answered", 0) / max(1, attempted), 1
        ),
        "legit_calls_heard_agent": stats.get("calls_heard_agent", 0),
        "crashed": crashed,
        "tracebacks_in_logs": tracebacks,
        "secrets_found": secrets_found(out),
        "serve_stats": json.loads((out / "stats.json").read_text())
        if (out / "stats.json").exists()
        else None,
        "rss": samples,
        "traffic": dict(sorted(stats.items())),
        "out": str(out),
    }  # fmt: skip
    (out / "soak.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0 if not crashed and not report["secrets_found"] else 1


if __name__ == "__main__":
    sys.exit(main())
