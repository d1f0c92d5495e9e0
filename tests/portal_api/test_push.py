"""Push from Dynamics, end to end: install registers the connection's webhook in the Dynamics
sandbox; the sandbox posts its RemoteExecutionContext to portal-api over real HTTP when an
invoice is handed over; a burst of posts becomes one SyncRequested; a wrong secret is refused
with nothing queued; uninstalling and archiving remove the registration.

portal-api is served on a loopback port here (the sandbox must reach it), so this module brings
its own sandboxes, whose OAuth redirect URIs name that port."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from dxc_shared.dynamics.schema import CONNECTOR, INVOICE_CONNECTOR
from dxc_shared.dynamics.webhook import PUSH_COLUMNS, PUSH_SECRET_HEADER, endpoint_name
from dxc_shared.messages import SyncRequested
from dynamics_sandbox.app import create_app as create_dynamics_sandbox
from dynamics_sandbox.settings import DynamicsSandboxSettings
from portal_api.push import repository
from portal_api.push.service import PushRelay
from sandbox_kit.clock import ManualClock

from tests.portal_api.conftest import Bus, Portal, portal_settings, started_portal
from tests.portal_api.oauth_flow import ready_connection
from tests.support.dynamics_sandbox import RunningDynamicsSandbox
from tests.support.http_server import free_port, serve_in_thread
from tests.support.polling import eventually, eventually_async
from tests.support.xero_sandbox import XeroSandbox, running_xero_sandbox

PORT = free_port()
PUBLIC_URL = f"http://127.0.0.1:{PORT}"


class ServedPortal(Portal):
    def browser(self, address: str = "127.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(self.app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL, timeout=60)

    @property
    def relay(self) -> PushRelay:
        relay: PushRelay = self.app.state.push_relay
        return relay


@pytest.fixture(scope="module")
def xero() -> Iterator[XeroSandbox]:
    with running_xero_sandbox(
        demo_redirect_uris=[f"{PUBLIC_URL}/v1/oauth/xero/callback"]
    ) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def dynamics() -> Iterator[RunningDynamicsSandbox]:
    settings = DynamicsSandboxSettings(
        token_signing_key="test-signing-key-of-32-bytes-at-least",
        demo_redirect_uris=[f"{PUBLIC_URL}/v1/oauth/dynamics/callback"],
        webhook_retry_delays_seconds=[0.05, 0.05],
    )
    with serve_in_thread(create_dynamics_sandbox(settings)) as base_url:
        yield RunningDynamicsSandbox(base_url, settings)


@pytest.fixture(scope="module")
async def portal(
    migrated_postgres: str,
    rabbitmq_url: str,
    namespace: str,
    token_broker_url: str,
    xero: XeroSandbox,
    dynamics: RunningDynamicsSandbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[ServedPortal]:
    mailbox = tmp_path_factory.mktemp("mailbox")
    settings = portal_settings(
        database_url=migrated_postgres,
        broker_url=rabbitmq_url,
        namespace=namespace,
        mailbox=mailbox,
        token_broker_url=token_broker_url,
        xero=xero,
        dynamics=dynamics,
        public_url=PUBLIC_URL,
    )
    async with started_portal(settings, rabbitmq_url) as service:
        config = uvicorn.Config(
            service.app, host="127.0.0.1", port=PORT, lifespan="off", log_level="warning"
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        await eventually(lambda: server.started)
        yield ServedPortal(service, Path(mailbox))
        server.should_exit = True
        await serving


@contextlib.contextmanager
def frozen(relay: PushRelay) -> Iterator[ManualClock]:
    """The relay's clock held still: pending requests fall due only when the test says."""
    clock = ManualClock(datetime.now(UTC))
    real = relay.clock
    relay.clock = clock.now
    try:
        yield clock
    finally:
        relay.clock = real
        relay.wake.set()


def _web_api(dynamics: RunningDynamicsSandbox) -> httpx.Client:
    token = dynamics.user_access_token()
    return httpx.Client(
        base_url=f"{dynamics.org_url()}/api/data/v9.2/",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=30,
    )


def _registration(dynamics: RunningDynamicsSandbox, cid: str) -> list[dict[str, Any]]:
    """The connection's webhook steps in Dynamics, with their endpoint ([] when none)."""
    with _web_api(dynamics) as api:
        name = endpoint_name(cid)
        endpoints = api.get("serviceendpoints", params={"$filter": f"name eq '{name}'"}).json()
        steps: list[dict[str, Any]] = []
        for endpoint in endpoints["value"]:
            found = api.get(
                "sdkmessageprocessingsteps",
                params={"$filter": f"_eventhandler_value eq {endpoint['serviceendpointid']}"},
            ).json()["value"]
            steps.extend(step | {"endpoint": endpoint} for step in found)
        return steps


def _hand_over(dynamics: RunningDynamicsSandbox, cid: str, rounds: int) -> list[str]:
    """A Dynamics user hands every active invoice to the connection's connector, `rounds`
    times."""
    with _web_api(dynamics) as api:
        connector = api.get(
            CONNECTOR.entity_set, params={"$filter": f"dxc_connectionid eq '{cid}'"}
        ).json()["value"][0][CONNECTOR.primary_id]
        invoices = api.get(
            "invoices",
            params={"$select": "invoiceid", "$filter": "statecode eq 0"},
        ).json()["value"]
        for _ in range(rounds):
            for invoice in invoices:
                patched = api.patch(
                    f"invoices({invoice['invoiceid']})",
                    json=INVOICE_CONNECTOR.bind(CONNECTOR.entity_set, connector),
                )
                assert patched.status_code == 204, patched.text
        return [str(invoice["invoiceid"]) for invoice in invoices]


def _deliveries(dynamics: RunningDynamicsSandbox, cid: str) -> list[dict[str, Any]]:
    found = httpx.get(f"{dynamics.base_url}/sandbox-admin/orgs/demo/webhook-deliveries").json()
    return [d for d in found if d["url"].endswith(f"/v1/push/dynamics/{cid}")]


async def test_install_registers_the_webhook_and_uninstall_removes_it(
    portal: ServedPortal, xero: XeroSandbox, dynamics: RunningDynamicsSandbox
) -> None:
    async with portal.signed_up() as browser:
        cid = await ready_connection(browser, xero, dynamics)
        steps = await asyncio.to_thread(_registration, dynamics, cid)
        assert sorted(step["name"].rsplit(": ", 1)[1] for step in steps) == [
            "Delete of invoice",
            "Update of invoice",
        ]
        for step in steps:
            assert (step["mode"], step["stage"], step["statecode"]) == (1, 40, 0)
            assert step["endpoint"]["contract"] == 8
            assert step["endpoint"]["authtype"] == 5
            assert step["endpoint"]["url"] == f"{PUBLIC_URL}/v1/push/dynamics/{cid}"
        update = next(s for s in steps if s["name"].endswith("Update of invoice"))
        assert set(update["filteringattributes"].split(",")) == set(PUSH_COLUMNS)

        # Installing again rotates the secret in place: still one endpoint, two steps.
        again = await browser.post(f"/v1/connections/{cid}/dynamics/install")
        assert again.status_code == 200, again.text
        assert again.json()["push_registered"] is True
        assert len(await asyncio.to_thread(_registration, dynamics, cid)) == 2

        removed = await browser.delete(f"/v1/connections/{cid}/dynamics/install")
        assert removed.status_code == 200, removed.text
        assert await asyncio.to_thread(_registration, dynamics, cid) == []
        async with portal.relay.database.unit_of_work() as session:
            assert await repository.subscription_of(session, uuid.UUID(cid)) is None


async def test_a_handed_over_invoice_is_pushed_at_once_and_a_burst_is_one_more_request(
    portal: ServedPortal, xero: XeroSandbox, dynamics: RunningDynamicsSandbox, bus: Bus
) -> None:
    async with portal.signed_up() as browser:
        cid = await ready_connection(browser, xero, dynamics)

    async def nothing_pending() -> bool:
        return await repository.earliest_due(portal.relay.database) is None

    with frozen(portal.relay) as clock:
        # Every active invoice of the demo organisation, handed over twice: a burst of posts.
        invoices = await asyncio.to_thread(_hand_over, dynamics, cid, 2)
        posts = 2 * len(invoices)
        await eventually(
            lambda: [d["state"] for d in _deliveries(dynamics, cid)] == ["succeeded"] * posts
        )
        statuses = [d["attempts"][-1]["status"] for d in _deliveries(dynamics, cid)]
        assert statuses == [202] * posts
        assert {d["record_id"] for d in _deliveries(dynamics, cid)} == set(invoices)
        # The first post was sent at once; the rest of the burst waits for its window to close.
        await eventually(lambda: len(bus.of(SyncRequested, cid)) == 1)
        assert not await nothing_pending()
        clock.advance(portal.relay.window.total_seconds())
        portal.relay.wake.set()
        await eventually(lambda: len(bus.of(SyncRequested, cid)) == 2)
        await eventually_async(nothing_pending)

        # A quiet window later, a lone change goes at once again.
        clock.advance(portal.relay.window.total_seconds())
        await asyncio.to_thread(_hand_over, dynamics, cid, 1)
        await eventually(lambda: len(bus.of(SyncRequested, cid)) == 3)
        assert all(request.invoices_only for request in bus.of(SyncRequested, cid))


async def test_a_wrong_secret_is_refused_and_nothing_is_queued(
    portal: ServedPortal, xero: XeroSandbox, dynamics: RunningDynamicsSandbox
) -> None:
    async with portal.signed_up() as browser:
        cid = await ready_connection(browser, xero, dynamics)
    context = {
        "MessageName": "Update",
        "PrimaryEntityName": "invoice",
        "PrimaryEntityId": str(uuid.uuid4()),
        "OrganizationId": str(uuid.uuid4()),
    }
    async with httpx.AsyncClient(base_url=PUBLIC_URL, timeout=30) as outside:
        for headers in ({PUSH_SECRET_HEADER: "guessed"}, {}):
            refused = await outside.post(
                f"/v1/push/dynamics/{cid}", content=json.dumps(context), headers=headers
            )
            assert refused.status_code == 401, refused.text
        unknown = await outside.post(
            f"/v1/push/dynamics/{uuid.uuid4()}",
            content=json.dumps(context),
            headers={PUSH_SECRET_HEADER: "guessed"},
        )
        assert unknown.status_code == 401
    async with portal.relay.database.unit_of_work() as session:
        assert await repository.coalescing_state(session, uuid.UUID(cid)) == (None, None)


async def test_archiving_removes_the_registration(
    portal: ServedPortal, xero: XeroSandbox, dynamics: RunningDynamicsSandbox
) -> None:
    async with portal.signed_up() as browser:
        cid = await ready_connection(browser, xero, dynamics)
        assert len(await asyncio.to_thread(_registration, dynamics, cid)) == 2
        archived = await browser.delete(f"/v1/connections/{cid}")
        assert archived.status_code == 204, archived.text
    assert await asyncio.to_thread(_registration, dynamics, cid) == []
    async with portal.relay.database.unit_of_work() as session:
        assert await repository.subscription_of(session, uuid.UUID(cid)) is None
