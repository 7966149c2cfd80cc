"""`agentgraph play`: a local web page to talk to a graph, watch it, approve and edit it.

One aiohttp server (loopback by default) serves the page's assets from `agentgraph/web`
(no CDN: it works offline), the graph's session records' `report.html`, and one websocket
per conversation. A conversation is wired as `agentgraph run` wires one (same backend,
hub, console, session records, `--watch` reloads), with the browser as the transport and
the page as one more hub observer; operator approvals come from the page's buttons.

The model backend (the embedded engine, or OpenAI) is opened once for the server's life.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from agentgraph.app.backend import Backend, connect_failure, open_backend
from agentgraph.app.console import ConsoleMode, ConsoleRenderer
from agentgraph.app.eventdata import redact_logs
from agentgraph.app.hub import ObservedSession, SessionHub
from agentgraph.app.page import PageApprovals, PageObserver, save_graph
from agentgraph.app.records import SessionRecorder, new_run_dir
from agentgraph.app.shutdown import interrupt_on_termination
from agentgraph.errors import AgentGraphError, ConnectionClosed, UsageError

__all__ = ["PlayOptions", "PlayServer", "is_loopback", "request_allowed", "run_play"]

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
_ASSETS = {
    "app.js": "text/javascript",
    "capture-worklet.js": "text/javascript",
    "playback-worklet.js": "text/javascript",
    "style.css": "text/css",
}
_MAX_FRAME = 4 * 1024 * 1024  # an editor save of a big graph fits; nothing larger


@dataclass
class PlayOptions:
    """What `agentgraph play` was asked to do."""

    graph: Path
    host: str = "127.0.0.1"
    port: int = 8080
    allow_remote: bool = False
    open_browser: bool = True
    provider: str | None = None
    console: ConsoleMode = "text"
    log_dir: Path = Path("runs")
    no_records: bool = False
    record: bool = False
    approval_timeout_s: float = 60.0


def is_loopback(host: str) -> bool:
    """Whether `host` only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def request_allowed(host: str, origin: str | None, *, loopback_only: bool) -> bool:
    """Whether a request may reach the playground (which can run tools and write the graph).

    Any web page the user opens can make the browser connect to a loopback port, so the
    websocket must come from the playground's own page (`Origin` equals the address it was
    served from), and on loopback the `Host` must be a loopback name (a rebound DNS name
    pointing at 127.0.0.1 is refused). `origin=""` means the check does not apply (plain
    page and asset requests); None means the header was missing.
    """
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    hostname = hostname.strip("[]").lower()
    if loopback_only and not is_loopback(hostname):
        return False
    if origin == "":
        return True
    return origin is not None and origin.lower() in (
        f"http://{host.lower()}",
        f"https://{host.lower()}",
    )


class _Link:
    """A `BrowserLink` over an aiohttp websocket: one writer task keeps frames in order."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.out: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._write())

    async def receive(self) -> bytes | dict[str, Any] | None:
        from aiohttp import WSMsgType

        while True:
            msg = await self.ws.receive()
            if msg.type == WSMsgType.BINARY:
                return bytes(msg.data)
            if msg.type == WSMsgType.TEXT:
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue  # not JSON: ignore, as a broken page must not end the call
                if isinstance(data, dict):
                    return data
                continue
            return None  # close, closing, closed or error

    def send_json(self, message: dict[str, Any]) -> None:
        self.out.put_nowait(json.dumps(message, ensure_ascii=False))

    def send_bytes(self, data: bytes) -> None:
        self.out.put_nowait(data)

    async def _write(self) -> None:
        while (frame := await self.out.get()) is not None:
            if self.ws.closed:
                continue
            with contextlib.suppress(ConnectionError, RuntimeError):
                if isinstance(frame, bytes):
                    await self.ws.send_bytes(frame)
                else:
                    await self.ws.send_str(frame)

    async def close(self) -> None:
        """Send what is queued, then stop the writer."""
        self.out.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.task, 5)


class PlayServer:
    """The playground's web server and its conversations.

    Args:
        opts: the command's options.
        backend: the model backend, open for the server's life.
        out: the terminal console.
    """

    def __init__(self, opts: PlayOptions, backend: Backend, *, out: TextIO | None = None) -> None:
        from agentgraph.app.run import load_spec

        self.opts = opts
        self.backend = backend
        self.out = out if out is not None else sys.stdout
        self.spec, self.compiled = load_spec(opts.graph)  # fails before serving anything
        self._stamp = _stamp(opts.graph)
        self.conversations = 0
        self.runs: list[Path] = []
        self.url = ""
        self._runner: Any = None
        self._open: dict[asyncio.Task[Any], Any] = {}  # conversation task -> its websocket

    # -- the web server ----------------------------------------------------------------
    async def start(self) -> str:
        """Listen; returns the page's URL."""
        from aiohttp import web

        @web.middleware
        async def guard(request: Any, handler: Any) -> Any:
            origin = request.headers.get("Origin") if request.path == "/ws" else ""
            if not request_allowed(request.host, origin, loopback_only=not self.opts.allow_remote):
                raise web.HTTPForbidden(text="agentgraph play: not this page's address")
            return await handler(request)

        app = web.Application(client_max_size=_MAX_FRAME, middlewares=[guard])
        app.router.add_get("/", self._index)
        app.router.add_get("/assets/{name}", self._asset)
        app.router.add_get("/graph.svg", self._svg)
        app.router.add_get("/runs/{run}/report.html", self._report)
        app.router.add_get("/ws", self._ws)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.opts.host, self.opts.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise UsageError(
                f"cannot listen on {self.opts.host}:{self.opts.port}: {exc.strerror or exc} "
                "(pick another with --port)"
            ) from exc
        port = self.opts.port
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            port = server.sockets[0].getsockname()[1]  # --port 0: the one the OS chose
        host = self.opts.host if ":" not in self.opts.host else f"[{self.opts.host}]"
        self.url = f"http://{host}:{port}/"
        return self.url

    async def stop(self) -> None:
        """End every conversation (their records are written), then close the server."""
        for ws in list(self._open.values()):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"agentgraph play is stopping")
        if self._open:
            await asyncio.wait(list(self._open), timeout=15)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _index(self, request: Any) -> Any:
        from aiohttp import web

        return web.FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-store"})

    async def _asset(self, request: Any) -> Any:
        from aiohttp import web

        name = request.match_info["name"]
        if name not in _ASSETS:
            raise web.HTTPNotFound()
        return web.FileResponse(
            WEB_DIR / name, headers={"Content-Type": _ASSETS[name], "Cache-Control": "no-store"}
        )

    async def _svg(self, request: Any) -> Any:
        from aiohttp import web

        from agentgraph.spec.draw_svg import to_svg

        return web.Response(text=to_svg(self.spec), content_type="image/svg+xml")

    async def _report(self, request: Any) -> Any:
        from aiohttp import web

        name = request.match_info["run"]
        runs = {run.name: run for run in self.runs}  # only this server's conversations
        if name not in runs or not (runs[name] / "report.html").is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(runs[name] / "report.html")

    # -- one conversation per websocket ------------------------------------------------
    async def _ws(self, request: Any) -> Any:
        from aiohttp import web

        ws = web.WebSocketResponse(max_msg_size=_MAX_FRAME, heartbeat=None)
        await ws.prepare(request)
        link = _Link(ws)
        task = asyncio.current_task()
        assert task is not None
        self._open[task] = ws
        try:
            await self.converse(link)
        except AgentGraphError as err:
            link.send_json({"type": "error", "message": err.format()})
            self._console().note(err.format())
        finally:
            self._open.pop(task, None)
            await link.close()
            await ws.close()
        return ws

    def _console(self) -> ConsoleRenderer:
        secrets = frozenset(getattr(self.spec, "secrets", ()) or ())
        from agentgraph.app.run import _transcribes

        return ConsoleRenderer(
            self.opts.console,
            out=self.out,
            secrets=secrets,
            caller_transcripts=_transcribes(self.compiled),
        )

    def hello(self) -> dict[str, Any]:
        """The page's first message: the graph, its picture and its text."""
        from agentgraph.app.run import _manual_turns
        from agentgraph.spec.draw_svg import to_svg

        return {
            "type": "hello",
            "name": self.spec.name,
            "start": self.spec.start,
            "svg": to_svg(self.spec),
            "file": str(self.opts.graph),
            "yaml": self.opts.graph.read_text(encoding="utf-8"),
            "manual_turns": _manual_turns(self.compiled),
        }

    async def converse(self, link: _Link) -> None:
        """Run one conversation with the page on `link` until it hangs up or leaves."""
        from agentgraph.app.run import (
            _manual_turns,
            _text_only,
            _transcribes,
            graph_files,
            load_spec,
        )
        from agentgraph.app.watch import GraphWatcher
        from agentgraph.transports.browser import BrowserTransport

        stamp = _stamp(self.opts.graph)
        if stamp != self._stamp:  # edited outside the page since the last conversation
            with contextlib.suppress(AgentGraphError):  # invalid: keep the last good graph
                self.spec, self.compiled = await asyncio.to_thread(load_spec, self.opts.graph)
            self._stamp = stamp
        spec, compiled = self.spec, self.compiled
        secrets = frozenset(getattr(spec, "secrets", ()) or ())
        page = PageObserver(link, secrets=secrets, caller_transcripts=_transcribes(compiled))
        page.send(self.hello())
        console = self._console()
        self.conversations += 1
        console.note(f"conversation {self.conversations}: a page connected")
        transport = BrowserTransport(link, manual_turns=_manual_turns(compiled))
        hub = SessionHub(
            [console, page],
            clock=asyncio.get_running_loop().time,
            text_only=_text_only(compiled),
            audio_format=transport.audio_format,
        )
        run_dir: Path | None = None
        recorder: SessionRecorder | None = None
        if not self.opts.no_records:
            run_dir = new_run_dir(self.opts.log_dir)
            self.runs.append(run_dir)
            recorder = SessionRecorder(
                run_dir,
                latency=hub.latency,
                record_audio=self.opts.record,
                audio_format=transport.audio_format,
                secrets=secrets,
                meta={
                    "graph": str(self.opts.graph),
                    "provider": self.backend.provider,
                    "model": self.backend.model_name,
                    "transport": "browser",
                },
            )
            hub.observers.append(recorder)

        def note(text: str) -> None:
            console.note(text)
            page.note(text)

        try:
            try:
                session = await self._open_session(compiled, transport, hub)
            except ConnectionClosed as exc:  # unreachable or refused: say what to do instead
                raise connect_failure(self.backend, exc) from None
            async with session:
                approvals = PageApprovals(session, page, timeout_s=self.opts.approval_timeout_s)
                hub.event_listeners.append(approvals.on_event)
                watcher = GraphWatcher(
                    self.opts.graph,
                    session,
                    compiled,
                    note=note,
                    current_agent=lambda: hub.agent_name or compiled.starting_agent.name,
                    files=graph_files(self.opts.graph, spec),
                )

                async def control(message: dict[str, Any]) -> None:
                    kind = message.get("type")
                    if kind == "approval":
                        approvals.answer(
                            str(message.get("call_id")), message.get("approved") is True
                        )
                    elif kind == "save" and isinstance(message.get("text"), str):
                        await self._save(message["text"], watcher, page)

                transport.on_control = control
                page.send({"type": "ready", "backend": self.backend.describe()})
                try:
                    await transport.run(ObservedSession(session, hub))
                finally:
                    await approvals.close()
        finally:
            report = None
            if recorder is not None and run_dir is not None:
                recorder.close()
                console.note(f"records: {run_dir}")
                report = await asyncio.to_thread(_write_report, run_dir)
            link.send_json({"type": "ended", "report": report})

    async def _open_session(self, compiled: Any, transport: Any, hub: SessionHub) -> Any:
        from agentgraph.app.run import session_config
        from agentgraph.realtime import RealtimePlaybackTracker, RealtimeRunner

        tracker = RealtimePlaybackTracker(transport.audio_format)
        transport.playback_tracker = hub.tracker(tracker)
        runner = RealtimeRunner(
            compiled.starting_agent, config=session_config(compiled, transport.audio_format)
        )
        model_config: dict[str, Any] = {"url": self.backend.url, "playback_tracker": tracker}
        if self.backend.api_key:
            model_config["api_key"] = self.backend.api_key
        return await runner.run(model_config=model_config)

    async def _save(self, text: str, watcher: Any, page: PageObserver) -> None:
        """Write and validate the editor's text; a valid graph reloads as `--watch` does."""
        from agentgraph.spec.draw_svg import to_svg

        try:
            findings = await asyncio.to_thread(save_graph, self.opts.graph, text)
        except OSError as exc:
            page.send({"type": "error", "message": f"cannot save {self.opts.graph}: {exc}"})
            return
        errors = [f for f in findings if f["severity"] == "error"]
        if errors:
            page.send({"type": "findings", "findings": findings, "applied": False})
            page.note(f"{self.opts.graph} is not valid; still running the previous graph")
            return
        applied = await watcher.reload()
        if applied:
            from agentgraph.app.run import load_spec

            with contextlib.suppress(AgentGraphError):
                self.spec, self.compiled = await asyncio.to_thread(load_spec, self.opts.graph)
                self._stamp = _stamp(self.opts.graph)
            page.send(
                {
                    "type": "graph",
                    "name": self.spec.name,
                    "start": self.spec.start,
                    "svg": to_svg(self.spec),
                }
            )
        page.send({"type": "findings", "findings": findings, "applied": applied})


def _stamp(path: Path) -> tuple[float, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime, stat.st_size)


def _write_report(run_dir: Path) -> str | None:
    from agentgraph.app.report import write_report

    try:
        write_report(run_dir)
    except (OSError, ValueError):
        return None
    return f"/runs/{run_dir.name}/report.html"


async def run_play(opts: PlayOptions, *, out: TextIO | None = None) -> None:
    """Serve the playground until cancelled (Ctrl-C)."""
    from agentgraph.app.run import load_spec

    out = out if out is not None else sys.stdout
    if not is_loopback(opts.host) and not opts.allow_remote:
        raise UsageError(
            f"--host {opts.host} is not a loopback address: anyone who can reach it could "
            "talk to the agent and run its tools; add --allow-remote if that is what you want"
        )
    spec, compiled = load_spec(opts.graph)
    redact_logs(frozenset(getattr(spec, "secrets", ()) or ()))
    restore_signals = interrupt_on_termination()  # SIGTERM/SIGHUP end it like Ctrl-C
    try:
        await _serve(opts, compiled, out)
    finally:
        restore_signals()


async def _serve(opts: PlayOptions, compiled: Any, out: TextIO) -> None:
    async with open_backend(compiled.model, force_provider=opts.provider) as backend:
        server = PlayServer(opts, backend, out=out)
        url = await server.start()
        console = ConsoleRenderer(opts.console, out=out)
        console.note(backend.describe())
        if not is_loopback(opts.host):
            console.note(
                f"listening on {opts.host}: anyone on that network can open the page, talk "
                "to the agent and approve its tools"
            )
        out.write(f"playground: {url}  (Ctrl-C to stop)\n")
        out.flush()
        if opts.open_browser:
            import webbrowser

            with contextlib.suppress(Exception):
                await asyncio.to_thread(webbrowser.open, url)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()
