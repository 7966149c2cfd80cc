"""Fixtures: a fake Realtime server and a helper that runs a session against it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from agentgraph.realtime import RealtimeAgent, RealtimeRunner, RealtimeSession
from tests.fakes import FakeConnection, FakeRealtimeServer


class Harness:
    """A connected session, its server-side peer and every session event so far."""

    def __init__(self, server: FakeRealtimeServer) -> None:
        self.server = server
        self.session: RealtimeSession | None = None
        self.conn: FakeConnection | None = None
        self.events: list[Any] = []
        self._changed = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None

    async def start(
        self, agent: RealtimeAgent, config: dict[str, Any] | None = None, **run: Any
    ) -> tuple[RealtimeSession, FakeConnection]:
        runner = RealtimeRunner(agent, config=config)
        model_config = {"url": self.server.url, **run.pop("model_config", {})}
        self.session = await runner.run(model_config=model_config, **run)
        await self.session.connect()
        self.conn = await self.server.next_connection()
        await self.conn.wait_for("session.update")
        self._pump = asyncio.get_running_loop().create_task(self._collect())
        return self.session, self.conn

    async def _collect(self) -> None:
        assert self.session is not None
        async for event in self.session:
            self.events.append(event)
            self._changed.set()

    def types(self) -> list[str]:
        return [e.type for e in self.events]

    def of(self, kind: str) -> list[Any]:
        return [e for e in self.events if e.type == kind]

    async def wait_event(
        self,
        kind: str,
        where: Callable[[Any], bool] | None = None,
        count: int = 1,
        timeout: float = 5.0,
    ) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                found = [e for e in self.of(kind) if where is None or where(e)]
                if len(found) >= count:
                    return found[count - 1]
                self._changed.clear()
                await self._changed.wait()

    async def stop(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self._pump is not None:
            await asyncio.wait_for(self._pump, 5)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    async with FakeRealtimeServer() as server:
        h = Harness(server)
        try:
            yield h
        finally:
            await h.stop()
