"""Service-protection limits, injected faults, the call log and admin seeding."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.polling import eventually_async

from .conftest import Sandbox, make_sandbox

Dv = tuple[Sandbox, dict[str, str]]


def _limits(sandbox: Sandbox, **values: float) -> None:
    response = sandbox.http.put(f"{sandbox.base}/sandbox-admin/limits", json=values)
    assert response.status_code == 200


def test_request_limit_answers_429_until_the_window_slides(dv: Dv) -> None:
    sandbox, headers = dv
    _limits(sandbox, requests=3)
    who = f"{sandbox.api()}/WhoAmI"
    first = sandbox.http.get(who, headers=headers)
    assert first.headers["x-ms-ratelimit-burst-remaining-xrm-requests"] == "2"
    for _ in range(2):
        assert sandbox.http.get(who, headers=headers).status_code == 200
    throttled = sandbox.http.get(who, headers=headers)
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "0x80072322"
    assert int(throttled.headers["Retry-After"]) == 300
    sandbox.clock.advance(301)
    assert sandbox.http.get(who, headers=headers).status_code == 200


def test_execution_time_limit(dv: Dv) -> None:
    sandbox, headers = dv
    _limits(sandbox, cost_seconds=10, execution_seconds=20)
    who = f"{sandbox.api()}/WhoAmI"
    assert sandbox.http.get(who, headers=headers).status_code == 200
    assert sandbox.http.get(who, headers=headers).status_code == 200
    throttled = sandbox.http.get(who, headers=headers)
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "0x80072321"


def test_limits_are_per_user(dv: Dv) -> None:
    sandbox, headers = dv
    _limits(sandbox, requests=1)
    sandbox.add_user("sam@contoso-demo.example", ["demo"])
    other = sandbox.headers(user="sam@contoso-demo.example")
    who = f"{sandbox.api()}/WhoAmI"
    assert sandbox.http.get(who, headers=headers).status_code == 200
    assert sandbox.http.get(who, headers=headers).status_code == 429
    assert sandbox.http.get(who, headers=other).status_code == 200


async def test_concurrency_limit_with_latency_fault(dv: Dv) -> None:
    sandbox, headers = dv
    _limits(sandbox, concurrent=2)
    sandbox.http.post(
        f"{sandbox.base}/sandbox-admin/faults",
        json={
            "kind": "latency",
            "latency_seconds": 5.0,
            "path": "/orgs/demo/api/data/v9.2/accounts*",
            "count": 2,
        },
    )
    async with httpx.AsyncClient(timeout=60) as client:
        # Two slow requests hold both slots; the third arrives while they are in flight (both
        # have taken the fault, which then is gone).
        slow = [
            asyncio.create_task(client.get(f"{sandbox.api()}/accounts", headers=headers))
            for _ in range(2)
        ]

        async def both_in_flight() -> bool:
            faults = await client.get(f"{sandbox.base}/sandbox-admin/faults")
            return bool(faults.json() == [])

        await eventually_async(both_in_flight)
        third = await client.get(f"{sandbox.api()}/WhoAmI", headers=headers)
        results = await asyncio.gather(*slow)
    assert [r.status_code for r in results] == [200, 200]
    assert third.status_code == 429
    assert third.json()["error"]["code"] == "0x80072326"


def test_limits_can_be_switched_off() -> None:
    for sandbox in make_sandbox(limits_enabled=False, limit_requests=1):
        headers = sandbox.headers()
        for _ in range(3):
            assert sandbox.http.get(f"{sandbox.api()}/WhoAmI", headers=headers).status_code == 200


def test_injected_errors_throttles_and_timeouts() -> None:
    for sandbox in make_sandbox(fault_timeout_seconds=0.1):
        headers = sandbox.headers()
        faults = f"{sandbox.base}/sandbox-admin/faults"
        invoices = f"{sandbox.api()}/invoices?$top=1"
        sandbox.http.post(
            faults,
            json={
                "kind": "error",
                "status": 503,
                "organisation": "demo",
                "path": "*/invoices*",
                "count": 1,
            },
        )
        assert sandbox.http.get(invoices, headers=headers).status_code == 503
        assert sandbox.http.get(invoices, headers=headers).status_code == 200
        sandbox.http.post(
            faults,
            json={"kind": "throttle", "retry_after": 7, "path": "*/invoices*", "count": 1},
        )
        throttled = sandbox.http.get(invoices, headers=headers)
        assert throttled.status_code == 429
        assert throttled.headers["Retry-After"] == "7"
        sandbox.http.post(
            faults, json={"kind": "timeout", "path": "*/invoices*", "method": "GET", "count": 1}
        )
        assert sandbox.http.get(invoices, headers=headers).status_code == 504
        sandbox.http.post(
            faults, json={"kind": "error", "status": 500, "organisation": "other", "path": "*"}
        )
        assert sandbox.http.get(invoices, headers=headers).status_code == 200
        assert len(sandbox.http.get(faults).json()) == 1
        sandbox.http.delete(faults)
        assert sandbox.http.get(faults).json() == []


def test_revoke_grant_fault_on_token_endpoint(sandbox: Sandbox) -> None:
    refresh = sandbox.tokens()["refresh_token"]
    sandbox.http.post(
        f"{sandbox.base}/sandbox-admin/faults",
        json={"kind": "revoke_grant", "path": "*/oauth2/v2.0/token", "count": 1},
    )
    body = sandbox.token_request(grant_type="refresh_token", refresh_token=refresh).json()
    assert body["error_codes"] == [50173]


def test_call_log_counts_calls(dv: Dv) -> None:
    sandbox, headers = dv
    sandbox.http.delete(f"{sandbox.base}/sandbox-admin/calls")
    sandbox.http.get(f"{sandbox.api()}/invoices?$top=1", headers=headers)
    sandbox.http.get(f"{sandbox.api()}/accounts?$top=1", headers=headers)
    calls = sandbox.http.get(f"{sandbox.base}/sandbox-admin/calls", params={"org": "demo"}).json()
    assert [(c["method"], c["status"], c["user"]) for c in calls] == [
        ("GET", 200, sandbox.settings.demo_user),
        ("GET", 200, sandbox.settings.demo_user),
    ]
    assert calls[0]["path"] == "/orgs/demo/api/data/v9.2/invoices"
    only = sandbox.http.get(
        f"{sandbox.base}/sandbox-admin/calls", params={"path_contains": "accounts"}
    ).json()
    assert len(only) == 1


def test_admin_creates_org_user_app_and_seeds_records(sandbox: Sandbox) -> None:
    admin = f"{sandbox.base}/sandbox-admin"
    org = sandbox.http.post(
        f"{admin}/orgs", json={"unique_name": "acme", "friendly_name": "Acme"}
    ).json()
    assert org["url"] == sandbox.org_url("acme")
    assert org["api_url"] == sandbox.api("acme")
    sandbox.add_user("lee@acme.example", ["acme"])
    seeded = sandbox.http.post(
        f"{admin}/orgs/acme/records/account", json=[{"name": "A1"}, {"name": "A2"}]
    )
    assert len(seeded.json()["ids"]) == 2
    headers = sandbox.headers("acme", user="lee@acme.example")
    names = [
        r["name"]
        for r in sandbox.http.get(
            f"{sandbox.api('acme')}/accounts?$select=name", headers=headers
        ).json()["value"]
    ]
    assert names == ["A1", "A2"]
    currencies = sandbox.http.get(
        f"{sandbox.api('acme')}/transactioncurrencies?$select=isocurrencycode", headers=headers
    ).json()
    assert [c["isocurrencycode"] for c in currencies["value"]] == ["NZD"]
    reset = sandbox.http.post(f"{admin}/reset", json={"seed_demo": True}).json()
    assert reset["orgs"] == ["demo"]


def test_demo_seed_has_invoices_in_every_state(dv: Dv) -> None:
    sandbox, headers = dv
    rows = sandbox.http.get(
        f"{sandbox.api()}/invoices?$select=statecode,statuscode", headers=headers
    ).json()["value"]
    states = {(r["statecode"], r["statuscode"]) for r in rows}
    assert {(0, 1), (2, 100001), (2, 100002), (3, 100003)} <= states
    codes = sandbox.http.get(
        f"{sandbox.api()}/transactioncurrencies?$select=isocurrencycode", headers=headers
    ).json()
    assert {c["isocurrencycode"] for c in codes["value"]} == {"NZD", "USD", "AUD", "GBP"}
    for table in ("pricelevels", "uoms", "products", "contacts"):
        assert sandbox.http.get(f"{sandbox.api()}/{table}?$top=1", headers=headers).json()["value"]
