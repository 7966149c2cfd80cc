"""The OpenAI SIP connector: webhook in, accept, attach a session by `call_id`.

For each verified `realtime.call.incoming` (realtime-protocol.md §8): answer the webhook
2xx at once (the SIP leg is ringing), then accept the call with the routed agent's GA
session config, open the sideband websocket `?call_id=...` as a realtime session and run
it until the caller hangs up (the socket closes). Media never touches us. `end_call` and
`transfer_call` map to the REST hangup and refer. Duplicate deliveries (same webhook id,
or a call already being handled) start one session; replayed ids inside the window are
answered 200 and ignored; beyond `max_calls` calls are rejected with 486.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from agentgraph.audio import AudioFormat
from agentgraph.realtime import normalize_run_config
from agentgraph.transports.base import Transport, TransportSession
from agentgraph.transports.openai_sip.http import HttpServer
from agentgraph.transports.openai_sip.rest import CallGone, CallsClient, RestError
from agentgraph.transports.openai_sip.webhook import (
    IncomingCallEvent,
    ReplayGuard,
    WebhookError,
    check_secret,
    parse_incoming_call,
    precheck_delivery,
    verify_webhook,
)
from agentgraph.transports.sip.sessions import CallSessions

__all__ = ["AttachedCallTransport", "OpenAISipCall", "OpenAISipConnector", "accept_body"]

log = logging.getLogger(__name__)


class OpenAISipCall:
    """`call_control` for a call attached through the connector (REST hangup/refer)."""

    def __init__(self, client: CallsClient, call_id: str) -> None:
        self.client = client
        self.call_id = call_id

    async def hangup(self) -> None:
        with contextlib.suppress(CallGone):  # hanging up a call that is gone is done
            await self.client.hangup(self.call_id)

    async def transfer(self, target: str) -> None:
        await self.client.refer(self.call_id, target)


class AttachedCallTransport(Transport):
    """The sideband socket carries no audio: greet, then follow events until it closes.

    A session with a greeting of its own (the agent's or the graph's) asked for it when it
    connected; the generic first response is only for agents without one."""

    audio_format = AudioFormat.G711_ULAW

    def __init__(self, *, greet: bool = True) -> None:
        self.greet = greet

    async def run(self, session: TransportSession) -> None:
        if self.greet and getattr(session, "greeting", None) is None:
            await session.generate_response()  # type: ignore[attr-defined]
        async for event in session:
            if (
                getattr(event, "type", "") == "connection"
                and getattr(event, "status", "") == "closed"
            ):
                return


async def accept_body(agent: Any, run_config: Any) -> dict[str, Any]:
    """The GA session object to accept a call with, for `agent` under `run_config`.

    Audio formats are left out: the codec is negotiated on the SIP leg (§7).
    """
    settings = normalize_run_config(run_config)
    session = settings.model.session_wire(
        instructions=await agent.get_system_prompt(None),
        tools=agent.tools_wire(),
        turn_detection=agent.turn_detection,
        include_model=True,
    )
    for direction in ("input", "output"):
        session.get("audio", {}).get(direction, {}).pop("format", None)
    return session


class OpenAISipConnector:
    """The webhook endpoint plus one attached session per accepted call.

    Args:
        secret: the `whsec_...` signing secret.
        sessions: starts and runs the routed agent's session.
        calls: the REST client (accept/reject/refer/hangup).
        host, port, path: where the webhook listens.
        max_calls: calls beyond this many at once are rejected with 486.
        clock: unix time source (tests inject it).
    """

    def __init__(
        self,
        *,
        secret: str,
        sessions: CallSessions,
        calls: CallsClient,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/openai/webhook",
        max_calls: int = 100,
        greet: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secret = secret
        self.sessions = sessions
        self.calls = calls
        self.path = path
        self.max_calls = max_calls
        self.greet = greet
        self.accepted: list[str] = []
        self._clock = clock
        self._replay = ReplayGuard()
        self._active: dict[str, asyncio.Task[None]] = {}
        self._http = HttpServer(self.handle, host=host, port=port, precheck=self._precheck)

    @classmethod
    def from_settings(
        cls, settings: Any, sessions: CallSessions, *, compiled: Any = None, max_calls: int = 100
    ) -> OpenAISipConnector:
        """Build from the compiled graph's `sip.openai` settings and the session factory.

        Raises:
            UsageError: the webhook secret is not usable.
        """
        check_secret(settings.webhook_secret)
        base = (sessions.url or "wss://api.openai.com/v1/realtime").rsplit("/realtime", 1)[0]
        rest = base.replace("wss://", "https://", 1).replace("ws://", "http://", 1)
        return cls(
            secret=settings.webhook_secret,
            sessions=sessions,
            calls=CallsClient(rest, api_key=sessions.api_key),
            host=settings.host,
            port=settings.port,
            path=settings.path,
            max_calls=max_calls,
        )

    @property
    def url(self) -> str:
        return f"http://{self._http.host}:{self._http.port}{self.path}"

    async def __aenter__(self) -> OpenAISipConnector:
        await self._http.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.__aexit__()
        for task in list(self._active.values()):
            task.cancel()
        if self._active:
            await asyncio.gather(*self._active.values(), return_exceptions=True)

    def _precheck(
        self, method: str, path: str, headers: dict[str, str]
    ) -> tuple[int, bytes] | None:
        now = self._clock()
        return precheck_delivery(method, path, headers, expected_path=self.path, now=now)

    async def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes]:
        """One webhook request -> (HTTP status, body). Never raises on bad input."""
        if path.split("?", 1)[0] != self.path:
            return 404, b"not found\n"
        if method != "POST":
            return 405, b"POST only\n"
        now = self._clock()
        try:
            webhook_id = verify_webhook(body, headers, self.secret, now=now)
            event = parse_incoming_call(body)
        except WebhookError as exc:
            log.info("webhook refused: %s", exc)
            return exc.status, f"{exc}\n".encode()
        if not self._replay.first_time(webhook_id, now):
            return 200, b"duplicate delivery ignored\n"
        if event is None:
            return 200, b"ignored\n"
        if event.call_id in self._active:
            return 200, b"call already handled\n"
        task = asyncio.ensure_future(self._run_call(event))
        self._active[event.call_id] = task
        task.add_done_callback(lambda _t: self._active.pop(event.call_id, None))
        return 200, b"ok\n"

    async def _run_call(self, event: IncomingCallEvent) -> None:
        call_id = event.call_id
        number = event.dialled_number
        try:
            if len(self._active) > self.max_calls:
                await self.calls.reject(call_id, 486)
                return
            agent = self.sessions.agent_for(number)
            await self.calls.accept(call_id, await accept_body(agent, self.sessions.run_config))
        except CallGone:
            log.info("call %s ended before it was accepted", call_id)
            return
        except RestError as exc:
            log.warning("could not accept call %s: %s", call_id, exc)
            return
        self.accepted.append(call_id)
        try:
            await self.sessions.run_call(
                call_id,
                number,
                AttachedCallTransport(greet=self.greet),
                call_control=OpenAISipCall(self.calls, call_id),
                model_call_id=call_id,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one failed call must not stop the connector
            log.warning("call %s: session failed: %s", call_id, exc)
