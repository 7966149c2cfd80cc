"""The README's critical path at the wire: text turn -> function call -> spoken answer."""

from __future__ import annotations

import base64
import json

from agentgraph.audio import rms_dbfs

from .conftest import WEATHER_TOOL, WireClient

AUDIO_TURN = [
    "response.created",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
    "response.output_audio_transcript.delta",
    "response.output_audio.done",
    "response.output_audio_transcript.done",
    "response.content_part.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
]


async def test_text_turn_tool_call_then_spoken_answer(client: WireClient) -> None:
    await client.send(
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "tools": [WEATHER_TOOL],
                "audio": {"input": {"turn_detection": None}},
            },
        }
    )
    assert (await client.until("session.updated"))[-1]["session"]["tools"][0]["name"] == (
        "get_weather"
    )

    await client.text_turn("What's the weather in Tokyo?")
    await client.send({"type": "response.create"})
    events = await client.until("response.done")
    assert [e["type"] for e in events] == [
        "conversation.item.added",
        "conversation.item.done",
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
    ]
    call = events[6]
    assert call["name"] == "get_weather"
    assert json.loads(call["arguments"]) == {"city": "Tokyo"}
    done = events[-1]["response"]
    assert done["status"] == "completed"
    assert done["output"][0]["type"] == "function_call"
    assert done["output"][0]["call_id"] == call["call_id"]

    await client.send(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "function_call_output",
                "call_id": call["call_id"],
                "output": json.dumps({"city": "Tokyo", "conditions": "sunny", "temperature_c": 22}),
            },
        }
    )
    await client.send({"type": "response.create"})
    events = await client.until("response.done")
    kinds = [e["type"] for e in events if e["type"] != "rate_limits.updated"]
    assert kinds[:2] == ["conversation.item.added", "conversation.item.done"]
    # Deltas interleave; the skeleton around them follows §6 (a).
    skeleton = [
        k
        for i, k in enumerate(kinds[2:])
        if k != "response.output_audio.delta"
        and not (k == "response.output_audio_transcript.delta" and kinds[2:][i - 1] == k)
    ]
    assert skeleton == AUDIO_TURN
    audio = b"".join(
        base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta"
    )
    assert len(audio) / 48 > 1500  # over 1.5 s of 24 kHz speech
    assert rms_dbfs(audio) > -35
    transcript = next(e for e in events if e["type"] == "response.output_audio_transcript.done")
    assert transcript["transcript"] == (
        "City is Tokyo, conditions is sunny and temperature c is 22."
    )
    final = events[-1]["response"]
    assert final["output"][0]["content"] == [
        {"type": "output_audio", "transcript": transcript["transcript"]}
    ]
    assert final["usage"]["output_tokens"] > 0


async def test_text_only_modality_sends_text_events(client: WireClient) -> None:
    await client.send(
        {
            "type": "session.update",
            "session": {"type": "realtime", "output_modalities": ["text"], "tools": [WEATHER_TOOL]},
        }
    )
    await client.until("session.updated")
    await client.text_turn("hello")
    await client.send({"type": "response.create"})
    events = await client.until("response.done")
    kinds = [e["type"] for e in events]
    assert "response.output_audio.delta" not in kinds
    assert "response.output_text.delta" in kinds
    text_done = next(e for e in events if e["type"] == "response.output_text.done")
    assert "weather" in text_done["text"]
    item = events[-1]["response"]["output"][0]
    assert item["content"] == [{"type": "output_text", "text": text_done["text"]}]


async def test_g711_output_format_gives_8k_audio(client: WireClient) -> None:
    await client.send(
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "audio": {"output": {"format": {"type": "audio/pcmu"}}},
            },
        }
    )
    await client.until("session.updated")
    await client.text_turn("hello there")
    await client.send({"type": "response.create"})
    events = await client.until("response.done")
    audio = b"".join(
        base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta"
    )
    from agentgraph.audio import ulaw_to_pcm16

    assert rms_dbfs(ulaw_to_pcm16(audio)) > -35
    assert events[-1]["response"]["audio"]["output"]["format"] == {"type": "audio/pcmu"}
    # 8000 bytes per second: a greeting of a few seconds, not 6x that.
    assert 1.0 < len(audio) / 8000 < 15
