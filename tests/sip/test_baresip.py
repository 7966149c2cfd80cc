"""baresip, a real softphone, calls the served graph: it plays a WAV of a caller request
into the call and records what it hears; the engine's reply must arrive and the tool run."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from agentgraph.app.serve import ServeOptions, serve_graph
from agentgraph.audio import read_wav_pcm16, rms_dbfs, write_wav_pcm16
from tests.sip.caller_audio import caller_pcm8k

BARESIP = shutil.which("baresip")
GRAPH = Path(__file__).parents[2] / "examples" / "graphs" / "weather.yaml"
pytestmark = [
    pytest.mark.skipif(BARESIP is None, reason="baresip (Debian baresip-core) not installed"),
    pytest.mark.peer,
    pytest.mark.slow,
]

CONFIG = """\
poll_method		epoll
sip_listen		127.0.0.1:0
audio_player		alsa,null
audio_alert		alsa,null
audio_source		aufile,{wav}
audio_srate		8000
audio_channels		1
module_path		/usr/lib/baresip/modules
module			stdio.so
module			g711.so
module			aufile.so
module			alsa.so
module			sndfile.so
module_app		account.so
module_app		menu.so
snd_path		{dir}
"""


def softphone_dir(tmp: Path, request: str) -> Path:
    home = tmp / "baresip"
    home.mkdir()
    wav = home / "request.wav"
    # the call lasts as long as the file: the request, then room for the answer
    write_wav_pcm16(wav, caller_pcm8k(request, tail_ms=8000), rate_hz=8000)
    (home / "config").write_text(CONFIG.format(wav=wav, dir=home))
    (home / "accounts").write_text("<sip:caller@127.0.0.1>;regint=0\n")
    return home


async def test_baresip_caller_hears_the_engine_answer(tmp_path: Path) -> None:
    assert BARESIP is not None
    home = softphone_dir(tmp_path, "What's the weather in Tokyo?")
    events: list[Any] = []
    ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    opts = ServeOptions(graph=GRAPH, listen="127.0.0.1:0", provider="local")
    task = asyncio.ensure_future(
        serve_graph(opts, ready=ready, stop=stop, on_event=lambda _c, e: events.append(e))
    )
    try:
        host, port = (await asyncio.wait_for(ready, 30)).address
        proc = await asyncio.create_subprocess_exec(
            BARESIP,
            "-f",
            str(home),
            "-e",
            f"/dial sip:1000@{host}:{port}",
            "-t",
            "16",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        stop.set()
        stats = await task
    log = out.decode(errors="replace")
    assert "Call established" in log, log[-2000:]
    assert stats["calls_completed"] == 1
    tools = [(e.tool_name, e.output) for e in events if e.type == "tool_end"]
    assert tools and tools[0][0] == "get_weather" and "Tokyo" in tools[0][1]
    # what the softphone decoded from our RTP: at least a second of clearly audible speech
    (heard,) = home.glob("dump-*-dec.wav")
    pcm = read_wav_pcm16(heard, rate_hz=8000)
    loud = [i for i in range(0, len(pcm) - 3200, 3200) if rms_dbfs(pcm[i : i + 3200]) > -35]
    assert len(loud) >= 5, f"only {len(loud)} loud 200 ms blocks in the answer"
