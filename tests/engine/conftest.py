"""Fixtures: a real embedded engine on loopback and a small JSON websocket client."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from agentgraph.engine import EmbeddedEngine

TIMEOUT_S = 30.0  # generous: recognizers share 2 cores with everything else

WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


class WireClient:
    """A raw Realtime client: send dicts, receive dicts, collect until a type arrives."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []

    async def send(self, event: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(event))

    async def recv(self) -> dict[str, Any]:
        import asyncio

        message = await asyncio.wait_for(self.ws.recv(), TIMEOUT_S)
        event: dict[str, Any] = json.loads(message)
        self.seen.append(event)
        return event

    async def until(self, kind: str) -> list[dict[str, Any]]:
        """All events up to and including the next one of type `kind`."""
        out = []
        while True:
            event = await self.recv()
            out.append(event)
            if event["type"] == kind:
                return out

    async def text_turn(self, text: str) -> None:
        await self.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": text}],
                },
            }
        )


@pytest.fixture
async def engine() -> AsyncIterator[EmbeddedEngine]:
    async with EmbeddedEngine(voice_input=False) as server:
        yield server


@pytest.fixture
async def client(engine: EmbeddedEngine) -> AsyncIterator[WireClient]:
    async with websockets.connect(
        engine.url + "?model=gpt-realtime",
        additional_headers={"Authorization": "Bearer test"},
        max_size=None,
    ) as ws:
        wire = WireClient(ws)
        created = await wire.recv()
        assert created["type"] == "session.created"
        yield wire


@pytest.fixture
async def voice_client() -> AsyncIterator[WireClient]:
    async with (
        EmbeddedEngine(realtime_factor=1.0) as engine,
        websockets.connect(
            engine.url + "?model=gpt-realtime",
            additional_headers={"Authorization": "Bearer t"},
            max_size=None,
        ) as ws,
    ):
        wire = WireClient(ws)
        assert (await wire.recv())["type"] == "session.created"
        yield wire


async def stream(client: WireClient, pcm: bytes, chunk_ms: int = 20) -> None:
    step = 48 * chunk_ms
    for i in range(0, len(pcm), step):
        await client.send(
            {
                "type": "input_audio_buffer.append",
                "audio": base64.b64encode(pcm[i : i + step]).decode(),
            }
        )
