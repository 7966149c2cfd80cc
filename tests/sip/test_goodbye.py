"""`end_call` after a goodbye: baresip (a real softphone) records what it hears, and the
goodbye the agent queued must be in the recording before our BYE ends the call."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import numpy as np
import pytest

from agentgraph.audio import pcm16_to_ulaw, read_wav_pcm16, rms_dbfs, write_wav_pcm16
from agentgraph.realtime import RealtimeAgent, end_call
from agentgraph.transports.sip.events import SipConfig
from agentgraph.transports.sip.server import SipCall, SipServer
from agentgraph.transports.sip.sessions import CallSessions
from tests.fakes import FakeRealtimeServer
from tests.sip.test_baresip import CONFIG

BARESIP = shutil.which("baresip")
pytestmark = [
    pytest.mark.skipif(BARESIP is None, reason="baresip (Debian baresip-core) not installed"),
    pytest.mark.peer,
    pytest.mark.slow,
]


def tone_ulaw(seconds: float) -> bytes:
    t = np.arange(int(8000 * seconds)) / 8000
    pcm = (8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()
    return pcm16_to_ulaw(pcm)


async def test_goodbye_is_heard_before_the_bye(tmp_path: Path) -> None:
    assert BARESIP is not None
    home = tmp_path / "baresip"
    home.mkdir()
    wav = home / "quiet.wav"
    write_wav_pcm16(wav, b"\x00\x00" * 8000 * 12, rate_hz=8000)  # the caller stays 12 s
    (home / "config").write_text(CONFIG.format(wav=wav, dir=home))
    (home / "accounts").write_text("<sip:caller@127.0.0.1>;regint=0\n")
    desk = RealtimeAgent(name="desk", instructions="Say goodbye.", tools=[end_call])
    calls: list[SipCall] = []
    async with FakeRealtimeServer() as model:
        sessions = CallSessions(
            agents={"desk": desk}, start_agent="desk", url=model.url, api_key="sk-test"
        )

        async def on_call(call: SipCall) -> None:
            calls.append(call)
            await sessions.handle_sip_call(call)

        config = SipConfig(host="127.0.0.1", port=0)
        async with SipServer(config, on_call=on_call, prepare=sessions.prepare_sip_call) as srv:
            host, port = srv.address
            proc = await asyncio.create_subprocess_exec(
                BARESIP,
                "-f",
                str(home),
                "-e",
                f"/dial sip:1000@{host}:{port}",
                "-t",
                "8",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            conn = await model.next_connection(timeout=10)
            await conn.wait_for("session.update")
            while not calls:
                await asyncio.sleep(0.05)
            # one response: two seconds of goodbye (arriving far faster than real time),
            # then the end_call tool; the BYE must wait until the goodbye has played
            resp = await conn.begin_response()
            item = await resp.add_message()
            audio = tone_ulaw(2.0)
            for i in range(0, len(audio), 1600):
                await resp.audio_delta(item, audio[i : i + 1600])
            await resp.finish_message(item, "Thank you, goodbye.")
            await resp.add_function_call("end_call", "{}", "call_bye")
            await resp.end()
            out, _ = await asyncio.wait_for(proc.communicate(), 30)
    log = out.decode(errors="replace")
    assert "Call established" in log, log[-2000:]
    (call,) = calls
    assert call.end_reason == "local hangup"  # we hung up, not the caller's timer
    (heard,) = home.glob("dump-*-dec.wav")
    pcm = read_wav_pcm16(heard, rate_hz=8000)
    loud = [i for i in range(0, len(pcm) - 1600, 1600) if rms_dbfs(pcm[i : i + 1600]) > -30]
    assert len(loud) >= 17, f"only {len(loud)} of 20 loud 100 ms blocks of the goodbye heard"
