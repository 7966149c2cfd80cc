"""Protocol rules at the wire: handshake, session.update, items, responses, error codes."""

from __future__ import annotations

import json

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from agentgraph.engine import EmbeddedEngine

from .conftest import WEATHER_TOOL, WireClient


async def test_handshake_requires_auth_and_model(engine: EmbeddedEngine) -> None:
    with pytest.raises(InvalidStatus) as no_auth:
        async with websockets.connect(engine.url + "?model=gpt-realtime"):
            pass
    assert no_auth.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as no_model:
        async with websockets.connect(engine.url, additional_headers={"Authorization": "Bearer k"}):
            pass
    assert no_model.value.response.status_code == 400
    with pytest.raises(InvalidStatus) as bad_path:
        async with websockets.connect(
            engine.url.replace("/v1/realtime", "/v2") + "?model=m",
            additional_headers={"Authorization": "Bearer k"},
        ):
            pass
    assert bad_path.value.response.status_code == 404


async def test_browser_subprotocols_answered_with_realtime(engine: EmbeddedEngine) -> None:
    async with websockets.connect(
        engine.url + "?model=gpt-realtime",
        subprotocols=["realtime", "openai-insecure-api-key.ek_test"],  # type: ignore[list-item]
    ) as ws:
        assert ws.subprotocol == "realtime"
        created = json.loads(await ws.recv())
        assert created["type"] == "session.created"


async def test_call_id_attach_and_beta_header_rejected(engine: EmbeddedEngine) -> None:
    async with websockets.connect(
        engine.url + "?call_id=rtc_123", additional_headers={"Authorization": "Bearer k"}
    ) as ws:
        assert json.loads(await ws.recv())["type"] == "session.created"
    async with websockets.connect(
        engine.url + "?model=gpt-4o-realtime-preview",
        additional_headers={"Authorization": "Bearer k", "OpenAI-Beta": "realtime=v1"},
    ) as ws:
        err = json.loads(await ws.recv())
        assert err["error"]["code"] == "beta_api_shape_disabled"
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 4000


async def test_session_created_is_full_default(client: WireClient) -> None:
    session = client.seen[0]["session"]
    assert session["type"] == "realtime" and session["id"].startswith("sess_")
    assert session["audio"]["output"]["voice"] == "marin"
    assert session["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert session["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert session["output_modalities"] == ["audio"]


async def test_session_update_merges_and_clears(client: WireClient) -> None:
    await client.send(
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "instructions": "Be brief.",
                "tools": [WEATHER_TOOL],
                "audio": {"output": {"voice": "ash"}},
            },
        }
    )
    first = (await client.until("session.updated"))[-1]["session"]
    assert first["instructions"] == "Be brief." and first["audio"]["output"]["voice"] == "ash"
    assert first["audio"]["input"]["turn_detection"]["type"] == "server_vad"  # untouched
    await client.send(
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "instructions": "",
                "tools": [],
                "audio": {"input": {"turn_detection": None, "format": {"type": "audio/pcma"}}},
            },
        }
    )
    second = (await client.until("session.updated"))[-1]["session"]
    assert second["instructions"] == "" and second["tools"] == []
    assert second["audio"]["input"]["turn_detection"] is None
    assert second["audio"]["input"]["format"] == {"type": "audio/pcma"}
    assert second["audio"]["output"]["voice"] == "ash"  # kept from the first update
    await client.send(
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "audio": {
                    "input": {"turn_detection": {"type": "semantic_vad", "eagerness": "high"}}
                },
            },
        }
    )
    third = (await client.until("session.updated"))[-1]["session"]
    assert third["audio"]["input"]["turn_detection"] == {
        "type": "semantic_vad",
        "eagerness": "high",
        "create_response": True,
        "interrupt_response": True,
    }


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        ({"instructions": "x"}, "missing_required_parameter", "session.type"),
        ({"type": "realtime", "modalities": ["text"]}, "unknown_parameter", "session.modalities"),
        (
            {"type": "realtime", "audio": {"output": {"voice": "bogus"}}},
            "invalid_value",
            "session.audio.output.voice",
        ),
        (
            {"type": "realtime", "output_modalities": ["audio", "text"]},
            "invalid_value",
            "session.output_modalities",
        ),
        (
            {
                "type": "realtime",
                "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}},
            },
            "invalid_value",
            "session.audio.input.format",
        ),
        (
            {
                "type": "realtime",
                "audio": {"input": {"turn_detection": {"type": "server_vad", "eagerness": "low"}}},
            },
            "unknown_parameter",
            "session.audio.input.turn_detection.eagerness",
        ),
        (
            {"type": "realtime", "audio": {"output": {"speed": 3}}},
            "invalid_value",
            "session.audio.output.speed",
        ),
        ({"type": "realtime", "tool_choice": "sometimes"}, "invalid_value", "session.tool_choice"),
    ],
)
async def test_session_update_errors_reject_whole_update(
    client: WireClient, session: dict[str, object], code: str, param: str
) -> None:
    await client.send(
        {
            "type": "session.update",
            "event_id": "evt_1",
            "session": {**session, "instructions": "changed?"},
        }
    )
    err = await client.recv()
    assert err["type"] == "error"
    assert err["error"] | {"message": ""} == {
        "type": "invalid_request_error",
        "code": code,
        "param": param,
        "event_id": "evt_1",
        "message": "",
    }
    # Nothing was applied: a later good update still shows the default instructions.
    await client.send({"type": "session.update", "session": {"type": "realtime"}})
    assert (await client.until("session.updated"))[-1]["session"]["instructions"] != "changed?"


async def test_voice_locked_after_assistant_audio(client: WireClient) -> None:
    await client.send(
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"output": {"voice": "coral"}}},
        }
    )
    await client.until("session.updated")  # before any audio: allowed
    await client.text_turn("hello")
    await client.send({"type": "response.create"})
    await client.until("response.done")
    await client.send(
        {
            "type": "session.update",
            "event_id": "v",
            "session": {
                "type": "realtime",
                "instructions": "new",
                "audio": {"output": {"voice": "echo"}},
            },
        }
    )
    err = (await client.until("error"))[-1]["error"]
    assert err["code"] == "cannot_update_voice"
    assert err["param"] == "session.audio.output.voice" and err["event_id"] == "v"
    await client.send({"type": "session.update", "session": {"type": "realtime"}})
    session = (await client.until("session.updated"))[-1]["session"]
    assert session["instructions"] != "new" and session["audio"]["output"]["voice"] == "coral"


async def test_one_active_response_and_cancel(client: WireClient) -> None:
    await client.send(
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
        }
    )
    await client.until("session.updated")
    long_text = "Say: " + "Our opening hours are nine to five on weekdays. " * 8
    await client.send({"type": "response.create", "response": {"instructions": long_text}})
    created = (await client.until("response.created"))[-1]["response"]
    await client.send({"type": "response.create", "event_id": "second"})
    err = (await client.until("error"))[-1]["error"]
    assert err["code"] == "conversation_already_has_active_response"
    assert created["id"] in err["message"] and err["event_id"] == "second"
    await client.send({"type": "response.cancel"})
    events = await client.until("response.done")
    done = events[-1]["response"]
    assert done["id"] == created["id"] and done["status"] == "cancelled"
    assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
    assert [e["type"] for e in events if e["type"].endswith(".done")][-6:] == [
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
    ]
    await client.send({"type": "response.cancel", "event_id": "c2"})
    err = (await client.until("error"))[-1]["error"]
    assert err["code"] == "response_cancel_not_active" and err["event_id"] == "c2"


async def test_out_of_band_response_with_own_input(client: WireClient) -> None:
    await client.text_turn("What's the weather in Paris?")
    await client.send(
        {
            "type": "response.create",
            "response": {
                "conversation": "none",
                "output_modalities": ["text"],
                "metadata": {"kind": "summary"},
                "input": [
                    {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": "hello"}],
                    }
                ],
            },
        }
    )
    events = await client.until("response.done")
    assert "conversation.item.added" not in [e["type"] for e in events[2:]]
    done = events[-1]["response"]
    assert done["conversation_id"] is None and done["metadata"] == {"kind": "summary"}
    assert done["output"][0]["content"][0]["type"] == "output_text"


async def test_items_create_positions_retrieve_delete(client: WireClient) -> None:
    def msg(item_id: str, text: str) -> dict[str, object]:
        return {
            "type": "conversation.item.create",
            "item": {
                "id": item_id,
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": text}],
            },
        }

    await client.send(msg("item_a", "first"))
    added = (await client.until("conversation.item.done"))[0]
    assert added["type"] == "conversation.item.added" and "previous_item_id" not in added
    await client.send(msg("item_b", "second"))
    assert (await client.until("conversation.item.done"))[0]["previous_item_id"] == "item_a"
    await client.send({**msg("item_r", "zero"), "previous_item_id": "root"})
    assert "previous_item_id" not in (await client.until("conversation.item.done"))[0]
    await client.send({**msg("item_m", "middle"), "previous_item_id": "item_a"})
    assert (await client.until("conversation.item.done"))[0]["previous_item_id"] == "item_a"
    await client.send({**msg("item_x", "?"), "previous_item_id": "nope", "event_id": "p"})
    err = (await client.until("error"))[-1]["error"]
    assert err["param"] == "previous_item_id" and err["event_id"] == "p"
    await client.send({"type": "conversation.item.retrieve", "item_id": "item_m"})
    item = (await client.until("conversation.item.retrieved"))[-1]["item"]
    assert item["content"] == [{"type": "input_text", "text": "middle"}]
    await client.send({"type": "conversation.item.delete", "item_id": "item_m"})
    assert (await client.until("conversation.item.deleted"))[-1]["item_id"] == "item_m"
    await client.send({"type": "conversation.item.delete", "item_id": "item_m"})
    assert (await client.until("error"))[-1]["error"]["param"] == "item_id"
    await client.send(
        {
            "type": "conversation.item.create",
            "event_id": "aa",
            "item": {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_audio", "audio": "AAAA"}],
            },
        }
    )
    err = (await client.until("error"))[-1]["error"]
    assert err["code"] == "invalid_value" and err["event_id"] == "aa"
    await client.send(
        {
            "type": "conversation.item.truncate",
            "item_id": "item_a",
            "content_index": 0,
            "audio_end_ms": 0,
        }
    )
    assert (await client.until("error"))[-1]["error"]["param"] == "item_id"


async def test_malformed_and_unknown_events_keep_session_open(client: WireClient) -> None:
    await client.ws.send("not json")
    assert (await client.recv())["error"]["code"] == "invalid_event"
    await client.ws.send(json.dumps({"event_id": "x"}))
    err = (await client.recv())["error"]
    assert err["code"] == "invalid_event" and "type" in err["message"]
    await client.send({"type": "response.bogus", "event_id": "u"})
    assert (await client.recv())["error"]["event_id"] == "u"
    await client.send({"type": "input_audio_buffer.clear"})
    assert (await client.recv())["type"] == "input_audio_buffer.cleared"


def test_engine_serve_command_runs_standalone() -> None:
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(repo))
    bad = subprocess.run(
        [sys.executable, "-m", "agentgraph", "engine", "serve", "--policy", "chat"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert bad.returncode == 2 and "chat-completions base URL" in bad.stderr
    assert "Traceback" not in bad.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentgraph", "engine", "serve", "--port", "0", "--no-voice-input"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        m = re.search(r"(ws://127\.0\.0\.1:\d+/v1/realtime)", proc.stderr.readline())
        assert m

        async def hello() -> str:
            async with websockets.connect(
                m.group(1) + "?model=gpt-realtime", additional_headers={"Authorization": "Bearer k"}
            ) as ws:
                return str(json.loads(await ws.recv())["type"])

        import asyncio

        assert asyncio.run(hello()) == "session.created"
    finally:
        proc.terminate()
        assert proc.wait(10) is not None
