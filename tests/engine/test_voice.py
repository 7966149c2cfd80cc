"""Voice input at the wire: VAD turn events, recognition, commit rules, barge-in."""

from __future__ import annotations

import base64
import json

from .conftest import WEATHER_TOOL, WireClient, stream
from .speech import caller_speech, noise, plain

BOOK_TOOL = {
    "type": "function",
    "name": "book_appointment",
    "description": "Book a dental appointment.",
    "parameters": {
        "type": "object",
        "properties": {
            "date": {"type": "string"},
            "time": {"type": "string"},
            "name": {"type": "string"},
        },
        "required": ["date", "time", "name"],
    },
}


async def configure(client: WireClient, **audio_input: object) -> None:
    await client.send(
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "tools": [WEATHER_TOOL, BOOK_TOOL],
                "audio": {"input": {"transcription": {"model": "whisper-1"}, **audio_input}},
            },
        }
    )
    await client.until("session.updated")


async def test_spoken_request_gives_turn_events_transcript_and_tool_call(
    voice_client: WireClient,
) -> None:
    await configure(
        voice_client,
        turn_detection={"type": "server_vad", "silence_duration_ms": 300, "prefix_padding_ms": 200},
    )
    pcm, start_ms, end_ms = caller_speech("What's the weather in Lisbon?", voice="ash")
    await stream(voice_client, pcm)
    events = await voice_client.until("response.done")
    kinds = [e["type"] for e in events]
    assert kinds[:7] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.completed",
    ]
    started, stopped = events[0], events[1]
    # On the input timeline: starts prefix-padding before the voice, stops after silence.
    assert start_ms - 200 - 100 <= started["audio_start_ms"] <= start_ms
    assert end_ms + 250 <= stopped["audio_end_ms"] <= end_ms + 300 + 200
    assert started["item_id"] == stopped["item_id"] == events[2]["item_id"]
    assert plain(events[6]["transcript"]) == "what's the weather in lisbon"
    call = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert json.loads(call["arguments"]) == {"city": "Lisbon"}


async def test_slot_question_answered_by_voice_across_turns(voice_client: WireClient) -> None:
    await configure(voice_client, turn_detection={"type": "server_vad", "silence_duration_ms": 400})
    pcm, _, _ = caller_speech(
        "I want to book an appointment tomorrow at three pm", voice="echo", seed=1
    )
    await stream(voice_client, pcm)
    events = await voice_client.until("response.done")
    said = next(e for e in events if e["type"] == "response.output_audio_transcript.done")
    assert said["transcript"] == "May I have your name?"
    pcm, _, _ = caller_speech("My name is John Smith", voice="echo", seed=2)
    await stream(voice_client, pcm)
    events = await voice_client.until("response.done")
    # a booking from speech is read back first: nothing is booked on what was heard alone
    assert not [e for e in events if e["type"] == "response.function_call_arguments.done"]
    said = next(e for e in events if e["type"] == "response.output_audio_transcript.done")
    assert "John Smith" in said["transcript"] and "15:00" in said["transcript"]
    pcm, _, _ = caller_speech("Yes, please.", voice="echo", seed=3)
    await stream(voice_client, pcm)
    events = await voice_client.until("response.done")
    call = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    args = json.loads(call["arguments"])
    assert args["name"] == "John Smith" and args["time"] == "15:00"


async def test_manual_commit_rules_with_vad_off(voice_client: WireClient) -> None:
    await configure(voice_client, turn_detection=None)
    await stream(voice_client, noise(60))
    await voice_client.send({"type": "input_audio_buffer.commit", "event_id": "c1"})
    err = (await voice_client.until("error"))[-1]["error"]
    assert err["code"] == "input_audio_buffer_commit_empty"
    assert err["event_id"] == "c1"
    assert "60.00ms" in err["message"]
    pcm, _, _ = caller_speech("What's the weather in Tokyo?", voice="cedar")
    await stream(voice_client, pcm)  # the 60 ms are still in the buffer, plus this
    await voice_client.send({"type": "input_audio_buffer.commit"})
    events = await voice_client.until("conversation.item.input_audio_transcription.completed")
    kinds = [e["type"] for e in events]
    assert "input_audio_buffer.speech_started" not in kinds
    assert kinds[:3] == [
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]
    assert plain(events[-1]["transcript"]) == "what's the weather in tokyo"
    # A commit never creates a response; the client asks for one.
    await voice_client.send({"type": "response.create"})
    events = await voice_client.until("response.done")
    call = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert json.loads(call["arguments"]) == {"city": "Tokyo"}
    # And right after a commit, the buffer is empty again.
    await voice_client.send({"type": "input_audio_buffer.commit"})
    assert (await voice_client.until("error"))[-1]["error"]["code"] == (
        "input_audio_buffer_commit_empty"
    )


async def test_barge_in_cancels_response_and_truncate_works_on_sent_audio(
    voice_client: WireClient,
) -> None:
    await configure(voice_client, turn_detection={"type": "server_vad", "silence_duration_ms": 300})
    # A long answer, paced at real time, so the caller can talk over it.
    await voice_client.send(
        {
            "type": "response.create",
            "response": {
                "instructions": "Say: "
                + "This is a long announcement about our opening hours. " * 6
            },
        }
    )
    first = await voice_client.until("response.output_audio.delta")
    item_id = first[-1]["item_id"]
    pcm, _, _ = caller_speech("Stop.", voice="sage", lead_ms=200, tail_ms=600)
    await stream(voice_client, pcm)
    events = await voice_client.until("response.done")
    kinds = [
        e["type"]
        for e in events
        if e["type"]
        not in ("response.output_audio.delta", "response.output_audio_transcript.delta")
    ]
    assert kinds == [
        "input_audio_buffer.speech_started",
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
    ]
    done = events[-1]["response"]
    assert done["status"] == "cancelled"
    assert done["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
    assert done["output"][0]["status"] == "incomplete"
    sent_ms = (
        sum(
            len(base64.b64decode(e["delta"]))
            for e in [*first, *events]
            if e["type"] == "response.output_audio.delta"
        )
        // 48
    )
    await voice_client.send(
        {
            "type": "conversation.item.truncate",
            "item_id": item_id,
            "content_index": 0,
            "audio_end_ms": sent_ms + 500,
            "event_id": "t1",
        }
    )
    err = (await voice_client.until("error"))[-1]["error"]
    assert err["event_id"] == "t1" and "already shorter" in err["message"]
    await voice_client.send(
        {
            "type": "conversation.item.truncate",
            "item_id": item_id,
            "content_index": 0,
            "audio_end_ms": sent_ms // 2,
        }
    )
    truncated = (await voice_client.until("conversation.item.truncated"))[-1]
    assert truncated["audio_end_ms"] == sent_ms // 2
    await voice_client.send({"type": "conversation.item.retrieve", "item_id": item_id})
    item = (await voice_client.until("conversation.item.retrieved"))[-1]["item"]
    assert len(base64.b64decode(item["content"][0]["audio"])) == sent_ms // 2 * 48
    assert item["content"][0]["transcript"] == ""
    # The caller's "stop" turn is committed and answered after the cancelled response.
    while not any(
        e["type"] == "response.done" and e["response"]["status"] == "completed"
        for e in voice_client.seen
    ):
        await voice_client.recv()
    kinds = [e["type"] for e in voice_client.seen]
    assert "input_audio_buffer.speech_stopped" in kinds
    assert kinds.index("input_audio_buffer.speech_stopped") > kinds.index("response.done")


async def test_in_process_recognizer_gives_the_same_turn() -> None:
    """`asr_workers=0` decodes inside the server process (no worker pool)."""
    import websockets

    from agentgraph.engine import EmbeddedEngine

    async with (
        EmbeddedEngine(asr_workers=0) as engine,
        websockets.connect(
            engine.url + "?model=gpt-realtime", additional_headers={"Authorization": "Bearer t"}
        ) as ws,
    ):
        client = WireClient(ws)
        await client.until("session.created")
        await configure(client, turn_detection={"type": "server_vad", "silence_duration_ms": 300})
        pcm, _, _ = caller_speech("What's the weather in Lisbon?", voice="ash")
        await stream(client, pcm)
        events = await client.until("response.done")
        done = next(
            e
            for e in events
            if e["type"] == "conversation.item.input_audio_transcription.completed"
        )
        assert plain(done["transcript"]) == "what's the weather in lisbon"


async def test_semantic_vad_waits_through_an_unfinished_phrase(voice_client: WireClient) -> None:
    await configure(voice_client, turn_detection={"type": "semantic_vad", "eagerness": "high"})
    first, _, _ = caller_speech(
        "I want to book an appointment and", voice="cedar", tail_ms=700, seed=8
    )
    second, _, _ = caller_speech("tomorrow at three pm", voice="cedar", lead_ms=0, seed=9)
    await stream(voice_client, first + second)
    events = await voice_client.until("conversation.item.input_audio_transcription.completed")
    kinds = [e["type"] for e in events]
    # One turn, although the pause (700 ms) is far longer than high eagerness' 250 ms.
    assert kinds.count("input_audio_buffer.speech_started") == 1
    assert "tomorrow" in events[-1]["transcript"]
    # A finished sentence ends the turn after the short wait.
    pcm, start_ms, end_ms = caller_speech("What's the weather in Paris?", voice="cedar", seed=10)
    await voice_client.until("response.done")
    await stream(voice_client, pcm)
    stopped = (await voice_client.until("input_audio_buffer.speech_stopped"))[-1]
    started = next(
        e for e in reversed(voice_client.seen) if e["type"] == "input_audio_buffer.speech_started"
    )
    turn_ms = stopped["audio_end_ms"] - started["audio_start_ms"]
    voice_ms = end_ms - start_ms
    # prefix 300 + voice + 250 ms high-eagerness wait (+ slack), not the 1 s unfinished wait
    assert turn_ms < 300 + voice_ms + 250 + 300
