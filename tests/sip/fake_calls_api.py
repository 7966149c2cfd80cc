"""A local fake of OpenAI's call-control REST endpoints (accept/reject/refer/hangup),
on the stdlib HTTP server in a thread, recording every request."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeCallsApi:
    """`with FakeCallsApi() as api:` -> `api.base_url`, `api.requests`, `api.status`."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any] | None, str]] = []
        self.status: dict[str, int] = {}  # action -> HTTP status to answer (default 200)
        self.event = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                parts = self.path.strip("/").split("/")  # v1/realtime/calls/{id}/{action}
                call_id, action = parts[-2], parts[-1]
                body = json.loads(raw) if raw else None
                fake.requests.append(
                    (action, call_id, body, self.headers.get("Authorization") or "")
                )
                fake.event.set()
                status = fake.status.get(action, 200)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def actions(self) -> list[tuple[str, str]]:
        return [(a, c) for a, c, _, _ in self.requests]

    def __enter__(self) -> FakeCallsApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
