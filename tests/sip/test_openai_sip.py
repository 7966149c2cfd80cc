"""OpenAI SIP connector: Standard Webhooks verification (valid, bad signature, stale,
replayed, malformed), accept with the graph's session config, attach by call_id, and
hangup/refer/reject, against a local fake of the REST endpoints and call websocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from agentgraph.realtime import RealtimeAgent, end_call, transfer_call
from agentgraph.transports.openai_sip.rest import CallsClient
from agentgraph.transports.openai_sip.server import OpenAISipConnector
from agentgraph.transports.openai_sip.webhook import (
    ReplayGuard,
    WebhookError,
    parse_incoming_call,
    sign_webhook,
    verify_webhook,
)
from agentgraph.transports.sip.sessions import CallSessions
from tests.fakes import FakeRealtimeServer
from tests.sip.fake_calls_api import FakeCallsApi

# realtime-protocol.md §8.3, from openai-python's tests
VECTOR_SECRET = "whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c="
VECTOR_ID = "wh_685c059ae39c8190af8c71ed1022a24d"
VECTOR_TS = 1750861210
VECTOR_BODY = (
    b'{"id": "evt_685c059ae3a481909bdc86819b066fb6", "object": "event", "created_at": '
    b'1750861210, "type": "response.completed", "data": {"id": "resp_123"}}'
)
VECTOR_SIG = "v1,gUAg4R2hWouRZqRQG4uJypNS8YK885G838+EHb4nKBY="
NOW = 1_767_225_600
SECRET = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seQ=="


def vector_headers(**override: str) -> dict[str, str]:
    h = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TS),
        "webhook-signature": VECTOR_SIG,
    }
    h.update(override)
    return h


def test_signature_test_vector() -> None:
    assert sign_webhook(VECTOR_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIG
    assert verify_webhook(VECTOR_BODY, vector_headers(), VECTOR_SECRET, now=VECTOR_TS) == VECTOR_ID
    # any of several space-separated signatures may match
    multi = vector_headers(**{"webhook-signature": "v1,AAAA " + VECTOR_SIG})
    assert verify_webhook(VECTOR_BODY, multi, VECTOR_SECRET, now=VECTOR_TS + 299) == VECTOR_ID


@pytest.mark.parametrize(
    ("headers", "now", "body", "message", "status"),
    [
        (vector_headers(), VECTOR_TS + 301, VECTOR_BODY, "too old", 401),
        (vector_headers(), VECTOR_TS - 301, VECTOR_BODY, "too new", 401),
        (vector_headers(), VECTOR_TS, VECTOR_BODY + b" ", "does not match", 401),
        (
            vector_headers(**{"webhook-signature": "v1,Zm9v"}),
            VECTOR_TS,
            VECTOR_BODY,
            "does not match",
            401,
        ),
        (
            vector_headers(**{"webhook-id": "wh_other"}),
            VECTOR_TS,
            VECTOR_BODY,
            "does not match",
            401,
        ),
        ({"webhook-id": VECTOR_ID}, VECTOR_TS, VECTOR_BODY, "missing", 400),
        (
            vector_headers(**{"webhook-timestamp": "soon"}),
            VECTOR_TS,
            VECTOR_BODY,
            "not a number",
            400,
        ),
    ],
)
def test_refused_deliveries(
    headers: dict[str, str], now: int, body: bytes, message: str, status: int
) -> None:
    with pytest.raises(WebhookError, match=message) as info:
        verify_webhook(body, headers, VECTOR_SECRET, now=now)
    assert info.value.status == status


def test_replay_guard_window_and_bound() -> None:
    guard = ReplayGuard(window_s=600, capacity=3)
    assert guard.first_time("a", 0) and not guard.first_time("a", 10)
    assert guard.first_time("a", 700)  # outside the window it is new again
    for name in "bcd":
        guard.first_time(name, 701)
    assert len(guard._seen) <= 3


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1]",
        b'{"type": "realtime.call.incoming"}',
        b'{"type": "realtime.call.incoming", "data": {"call_id": 5}}',
    ],
)
def test_malformed_bodies(body: bytes) -> None:
    with pytest.raises(WebhookError):
        parse_incoming_call(body)


def incoming(call_id: str = "rtc_123", to: str = "<sip:+14155550199@sip.api.openai.com>") -> bytes:
    return json.dumps(
        {
            "object": "event",
            "id": "evt_1",
            "type": "realtime.call.incoming",
            "created_at": NOW,
            "data": {
                "call_id": call_id,
                "sip_headers": [
                    {"name": "From", "value": '"Jane" <sip:+14155550100@carrier.example>;tag=ab'},
                    {"name": "To", "value": to},
                    {"name": "Call-ID", "value": "x@10.0.0.5"},
                ],
            },
        }
    ).encode()


def signed(body: bytes, webhook_id: str = "wh_1", ts: int = NOW) -> dict[str, str]:
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign_webhook(SECRET, webhook_id, ts, body),
        "content-type": "application/json",
    }


class Harness:
    def __init__(
        self,
        api: FakeCallsApi,
        realtime: FakeRealtimeServer,
        connector: OpenAISipConnector,
        http: httpx.AsyncClient,
    ) -> None:
        self.api, self.realtime, self.connector, self.http = api, realtime, connector, http

    async def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self.http.post(self.connector.url, content=body, headers=headers)

    async def wait_actions(self, n: int) -> list[tuple[str, str]]:
        for _ in range(200):
            if len(self.api.requests) >= n:
                break
            await asyncio.sleep(0.02)
        return self.api.actions()


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    desk = RealtimeAgent(
        name="desk", instructions="You answer the clinic's phone.", tools=[end_call, transfer_call]
    )
    sales = RealtimeAgent(name="sales", instructions="You sell things.")
    with FakeCallsApi() as api:
        async with FakeRealtimeServer() as realtime:
            sessions = CallSessions(
                agents={"desk": desk, "sales": sales},
                start_agent="desk",
                routes={"+14155550123": "sales"},
                run_config={"model_settings": {"model_name": "gpt-realtime", "voice": "marin"}},
                url=realtime.url,
                api_key="sk-test",
            )
            connector = OpenAISipConnector(
                secret=SECRET,
                sessions=sessions,
                calls=CallsClient(api.base_url, api_key="sk-test"),
                max_calls=1,
                clock=lambda: NOW,
            )
            async with connector, httpx.AsyncClient(timeout=5) as http:
                yield Harness(api, realtime, connector, http)


async def test_call_flow(harness: Harness) -> None:
    body = incoming()
    response = await harness.post(body, signed(body))
    assert response.status_code == 200
    assert await harness.wait_actions(1) == [("accept", "rtc_123")]
    _, _, accept, auth = harness.api.requests[0]
    assert auth == "Bearer sk-test"
    assert accept is not None and accept["type"] == "realtime"
    assert accept["instructions"] == "You answer the clinic's phone."
    assert accept["audio"]["output"]["voice"] == "marin"
    assert "format" not in accept["audio"]["output"]
    assert {t["name"] for t in accept["tools"]} == {"end_call", "transfer_call"}
    conn = await harness.realtime.next_connection()
    assert conn.query == {"call_id": "rtc_123"}
    assert conn.headers.get("Authorization") == "Bearer sk-test"
    await conn.wait_for("response.create")  # the greeting
    # the model decides to end the call: the tool hangs up through the REST endpoint
    await conn.respond_function_call("end_call", {})
    assert await harness.wait_actions(2) == [("accept", "rtc_123"), ("hangup", "rtc_123")]
    await conn.ws.close()
    for _ in range(100):
        if not harness.connector._active:
            break
        await asyncio.sleep(0.02)
    assert harness.connector._active == {}


async def test_duplicates_and_replays_start_one_session(harness: Harness) -> None:
    body = incoming()
    for webhook_id in ("wh_1", "wh_1", "wh_2"):  # retried delivery, then a second event
        assert (await harness.post(body, signed(body, webhook_id))).status_code == 200
    await harness.realtime.next_connection()
    await asyncio.sleep(0.2)
    assert harness.api.actions() == [("accept", "rtc_123")]
    assert len(harness.realtime.connections) == 1


@pytest.mark.parametrize(
    ("mangle", "status"),
    [
        (lambda b, h: (b, {**h, "webhook-signature": "v1,Zm9vYmFy"}), 401),
        (lambda b, h: (b, signed(b, ts=NOW - 301)), 401),
        (lambda b, h: (b"{not json", signed(b"{not json")), 400),
        (lambda b, h: (b, {}), 400),
    ],
)
async def test_refused_webhooks_start_nothing(harness: Harness, mangle: Any, status: int) -> None:
    body = incoming()
    body, headers = mangle(body, signed(body))
    assert (await harness.post(body, headers)).status_code == status
    await asyncio.sleep(0.1)
    assert harness.api.requests == []


async def test_routes_by_dialled_number_and_transfer_uses_refer(harness: Harness) -> None:
    body = incoming("rtc_9", to="<sip:+14155550123@sip.api.openai.com>")
    await harness.post(body, signed(body))
    await harness.wait_actions(1)
    accept = harness.api.requests[0][2]
    assert accept is not None and accept["instructions"] == "You sell things."
    await harness.realtime.next_connection()
    call = harness.connector
    from agentgraph.transports.openai_sip.server import OpenAISipCall

    await OpenAISipCall(call.calls, "rtc_9").transfer("tel:+14155550000")
    assert harness.api.requests[-1][:3] == ("refer", "rtc_9", {"target_uri": "tel:+14155550000"})


async def test_beyond_max_calls_rejects_486_and_gone_calls_are_skipped(harness: Harness) -> None:
    first = incoming("rtc_a")
    await harness.post(first, signed(first, "wh_a"))
    await harness.realtime.next_connection()
    second = incoming("rtc_b")
    await harness.post(second, signed(second, "wh_b"))
    assert (await harness.wait_actions(2))[1] == ("reject", "rtc_b")
    assert harness.api.requests[1][2] == {"status_code": 486}
    harness.api.status["accept"] = 404
    await harness.realtime.connections[0].ws.close()
    await asyncio.sleep(0.2)
    third = incoming("rtc_c")
    await harness.post(third, signed(third, "wh_c"))
    assert (await harness.wait_actions(3))[2] == ("accept", "rtc_c")
    await asyncio.sleep(0.2)
    assert harness.connector.accepted == ["rtc_a"]  # the 404 call never got a session


async def test_wrong_path_and_method(harness: Harness) -> None:
    base = harness.connector.url.rsplit("/openai", 1)[0]
    assert (await harness.http.post(base + "/other", content=b"")).status_code == 404
    assert (await harness.http.get(harness.connector.url)).status_code == 405


@pytest.mark.parametrize("secret", ["", "whsec_not_base64!"])
def test_unusable_secrets_fail_at_startup(secret: str) -> None:
    from agentgraph.errors import UsageError
    from agentgraph.transports.openai_sip.webhook import check_secret

    with pytest.raises(UsageError, match=r"webhook secret|webhook_secret"):
        check_secret(secret)
    check_secret(SECRET)
    check_secret("plain-secret")  # not whsec_: used as raw bytes (§8.3)
