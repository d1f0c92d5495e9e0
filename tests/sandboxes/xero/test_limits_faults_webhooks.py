"""Rate limits with Xero's headers, Idempotency-Key replay, injected faults, revoked grants,
the call log, and webhook delivery with signatures and the intent-to-receive check."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from tests.support.http_server import serve_in_thread
from tests.support.xero_sandbox import XeroSandbox, running_xero_sandbox

Xero = tuple[XeroSandbox, dict[str, str]]


@pytest.fixture
def small_limits() -> Iterator[XeroSandbox]:
    with running_xero_sandbox(
        minute_limit=3, day_limit=5, concurrent_limit=2, app_minute_limit=1000
    ) as sandbox:
        yield sandbox


def test_limit_headers_and_minute_limit(small_limits: XeroSandbox) -> None:
    sandbox = small_limits
    headers = sandbox.headers()
    seen = [sandbox.http.get(sandbox.api("Organisation"), headers=headers) for _ in range(4)]
    assert [r.status_code for r in seen] == [200, 200, 200, 429]
    assert [r.headers["X-MinLimit-Remaining"] for r in seen[:3]] == ["2", "1", "0"]
    assert seen[0].headers["X-DayLimit-Remaining"] == "4"
    assert seen[0].headers["X-AppMinLimit-Remaining"] == "999"
    throttled = seen[3]
    assert throttled.headers["X-Rate-Limit-Problem"] == "minute"
    assert throttled.headers["Retry-After"] == "60"
    sandbox.clock.advance(61)
    assert sandbox.http.get(sandbox.api("Organisation"), headers=headers).status_code == 200
    sandbox.clock.advance(61)
    assert sandbox.http.get(sandbox.api("Organisation"), headers=headers).status_code == 200
    day = sandbox.http.get(sandbox.api("Organisation"), headers=headers)
    assert day.status_code == 429
    assert day.headers["X-Rate-Limit-Problem"] == "day"


def test_app_minute_limit() -> None:
    with running_xero_sandbox(minute_limit=100, app_minute_limit=2) as sandbox:
        headers = sandbox.headers()
        statuses = [
            sandbox.http.get(sandbox.api("Organisation"), headers=headers) for _ in range(3)
        ]
        assert statuses[2].status_code == 429
        assert statuses[2].headers["X-Rate-Limit-Problem"] == "appminute"


def test_connections_count_towards_the_app_minute_limit() -> None:
    with running_xero_sandbox(minute_limit=100, app_minute_limit=2) as sandbox:
        headers = {"Authorization": sandbox.headers()["Authorization"]}
        answers = [
            sandbox.http.get(f"{sandbox.base}/connections", headers=headers) for _ in range(3)
        ]
        assert [a.headers.get("X-AppMinLimit-Remaining") for a in answers[:2]] == ["1", "0"]
        assert answers[2].status_code == 429
        assert answers[2].headers["X-Rate-Limit-Problem"] == "appminute"


def test_concurrent_limit(small_limits: XeroSandbox) -> None:
    sandbox = small_limits
    sandbox.admin("PUT", "rate-limits", json={"minute_limit": 100, "day_limit": 100})
    headers = sandbox.headers()
    sandbox.admin(
        "POST",
        "faults",
        json={"kind": "latency", "latency_seconds": 0.5, "path": "*Organisation*"},
    )
    with ThreadPoolExecutor(3) as pool:
        responses = list(
            pool.map(
                lambda _: httpx.get(sandbox.api("Organisation"), headers=headers, timeout=10),
                range(3),
            )
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 429]
    assert (
        next(r for r in responses if r.status_code == 429).headers["X-Rate-Limit-Problem"]
        == "concurrent"
    )


def test_limits_can_be_switched_off() -> None:
    with running_xero_sandbox(minute_limit=1, rate_limits_enabled=False) as sandbox:
        headers = sandbox.headers()
        assert {
            sandbox.http.get(sandbox.api("Organisation"), headers=headers).status_code
            for _ in range(3)
        } == {200}


def test_idempotency_key(xero: Xero) -> None:
    sandbox, headers = xero
    body = {"Contacts": [{"Name": "Once Only"}]}
    first = sandbox.http.put(
        sandbox.api("Contacts"), headers={**headers, "Idempotency-Key": "k-1"}, json=body
    )
    again = sandbox.http.put(
        sandbox.api("Contacts"), headers={**headers, "Idempotency-Key": "k-1"}, json=body
    )
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    listed = sandbox.http.get(sandbox.api("Contacts"), headers=headers).json()["Contacts"]
    assert [c["Name"] for c in listed] == ["Once Only"]
    other = sandbox.http.put(
        sandbox.api("Contacts"),
        headers={**headers, "Idempotency-Key": "k-1"},
        json={"Name": "Else"},
    )
    assert other.status_code == 400
    too_long = sandbox.http.put(
        sandbox.api("Contacts"), headers={**headers, "Idempotency-Key": "x" * 129}, json=body
    )
    assert too_long.status_code == 400
    replays = [c for c in sandbox.admin("GET", "calls").json() if c["idempotent_replay"]]
    assert len(replays) == 1
    # Keys are remembered for a window only.
    sandbox.clock.advance(sandbox.settings.idempotency_window_seconds + 1)
    fresh = sandbox.headers()
    late = sandbox.http.put(
        sandbox.api("Contacts"), headers={**fresh, "Idempotency-Key": "k-1"}, json=body
    )
    # Processed anew, not replayed: the name is now taken.
    assert late.status_code == 400
    assert "already assigned" in late.text


def test_faults(xero: Xero) -> None:
    sandbox, headers = xero
    fault = sandbox.admin(
        "POST",
        "faults",
        json={
            "kind": "error",
            "status": 503,
            "path": "*/Invoices*",
            "count": 2,
            "organisation": sandbox.tenant,
        },
    )
    assert fault.status_code == 201
    statuses = [
        sandbox.http.get(sandbox.api("Invoices"), headers=headers).status_code for _ in range(3)
    ]
    assert statuses == [503, 503, 200]
    assert sandbox.http.get(sandbox.api("Contacts"), headers=headers).status_code == 200
    sandbox.admin(
        "POST", "faults", json={"kind": "throttle", "retry_after": 7, "problem": "day", "count": 1}
    )
    burst = sandbox.http.get(sandbox.api("Contacts"), headers=headers)
    assert burst.status_code == 429
    assert (burst.headers["Retry-After"], burst.headers["X-Rate-Limit-Problem"]) == ("7", "day")
    sandbox.admin("POST", "faults", json={"kind": "timeout", "timeout_seconds": 1, "count": 1})
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(sandbox.api("Contacts"), headers=headers, timeout=0.3)
    sandbox.admin("POST", "faults", json={"kind": "error", "status": 500, "probability": 0.0})
    assert sandbox.http.get(sandbox.api("Contacts"), headers=headers).status_code == 200
    assert len(sandbox.admin("GET", "faults").json()) == 1
    assert sandbox.admin("DELETE", "faults").status_code == 204
    # Identity endpoints can fail too.
    sandbox.admin(
        "POST",
        "faults",
        json={"kind": "error", "status": 502, "path": "/connect/token", "count": 1},
    )
    assert sandbox.token_request(grant_type="refresh_token", refresh_token="x").status_code == 502


def test_revoked_grant_fault(xero: Xero) -> None:
    sandbox, headers = xero
    tokens = sandbox.tokens()
    revoked = sandbox.admin("POST", f"organisations/{sandbox.tenant}/revoke-grants").json()
    assert revoked["revoked_grants"] == 1
    assert sandbox.http.get(sandbox.api("Contacts"), headers=headers).status_code == 401
    refreshed = sandbox.token_request(
        grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refreshed.json() == {"error": "invalid_grant"}


def test_revoke_grant_fault_on_refresh(xero: Xero) -> None:
    sandbox, headers = xero
    tokens = sandbox.tokens()
    sandbox.admin(
        "POST", "faults", json={"kind": "revoke_grant", "path": "/connect/token", "count": 1}
    ).raise_for_status()
    # Only a refresh spends it: the fault is still there after other calls.
    assert sandbox.http.get(sandbox.api("Contacts"), headers=headers).status_code == 200
    assert len(sandbox.admin("GET", "faults").json()) == 1
    refreshed = sandbox.token_request(
        grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert refreshed.json() == {"error": "invalid_grant"}
    assert sandbox.admin("GET", "faults").json() == []
    assert sandbox.http.get(sandbox.api("Contacts"), headers=headers).status_code == 401


def test_call_log(xero: Xero) -> None:
    sandbox, headers = xero
    sandbox.admin("DELETE", "calls")
    sandbox.http.get(sandbox.api("Contacts"), headers=headers)
    sandbox.http.get(sandbox.api("Nope/at/all"), headers=headers)
    calls = sandbox.admin("GET", "calls", params={"tenant_id": sandbox.tenant}).json()
    assert [(c["method"], c["path"], c["status"]) for c in calls] == [
        ("GET", "/api.xro/2.0/Contacts", 200),
        ("GET", "/api.xro/2.0/Nope/at/all", 404),
    ]


class Receiver:
    """A webhook endpoint that checks signatures the way a correct receiver must."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.fail_next = 0
        self.payloads: list[dict[str, Any]] = []
        self.app = FastAPI()
        self.app.post("/hook")(self.hook)

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        expected = base64.b64encode(
            hmac.new(self.key.encode(), body, hashlib.sha256).digest()
        ).decode()
        if request.headers.get("x-xero-signature") != expected:
            return Response(status_code=401)
        if self.fail_next:
            self.fail_next -= 1
            return Response(status_code=500)
        payload = json.loads(body)
        if payload["events"]:
            self.payloads.append(payload)
        return Response(status_code=200)


def _wait_for(condition: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def batching_webhooks() -> Iterator[Xero]:
    """A sandbox that gathers the events of writes up to 2 s apart into one delivery (the
    tests' sandboxes wait 0.05 s, which two writes in a row can exceed on a loaded machine)."""
    with running_xero_sandbox(
        webhook_batch_delay_seconds=2.0, webhook_timeout_seconds=30.0
    ) as sandbox:
        yield sandbox, sandbox.headers()


def test_webhooks(batching_webhooks: Xero) -> None:
    sandbox, headers = batching_webhooks
    receiver = Receiver("hook-key")
    with serve_in_thread(receiver.app) as hook_base:
        sandbox.admin("PUT", "webhooks", json={"url": f"{hook_base}/hook", "key": "hook-key"})
        check = sandbox.admin("POST", "webhooks/intent-to-receive").json()
        assert check == {
            "valid_signature_status": 200,
            "invalid_signature_status": 401,
            "passed": True,
        }

        receiver.fail_next = 1  # the first delivery fails and is retried
        contact = sandbox.http.put(
            sandbox.api("Contacts"), headers=headers, json={"Name": "Hooked"}
        ).json()["Contacts"][0]
        invoice = sandbox.http.put(
            sandbox.api("Invoices"),
            headers=headers,
            json={
                "Type": "ACCREC",
                "Contact": {"ContactID": contact["ContactID"]},
                "LineItems": [],
            },
        ).json()["Invoices"][0]
        _wait_for(lambda: receiver.payloads)
        events = [e for p in receiver.payloads for e in p["events"]]
        assert [(e["eventCategory"], e["eventType"], e["resourceId"]) for e in events] == [
            ("CONTACT", "CREATE", contact["ContactID"]),
            ("INVOICE", "CREATE", invoice["InvoiceID"]),
        ]
        event = events[1]
        assert event["tenantId"] == sandbox.tenant
        assert event["tenantType"] == "ORGANISATION"
        assert event["resourceUrl"] == sandbox.api(f"Invoices/{invoice['InvoiceID']}")
        payload = receiver.payloads[0]
        assert (payload["firstEventSequence"], payload["lastEventSequence"]) == (1, 2)
        assert payload["entropy"]

        sandbox.http.post(
            sandbox.api("Invoices"),
            headers=headers,
            json={"InvoiceID": invoice["InvoiceID"], "Reference": "r"},
        )
        _wait_for(lambda: len(receiver.payloads) == 2)
        assert receiver.payloads[1]["events"][0]["eventType"] == "UPDATE"

        attempts = sandbox.admin("GET", "webhooks/deliveries").json()
        statuses = [(a["kind"], a["status"]) for a in attempts]
        assert statuses == [
            ("intent-to-receive", 200),
            ("intent-to-receive", 401),
            ("events", 500),
            ("events", 200),
            ("events", 200),
        ]
