"""Place phone calls with a graph (`agentgraph call` and `place_calls()` from Python).

Each target is dialled through the graph's `sip.trunk` (digest credentials answered when
the trunk challenges) or straight to the URI's host; when the callee answers, the graph
runs the conversation as it does for calls it answers, until either side hangs up. Every
call ends in one `CallOutcome`: answered (with its duration and whether the callee heard
the agent), busy, no answer, declined, unauthorized or failed. `max_concurrent` calls
run at once; a CSV of numbers makes a campaign whose results (and each call's records
folder) go to a CSV.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import re
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentgraph.errors import UsageError

__all__ = [
    "CallOptions",
    "CallOutcome",
    "describe",
    "place_calls",
    "read_targets",
    "resolve_address",
    "write_outcomes",
]


@dataclass
class CallOptions:
    """What `agentgraph call` was asked to do."""

    graph: Path
    targets: list[str]
    agent: str | None = None
    from_user: str | None = None
    via: str | None = None  # HOST:PORT; default: the graph's sip.trunk, else the URI's host
    max_concurrent: int = 1
    ring_timeout_s: float = 30.0
    max_duration_s: float = 600.0
    provider: str | None = None
    listen: str | None = None
    records_dir: Path | None = None
    quiet: bool = False


@dataclass
class CallOutcome:
    """How one call went."""

    target: str
    status: str  # answered | busy | no answer | declined | unauthorized | failed
    reason: str = ""
    call_id: str = ""
    duration_s: float = 0.0
    heard_agent: bool = False
    records: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def read_targets(path: Path) -> list[str]:
    """Numbers or SIP URIs from a CSV: the `number` (or `uri`) column, else the first."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        return []
    header = [c.strip().lower() for c in rows[0]]
    column = next((header.index(n) for n in ("number", "uri", "target") if n in header), None)
    body = rows[1:] if column is not None else rows
    col = column or 0
    return [row[col].strip() for row in body if len(row) > col and row[col].strip()]


def write_outcomes(path: Path, outcomes: list[CallOutcome]) -> None:
    """One row per call: target, status, reason, call id, duration, heard, records."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["target", "status", "reason", "call_id", "duration_s", "heard_agent", "records"]
        )
        for o in outcomes:
            writer.writerow(
                [
                    o.target,
                    o.status,
                    o.reason,
                    o.call_id,
                    f"{o.duration_s:.1f}",
                    "yes" if o.heard_agent else "no",
                    o.records,
                ]
            )


def _target_uri(target: str, trunk_host: str | None) -> str:
    if target.startswith(("sip:", "sips:")):
        return target
    number = target.removeprefix("tel:")
    if not re.fullmatch(r"\+?[0-9*#]{1,32}", number):
        raise UsageError(f"{target!r} is neither a sip: URI nor a phone number")
    if trunk_host is None:
        raise UsageError(f"to call the number {number}, the graph needs `sip: {{trunk: ...}}`")
    return f"sip:{number}@{trunk_host}"


def resolve_address(host_port: str, what: str) -> tuple[str, int]:
    """The operator's own trunk/URI host: a name is looked up here (never a caller's)."""
    host, sep, port = host_port.rpartition(":")
    if not sep or not port.isdigit():
        host, port = host_port, "5060"
    host = host.strip("[]")
    try:
        info = socket.getaddrinfo(host, int(port), type=socket.SOCK_DGRAM)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot find {what} {host_port!r}: {exc}") from exc
    addr = info[0][4]
    return str(addr[0]), int(addr[1])


def _uri_host(uri: str) -> str:
    rest = uri.split(":", 1)[1].split(";", 1)[0]
    return rest.split("@", 1)[-1]


async def place_calls(
    opts: CallOptions,
    *,
    on_event: Callable[[str, Any], None] | None = None,
    on_outcome: Callable[[CallOutcome], None] | None = None,
) -> list[CallOutcome]:
    """Dial every target (at most `max_concurrent` at once) and run the graph on each
    answered call; returns the outcomes in target order."""
    from agentgraph.app.records import CallRecords, new_run_dir
    from agentgraph.app.run import load_compiled
    from agentgraph.app.serve import ServeOptions, _approvals, _host_port, _model_backend
    from agentgraph.transports.sip.events import SipConfig
    from agentgraph.transports.sip.server import SipServer
    from agentgraph.transports.sip.sessions import CallSessions

    compiled = load_compiled(opts.graph)
    sip = getattr(compiled, "sip", None)
    trunk = getattr(sip, "trunk", None)
    if opts.agent is not None and opts.agent not in compiled.agents:
        names = ", ".join(sorted(compiled.agents))
        raise UsageError(f"no agent {opts.agent!r} in the graph (agents: {names})")
    trunk_host = trunk.address.rpartition(":")[0] if trunk is not None else None
    uris = [_target_uri(t, trunk_host) for t in opts.targets]
    credentials = (
        (trunk.user, trunk.secret)
        if trunk is not None and trunk.user and trunk.secret is not None
        else None
    )
    from_user = opts.from_user or ((trunk.from_user or trunk.user) if trunk is not None else None)
    host, port = _host_port(opts.listen, "--listen") if opts.listen else ("127.0.0.1", 0)
    loop = asyncio.get_running_loop()
    outcomes: list[CallOutcome | None] = [None] * len(uris)
    async with contextlib.AsyncExitStack() as stack:
        backend_opts = ServeOptions(graph=opts.graph, provider=opts.provider)
        url, api_key, _mode = await _model_backend(backend_opts, compiled, stack)
        records = CallRecords(
            opts.records_dir or new_run_dir(Path("runs")),
            clock=loop.time,
            meta={"graph": str(opts.graph), "direction": "outbound"},
        )
        stack.callback(records.close)

        def observe(call_id: str, event: Any) -> None:
            records.on_event(call_id, event)
            if on_event is not None:
                on_event(call_id, event)

        start = opts.agent or compiled.starting_agent.name
        sessions = CallSessions(
            agents=compiled.agents,
            start_agent=start,
            run_config=compiled.run_config,
            url=url,
            api_key=api_key,
            on_event=observe,
            listeners=_approvals("deny"),
        )
        config = SipConfig(host=host, port=port, advertise=getattr(sip, "advertise", None) or "")
        server = await stack.enter_async_context(
            SipServer(config, on_call=sessions.handle_sip_call)
        )
        limit = asyncio.Semaphore(max(1, opts.max_concurrent))

        async def one(index: int, uri: str) -> None:
            async with limit:
                via = opts.via or (trunk.address if trunk is not None else _uri_host(uri))
                dest = await asyncio.to_thread(resolve_address, via, "the trunk")
                started = loop.time()
                transport = trunk.transport if trunk is not None and not opts.via else "udp"
                call = await server.dial(
                    uri,
                    dest,
                    from_user=from_user or "agentgraph",
                    credentials=credentials,
                    ring_timeout_s=opts.ring_timeout_s,
                    transport=transport,
                    tls=ssl.create_default_context() if transport == "tls" else None,
                )
                outcome = CallOutcome(opts.targets[index], "failed", call_id=call.call_id)
                if call.started:
                    answered = loop.time()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(call.ended.wait(), opts.max_duration_s)
                    if not call.ended.is_set():
                        call.hangup_now()
                    outcome.status = "answered"
                    outcome.reason = call.end_reason
                    outcome.duration_s = loop.time() - answered
                    outcome.heard_agent = call.rtp.agent_frames_sent > 0
                    name = re.sub(r"[^A-Za-z0-9_.-]", "_", call.call_id)[:64].lstrip(".")
                    outcome.records = str(records.directory / name)
                else:
                    reason = call.end_reason or "failed"
                    outcome.reason = reason
                    outcome.status = reason if not reason.startswith("failed") else "failed"
                    outcome.duration_s = loop.time() - started
                outcomes[index] = outcome
                if on_outcome is not None:
                    on_outcome(outcome)

        await asyncio.gather(*(one(i, uri) for i, uri in enumerate(uris)))
    return [o for o in outcomes if o is not None]


def describe(outcome: CallOutcome) -> str:
    """One console line per call."""
    if outcome.status == "answered":
        heard = "heard the agent" if outcome.heard_agent else "heard nothing"
        return (
            f"{outcome.target}: answered, {outcome.duration_s:.0f} s, {heard}, "
            f"ended by {outcome.reason or 'hangup'}"
        )
    return f"{outcome.target}: {outcome.reason or outcome.status}"
