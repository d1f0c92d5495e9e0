"""schemathesis against portal-api's own OpenAPI document, signed in, over real HTTP: whatever
it sends, valid or not, no operation answers 5xx, and every error has the documented shape."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import schemathesis
from dxc_shared.infrastructure import Infrastructure
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from portal_api.app import create_service
from schemathesis import Case, GenerationMode
from schemathesis.core.result import Err

from tests.portal_api.conftest import PASSWORD, portal_settings
from tests.support.dynamics_sandbox import RunningDynamicsSandbox
from tests.support.http_server import serve_in_thread
from tests.support.polling import WITHIN
from tests.support.rabbitmq import delete_topology
from tests.support.xero_sandbox import XeroSandbox

EXAMPLES_PER_OPERATION = 25
# Signing out would end the session the rest of the run uses.
SKIPPED = {("POST", "/v1/auth/logout")}


@dataclass
class LivePortal:
    url: str
    openapi: dict[str, Any]
    headers: dict[str, str]
    connection_id: str


def _confirmation_token(mailbox: Path, email: str) -> str:
    deadline = time.monotonic() + WITHIN
    while time.monotonic() < deadline:
        for path in mailbox.glob("*.json"):
            mail = json.loads(path.read_text())
            if mail["to"] == email:
                link: str = next(w for w in mail["body"].split() if "/confirm?token=" in w)
                return parse_qs(urlparse(link).query)["token"][0]
        time.sleep(0.05)
    raise AssertionError("no confirmation e-mail")


@pytest.fixture(scope="module")
def live_portal(
    migrated_postgres: str,
    rabbitmq_url: str,
    namespace: str,
    token_broker_url: str,
    xero: XeroSandbox,
    dynamics: RunningDynamicsSandbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LivePortal]:
    mailbox = tmp_path_factory.mktemp("fuzz-mailbox")
    portal = portal_settings(
        database_url=migrated_postgres,
        broker_url=rabbitmq_url,
        namespace=namespace,
        mailbox=mailbox,
        token_broker_url=token_broker_url,
        xero=xero,
        dynamics=dynamics,
        login_max_failures=1000,
        login_account_max_failures=1000,
    )
    service = create_service(Infrastructure.from_settings(portal), portal)
    service.owns_infrastructure = True
    with serve_in_thread(service.app) as url, httpx.Client(base_url=url) as client:
        email = "fuzzer@example.com"
        client.post(
            "/v1/auth/register", json={"email": email, "name": "Fuzz", "company_name": "Fuzz"}
        ).raise_for_status()
        confirmed = client.post(
            "/v1/auth/confirm",
            json={"token": _confirmation_token(mailbox, email), "password": PASSWORD},
        )
        confirmed.raise_for_status()
        headers = {"Authorization": f"Bearer {confirmed.json()['access_token']}"}
        connection = client.post("/v1/connections", json={"name": "Fuzzed"}, headers=headers)
        connection.raise_for_status()
        yield LivePortal(url, service.app.openapi(), headers, connection.json()["id"])
    asyncio.run(delete_topology(rabbitmq_url, service.infrastructure.broker, service.subscriptions))


STATUSES: Counter[int] = Counter()


def check_response(case: Case[Any], live: LivePortal) -> None:
    response = case.call(base_url=live.url, headers=live.headers, timeout=30)
    STATUSES[response.status_code] += 1
    where = f"{case.method} {case.formatted_path}"
    assert response.status_code < 500, f"{where} -> {response.status_code}: {response.text[:500]}"
    if response.status_code >= 400:
        headers = {name.lower(): values for name, values in response.headers.items()}
        if not headers.get("content-type", [""])[0].startswith("application/json"):
            # uvicorn itself refuses a request line or header it cannot parse (plain text 400)
            # before the app sees it; every answer of the app is JSON.
            assert response.status_code == 400, (where, response.text[:300])
            return
        body = response.json()
        assert isinstance(body.get("detail"), str), (where, body)
        assert body["detail"], (where, body)
        assert "field" in body, (where, body)


def test_no_operation_answers_5xx(live_portal: LivePortal) -> None:
    schema = schemathesis.openapi.from_dict(live_portal.openapi)
    tested = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        strategies = [
            operation.as_strategy(generation_mode=mode)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        ]
        if "{connection_id}" in operation.path:
            strategies.append(
                operation.as_strategy(path_parameters={"connection_id": live_portal.connection_id})
            )

        @given(case=st.one_of(strategies))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Case[Any]) -> None:
            check_response(case, live_portal)

        fuzz()
        tested += 1
    assert tested > 25
    # Not only refusals: valid requests got through too.
    assert sum(n for status, n in STATUSES.items() if status < 300) > 50, STATUSES
