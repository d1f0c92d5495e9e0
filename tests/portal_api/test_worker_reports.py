"""What the workers and token-broker report back: a dead grant shows on the connection; runs
build the activity page (ids and messages only), newest first, the last 100 kept."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from dxc_shared.messages import (
    ConnectionChanged,
    CredentialNeedsReauthorisation,
    SyncFailure,
    SyncRunCompleted,
)

from tests.portal_api.conftest import Bus, Portal, until
from tests.portal_api.oauth_flow import ready_connection
from tests.support.dynamics_sandbox import RunningDynamicsSandbox
from tests.support.polling import eventually
from tests.support.xero_sandbox import XeroSandbox

REVOKED = "The Xero authorisation has expired or was revoked. Connect to Xero again in the portal."


async def test_reauthorisation_is_shown_and_stops_syncing(
    portal: Portal, bus: Bus, xero: XeroSandbox, dynamics: RunningDynamicsSandbox
) -> None:
    async with portal.signed_up() as browser:
        cid = await ready_connection(browser, xero, dynamics)
        url = f"/v1/connections/{cid}"
        assert (await browser.get(url)).json()["status"] == "active"

        await bus.publish(
            CredentialNeedsReauthorisation(
                connection_id=uuid.UUID(cid), provider="xero", message=REVOKED
            )
        )

        async def connection_now() -> dict[str, Any]:
            body: dict[str, Any] = (await browser.get(url)).json()
            return body

        connection = await until(connection_now, lambda c: c["status"] == "reauthorisation_needed")
        assert connection["xero"]["error"] == REVOKED
        assert connection["dynamics"]["error"] is None
        await eventually(lambda: not bus.of(ConnectionChanged, cid)[-1].syncable)

        steps = {s["key"]: s for s in (await browser.get(f"{url}/checklist")).json()["steps"]}
        assert steps["xero_connected"] == {
            "key": "xero_connected",
            "title": "Connect to Xero",
            "done": False,
            "tip": REVOKED,
        }
        assert (await browser.post(f"{url}/sync")).status_code == 409


def run(connection_id: str, minute: int, **extra: object) -> SyncRunCompleted:
    started = datetime(2026, 11, 23, 9, 0, tzinfo=UTC) + timedelta(minutes=minute)
    values: dict[str, object] = {
        "connection_id": uuid.UUID(connection_id),
        "job_id": uuid.uuid4(),
        "direction": "invoices",
        "started_at": started,
        "finished_at": started + timedelta(seconds=5),
        "succeeded": minute,
        "failed": 0,
    }
    return SyncRunCompleted.model_validate(values | extra)


async def runs(browser: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = (await browser.get(url)).json()["runs"]
    return body


async def test_activity_is_newest_first_deduplicated_and_bounded(portal: Portal, bus: Bus) -> None:
    async with portal.signed_up() as browser:
        cid = (await browser.post("/v1/connections", json={"name": "Books"})).json()["id"]
        url = f"/v1/connections/{cid}/activity"
        assert (await browser.get(url)).json() == {"runs": []}

        failing = run(
            cid,
            0,
            direction="payments",
            failed=1,
            failures=[
                SyncFailure(
                    record_id="6a1f0c1e-0000-0000-0000-000000000001",
                    record_number="INV-0042",
                    message="Contact 'Acme Ltd' does not exist in Xero and creating contacts is "
                    "switched off",
                )
            ],
            error=None,
        )
        await bus.publish(failing)
        await bus.publish(failing)  # a redelivery
        for minute in range(1, 102):
            await bus.publish(run(cid, minute))

        latest = await until(
            lambda: runs(browser, url), lambda r: bool(r) and r[0]["succeeded"] == 101
        )
        assert len(latest) == 100
        assert [r["succeeded"] for r in latest] == list(range(101, 1, -1))

    async with portal.signed_up() as browser:
        cid = (await browser.post("/v1/connections", json={"name": "Books"})).json()["id"]
        url = f"/v1/connections/{cid}/activity"
        await bus.publish(failing.model_copy(update={"connection_id": uuid.UUID(cid)}))
        await bus.publish(failing.model_copy(update={"connection_id": uuid.UUID(cid)}))
        await bus.publish(run(cid, 1, error="Re-authorise Xero in the portal."))
        found = await until(lambda: runs(browser, url), lambda r: len(r) == 2)
        assert found[0]["error"] == "Re-authorise Xero in the portal."
        assert found[1] == {
            "direction": "payments",
            "started_at": "2026-11-23T09:00:00Z",
            "finished_at": "2026-11-23T09:00:05Z",
            "succeeded": 0,
            "failed": 1,
            "error": None,
            "failures": [
                {
                    "record_id": "6a1f0c1e-0000-0000-0000-000000000001",
                    "record_number": "INV-0042",
                    "message": "Contact 'Acme Ltd' does not exist in Xero and creating contacts "
                    "is switched off",
                }
            ],
        }
