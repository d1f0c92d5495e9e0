"""What the workers and token-broker report back: a dead grant shows on the connection (and is
e-mailed once); runs build the activity page (ids and messages only), newest first, bounded."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from dxc_shared.bus import MessageContext
from dxc_shared.messages import (
    ConnectionChanged,
    CredentialNeedsReauthorisation,
    SyncFailure,
    SyncRunCompleted,
    SyncSuccess,
)
from dxc_shared.sync import RunReport
from portal_api.activity.service import RUNS_KEPT, ActivityHandlers

from tests.portal_api.conftest import Bus, Portal, until
from tests.portal_api.oauth_flow import ready_connection
from tests.support.dynamics_sandbox import RunningDynamicsSandbox
from tests.support.polling import eventually
from tests.support.token_broker import INTERNAL_API_KEY
from tests.support.xero_sandbox import XeroSandbox

REVOKED = (
    "The Dynamics 365 authorisation was revoked (the password changed or access was "
    "withdrawn). Connect to Dynamics 365 again in the portal."
)


async def test_a_grant_that_dies_under_a_worker_is_shown_and_stops_syncing(
    portal: Portal,
    bus: Bus,
    xero: XeroSandbox,
    dynamics: RunningDynamicsSandbox,
    token_broker_url: str,
) -> None:
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    async with portal.signed_up(email) as browser:
        cid = await ready_connection(browser, xero, dynamics)
        url = f"/v1/connections/{cid}"
        assert (await browser.get(url)).json()["status"] == "active"

        # A worker asks token-broker for a token that needs a refresh, after the user's
        # sessions were revoked at Microsoft: token-broker publishes the event.
        await asyncio.to_thread(dynamics.revoke_demo_user_sessions)
        async with httpx.AsyncClient(
            base_url=token_broker_url, headers={"Authorization": f"Bearer {INTERNAL_API_KEY}"}
        ) as worker:
            refused = await worker.post(
                f"/v1/connections/{cid}/credentials/dynamics/access-token",
                json={"resource": dynamics.base_url},
            )
        assert refused.status_code == 409

        async def connection_now() -> dict[str, Any]:
            body: dict[str, Any] = (await browser.get(url)).json()
            return body

        connection = await until(connection_now, lambda c: c["status"] == "reauthorisation_needed")
        assert connection["dynamics"]["error"] == REVOKED
        assert connection["xero"]["error"] is None
        assert connection["health"]["state"] == "action_needed"
        assert [r["action"] for r in connection["health"]["reasons"]] == ["reauthorise_dynamics"]

        def reauthorisation_mails() -> list[dict[str, Any]]:
            return [m for m in portal.mails_to(email) if "connect to" in m["subject"]]

        await eventually(lambda: len(reauthorisation_mails()) == 1)
        mail = reauthorisation_mails()[0]
        assert mail["subject"] == "Contoso: connect to Dynamics 365 again"
        assert REVOKED in mail["body"]
        await eventually(lambda: not bus.of(ConnectionChanged, cid)[-1].syncable)
        assert bus.of(ConnectionChanged, cid)[-1].reauthorisation_needed == {"dynamics": REVOKED}

        steps = {s["key"]: s for s in (await browser.get(f"{url}/checklist")).json()["steps"]}
        assert steps["dynamics_connected"] == {
            "key": "dynamics_connected",
            "title": "Connect to Dynamics 365",
            "done": False,
            "tip": REVOKED,
        }
        assert (await browser.post(f"{url}/sync")).status_code == 409


async def test_a_late_event_does_not_mark_a_working_grant_as_dead(
    portal: Portal, xero: XeroSandbox, dynamics: RunningDynamicsSandbox
) -> None:
    handlers: ActivityHandlers = portal.app.state.activity_handlers
    async with portal.signed_up() as browser:
        cid = await ready_connection(browser, xero, dynamics)
        stale = CredentialNeedsReauthorisation(
            connection_id=uuid.UUID(cid), provider="xero", message="Connect to Xero again."
        )
        context = MessageContext(
            message_id="m1", topic=stale.topic, attempt=1, headers={"connection_id": cid}
        )
        await handlers.on_reauthorisation_needed(stale, context)
        connection = (await browser.get(f"/v1/connections/{cid}")).json()
        assert connection["status"] == "active"
        assert connection["xero"]["error"] is None


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
        assert (await browser.get(url)).json()["runs"] == []

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
        for minute in range(1, RUNS_KEPT + 2):
            await bus.publish(run(cid, minute))

        latest = await until(
            lambda: runs(browser, url), lambda r: bool(r) and r[0]["succeeded"] == RUNS_KEPT + 1
        )
        assert len(latest) == RUNS_KEPT
        assert [r["succeeded"] for r in latest] == list(range(RUNS_KEPT + 1, 1, -1))

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
            "empty_runs": 0,
            "failures": [
                {
                    "record_id": "6a1f0c1e-0000-0000-0000-000000000001",
                    "record_number": "INV-0042",
                    "message": "Contact 'Acme Ltd' does not exist in Xero and creating contacts "
                    "is switched off",
                    "customer_name": None,
                }
            ],
        }


async def test_a_workers_run_report_lists_its_invoices_in_the_portal(
    portal: Portal, bus: Bus
) -> None:
    async with portal.signed_up() as browser:
        cid = (await browser.post("/v1/connections", json={"name": "Books"})).json()["id"]
        report = RunReport(uuid.UUID(cid), uuid.uuid4(), "invoices")
        report.succeed(
            SyncSuccess(
                record_id="00000000-0000-0000-0000-000000000001",
                record_number="INV-0001",
                customer_name="Acme Ltd",
                xero_invoice_id="x-1",
                xero_url="https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID=x-1",
            )
        )
        report.fail(
            "00000000-0000-0000-0000-000000000002",
            "INV-0002",
            "The currency JPY is not enabled in Xero.",
            customer_name="Globex",
        )
        await bus.publish(report.completed())

        async def invoices() -> list[dict[str, Any]]:
            page = await browser.get(f"/v1/connections/{cid}/invoices")
            rows: list[dict[str, Any]] = page.json()["invoices"]
            return rows

        found = await until(invoices, lambda rows: len(rows) == 2)
        by_number = {row["number"]: row for row in found}
        assert (by_number["INV-0001"]["outcome"], by_number["INV-0001"]["customer_name"]) == (
            "exported",
            "Acme Ltd",
        )
        assert by_number["INV-0001"]["xero_url"] == (
            "https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID=x-1"
        )
        assert (by_number["INV-0002"]["outcome"], by_number["INV-0002"]["customer_name"]) == (
            "failed",
            "Globex",
        )


async def test_a_privilege_refused_to_a_worker_turns_the_permission_step_red(
    portal: Portal, bus: Bus, xero: XeroSandbox, dynamics: RunningDynamicsSandbox
) -> None:
    async with portal.signed_up() as browser:
        cid = await ready_connection(browser, xero, dynamics)
        url = f"/v1/connections/{cid}"

        async def permissions() -> dict[str, Any]:
            steps = (await browser.get(f"{url}/checklist")).json()["steps"]
            step: dict[str, Any] = next(s for s in steps if s["key"] == "permissions")
            return step

        assert (await permissions())["done"] is True
        await bus.publish(run(cid, 1, failed=1, missing_privileges=["prvWriteInvoice"]))

        red = await until(permissions, lambda step: not step["done"])
        assert "update invoices and their lines" in red["tip"]
        # Refresh re-checks every privilege the connector needs (granted again here).
        assert (await browser.post(f"{url}/refresh")).status_code == 200
        assert (await permissions())["done"] is True


async def test_a_skipped_invoice_is_findable_with_its_reason(portal: Portal, bus: Bus) -> None:
    async with portal.signed_up() as browser:
        cid = (await browser.post("/v1/connections", json={"name": "Books"})).json()["id"]
        waiting = "Waiting: the delivery date 25 Dec 2026 is in the future."
        skip = SyncFailure(
            record_id="6a1f0c1e-0000-0000-0000-000000000007",
            record_number="INV-0007",
            message=waiting,
        )
        await bus.publish(run(cid, 1, skipped=[skip]))

        async def skipped() -> list[dict[str, Any]]:
            page = await browser.get(
                f"/v1/connections/{cid}/invoices", params={"outcome": "skipped"}
            )
            invoices: list[dict[str, Any]] = page.json()["invoices"]
            return invoices

        found = await until(skipped, lambda invoices: len(invoices) == 1)
        assert (found[0]["number"], found[0]["message"]) == ("INV-0007", waiting)
        # Not a run with nothing to do: it is a row of its own, not a fold of empty runs.
        only = (await browser.get(f"/v1/connections/{cid}/activity")).json()["runs"]
        assert [r["empty_runs"] for r in only] == [0]
