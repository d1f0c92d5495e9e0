"""Activity a person can use: empty runs folded, every invoice findable (search, outcome,
cursor paging) with its history and links, Retry for a failed one; one health state shown
alike on the list, the connection and /health; one e-mail for a storm of failures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from dxc_shared.db import Database
from dxc_shared.messages import (
    InvoiceRetryRequested,
    SyncFailure,
    SyncRunCompleted,
    SyncSuccess,
)
from portal_api.auth.models import User
from portal_api.kit.time import utcnow
from portal_api.notifications.models import NotificationSent
from portal_api.notifications.service import send_due
from sqlalchemy import select, update

from tests.portal_api.conftest import Bus, Portal, until
from tests.portal_api.oauth_flow import ready_connection
from tests.support.dynamics_sandbox import RunningDynamicsSandbox
from tests.support.polling import eventually
from tests.support.xero_sandbox import XeroSandbox

START = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)


def run(cid: str, minute: int, **values: Any) -> SyncRunCompleted:
    started = START + timedelta(minutes=minute)
    fields: dict[str, Any] = {
        "connection_id": uuid.UUID(cid),
        "job_id": uuid.uuid4(),
        "direction": "invoices",
        "started_at": started,
        "finished_at": started + timedelta(seconds=4),
        "succeeded": 0,
        "failed": 0,
    }
    return SyncRunCompleted.model_validate(fields | values)


def exported(number: int, customer: str = "Acme Ltd") -> SyncSuccess:
    return SyncSuccess(
        record_id=f"00000000-0000-0000-0000-{number:012d}",
        record_number=f"INV-{number:04d}",
        customer_name=customer,
        xero_invoice_id=f"x-{number}",
    )


def lagged(number: int, lag_seconds: float | None) -> SyncSuccess:
    return exported(number).model_copy(update={"lag_seconds": lag_seconds})


def failed(
    number: int,
    message: str = "Contact 'Acme Ltd' does not exist in Xero",
    customer: str = "Acme Ltd",
) -> SyncFailure:
    return SyncFailure(
        record_id=f"00000000-0000-0000-0000-{number:012d}",
        record_number=f"INV-{number:04d}",
        customer_name=customer,
        message=message,
    )


async def get(browser: httpx.AsyncClient, url: str, **params: Any) -> Any:
    response = await browser.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_runs_with_no_changes_are_folded_into_one_row(portal: Portal, bus: Bus) -> None:
    async with portal.signed_up() as browser:
        cid = (await browser.post("/v1/connections", json={"name": "Books"})).json()["id"]
        url = f"/v1/connections/{cid}/activity"
        await bus.publish(run(cid, 0, succeeded=1, successes=[exported(1)]))
        empty = [run(cid, minute) for minute in range(1, 6)]
        for message in empty:
            await bus.publish(message)
        await bus.publish(empty[-1])  # a redelivery changes nothing
        await bus.publish(run(cid, 6, failed=1, failures=[failed(2)]))
        await bus.publish(run(cid, 7))
        await bus.publish(run(cid, 8))

        async def rows() -> list[dict[str, Any]]:
            runs: list[dict[str, Any]] = (await get(browser, url))["runs"]
            return runs

        found = await until(rows, lambda r: len(r) == 4 and r[0]["empty_runs"] == 2)
        assert [r["empty_runs"] for r in found] == [2, 0, 5, 0]
        assert found[2]["started_at"] == "2026-11-23T12:31:00Z"
        assert found[2]["finished_at"] == "2026-11-23T12:35:04Z"
        assert found[1]["failures"][0]["record_number"] == "INV-0002"
        assert "90 days" in (await get(browser, url))["retention"]


async def test_an_older_report_arriving_late_does_not_overwrite_a_newer_outcome(
    portal: Portal, bus: Bus
) -> None:
    """Reports of different workers and retries arrive in any order: the newest outcome stands
    and the late one still joins the history."""
    async with portal.signed_up() as browser:
        cid = (await browser.post("/v1/connections", json={"name": "Books"})).json()["id"]
        url = f"/v1/connections/{cid}/invoices"
        await bus.publish(run(cid, 2, failed=1, failures=[failed(5, "Xero refused it")]))
        await until(lambda: get(browser, url), lambda page: len(page["invoices"]) == 1)
        await bus.publish(run(cid, 1, succeeded=1, successes=[exported(5)]))

        (invoice,) = (
            await until(
                lambda: get(browser, url),
                lambda page: len(page["invoices"][0]["history"]) == 2,
            )
        )["invoices"]
        assert (invoice["outcome"], invoice["message"]) == ("failed", "Xero refused it")
        assert [e["outcome"] for e in invoice["history"]] == ["failed", "exported"]


async def test_every_invoice_is_findable_with_its_history(portal: Portal, bus: Bus) -> None:
    async with portal.signed_up() as browser:
        cid = (await browser.post("/v1/connections", json={"name": "Books"})).json()["id"]
        url = f"/v1/connections/{cid}/invoices"
        successes = [exported(n, "Globex" if n % 2 else "Acme Ltd") for n in range(1, 31)]
        await bus.publish(run(cid, 0, failed=1, failures=[failed(31)]))
        await bus.publish(run(cid, 1, succeeded=30, successes=successes))
        await bus.publish(run(cid, 2, failed=1, failures=[failed(5, "Xero refused it", "Globex")]))

        everything = await until(
            lambda: get(browser, url, limit=100),
            lambda page: (
                len(page["invoices"]) == 31 and page["invoices"][0]["number"] == "INV-0005"
            ),
        )
        assert everything["next_cursor"] is None
        newest = everything["invoices"][0]
        assert newest["outcome"] == "failed"
        assert newest["message"] == "Xero refused it"
        assert [e["outcome"] for e in newest["history"]] == ["failed", "exported"]
        assert newest["xero_url"] == (
            "https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID=x-5"
        )
        assert newest["dynamics_url"] is None  # no Dynamics organisation chosen yet

        seen: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 7} | ({"cursor": cursor} if cursor else {})
            page = await get(browser, url, **params)
            seen += [invoice["number"] for invoice in page["invoices"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [invoice["number"] for invoice in everything["invoices"]]

        by_number = await get(browser, url, search="inv-0031")
        assert [i["number"] for i in by_number["invoices"]] == ["INV-0031"]
        by_customer = await get(browser, url, search="globex", limit=100)
        assert len(by_customer["invoices"]) == 15
        only_failed = await get(browser, url, outcome="failed")
        assert {i["number"] for i in only_failed["invoices"]} == {"INV-0005", "INV-0031"}
        wildcard = await get(browser, url, search="%")
        assert wildcard["invoices"] == []

        bad = await browser.get(url, params={"cursor": "not-a-cursor"})
        assert bad.status_code == 422
        assert bad.json()["field"] == "cursor"
        bad_outcome = await browser.get(url, params={"outcome": "lost"})
        assert bad_outcome.status_code == 422


async def test_health_retry_and_one_email_for_a_storm_of_failures(
    portal: Portal, bus: Bus, xero: XeroSandbox, dynamics: RunningDynamicsSandbox
) -> None:
    email = f"finance-{uuid.uuid4().hex[:8]}@example.com"
    async with portal.signed_up(email) as browser:
        cid = await ready_connection(browser, xero, dynamics)
        url = f"/v1/connections/{cid}"
        healthy = await get(browser, f"{url}/health")
        assert healthy == {"state": "healthy", "label": "Healthy", "reasons": []}

        for minute in range(5):
            await bus.publish(run(cid, minute, failed=1, failures=[failed(100 + minute)]))

        async def health() -> dict[str, Any]:
            body: dict[str, Any] = await get(browser, f"{url}/health")
            return body

        attention = await until(health, lambda h: h["reasons"] and h["reasons"][0]["count"] == 5)
        assert attention["state"] == "attention"
        assert attention["reasons"][0]["message"] == "5 invoices could not be sent to Xero."
        listed = [c for c in await get(browser, "/v1/connections") if c["id"] == cid]
        assert listed[0]["health"] == attention
        assert (await get(browser, url))["health"] == attention

        await eventually(lambda: len(portal.mails_to(email)) >= 2)
        notifications = [m for m in portal.mails_to(email) if "could not be synced" in m["subject"]]
        assert len(notifications) == 1
        assert notifications[0]["subject"] == "Contoso: an invoice could not be synced"

        record_id = f"00000000-0000-0000-0000-{100:012d}"
        retried = await browser.post(f"{url}/invoices/{record_id}/retry")
        assert retried.status_code == 202, retried.text
        await eventually(lambda: len(bus.of(InvoiceRetryRequested, cid)) == 1)
        request = bus.of(InvoiceRetryRequested, cid)[0]
        assert request.record_id == record_id
        page = await get(browser, f"{url}/invoices", search="INV-0100")
        invoice = page["invoices"][0]
        assert invoice["outcome"] == "retry_requested"
        assert invoice["history"][0]["message"] == "Ada Lovelace asked to retry it."
        assert invoice["dynamics_url"] == (
            f"{dynamics.org_url('demo')}/main.aspx?pagetype=entityrecord&etn=invoice&id={record_id}"
        )
        again = await browser.post(f"{url}/invoices/{record_id}/retry")
        assert again.status_code == 409
        unknown = await browser.post(f"{url}/invoices/nope/retry")
        assert unknown.status_code == 404
        assert (await get(browser, f"{url}/health"))["reasons"][0]["count"] == 4

        overview = await get(browser, f"{url}/overview")
        assert overview["open_failures"] == 4
        assert overview["plan_limit"] == 500
        assert len(overview["daily"]) == 30


async def test_the_overview_measures_the_median_lag_the_workers_report(
    portal: Portal, bus: Bus
) -> None:
    async with portal.signed_up() as browser:
        cid = (await browser.post("/v1/connections", json={"name": "Books"})).json()["id"]
        now = utcnow()

        def sent(successes: list[SyncSuccess], *, at: datetime, **values: Any) -> SyncRunCompleted:
            return run(
                cid,
                0,
                started_at=at - timedelta(seconds=5),
                finished_at=at,
                succeeded=len(successes),
                successes=successes,
                **values,
            )

        # Outside the 30 days the median is taken over: left out of it.
        await bus.publish(sent([lagged(1, 1.0)], at=now - timedelta(days=40)))
        await bus.publish(sent([lagged(2, 30.0), lagged(3, 10.0)], at=now - timedelta(seconds=3)))
        # An export the worker could not time (no hand-over moment) is left out, not taken as 0.
        await bus.publish(sent([lagged(4, 2000.0), lagged(5, None)], at=now - timedelta(seconds=2)))
        # Payments write Xero's status back onto invoices: not exports, no lag.
        await bus.publish(sent([exported(2)], at=now, direction="payments"))

        overview = await until(
            lambda: get(browser, f"/v1/connections/{cid}/overview"),
            # Two consumers: the invoices' history and the plan's count.
            lambda o: (
                sum(day["invoices"] for day in o["daily"]) == 4 and o["synced_this_month"] == 4
            ),
        )
        assert overview["median_lag_seconds"] == 30.0
        assert overview["last_successful_run_at"] is not None

        # The payments run wrote Xero's status back onto INV-0002: a step of its history that
        # takes no part in the median.
        await until(
            lambda: get(browser, f"/v1/connections/{cid}/invoices", search="INV-0002"),
            lambda page: (
                [e["outcome"] for e in page["invoices"][0]["history"]]
                == ["written_back", "exported"]
            ),
        )
        assert (await get(browser, f"/v1/connections/{cid}/overview"))["median_lag_seconds"] == 30.0


async def test_notification_preferences_switch_e_mails_off(portal: Portal, bus: Bus) -> None:
    email = f"quiet-{uuid.uuid4().hex[:8]}@example.com"
    async with portal.signed_up(email) as browser:
        prefs = "/v1/account/notifications"
        assert (await get(browser, prefs)) == {
            "reauthorisation": True,
            "failures": True,
            "trial_ending": True,
            "billing": True,
        }
        changed = await browser.patch(prefs, json={"failures": False})
        assert changed.json()["failures"] is False
        assert (await get(browser, prefs))["failures"] is False
        cid = (await browser.post("/v1/connections", json={"name": "Books"})).json()["id"]
        await bus.publish(run(cid, 0, failed=1, failures=[failed(7)]))
        await until(
            lambda: get(browser, f"/v1/connections/{cid}/invoices"),
            lambda page: len(page["invoices"]) == 1,
        )
        assert [m["subject"] for m in portal.mails_to(email)] == [
            "Confirm your e-mail address for dx-connector"
        ]


async def test_daily_digest_and_trial_warning_are_sent_once(portal: Portal, bus: Bus) -> None:
    database: Database = portal.app.state.portal.database
    email = f"digest-{uuid.uuid4().hex[:8]}@example.com"
    async with portal.signed_up(email) as browser:
        cid = (await browser.post("/v1/connections", json={"name": "Books"})).json()["id"]
        await bus.publish(run(cid, 0, failed=2, failures=[failed(1), failed(2)]))

        def subjects() -> list[str]:
            # The mailbox's files are named by id, not time: compare sorted subjects.
            return sorted(
                m["subject"] for m in portal.mails_to(email) if "Confirm" not in m["subject"]
            )

        await eventually(lambda: subjects() == ["Books: 2 invoices could not be synced"])
        # The same day: the first-failure e-mail stands for the digest.
        await send_due(database, web_url="http://web.test")
        async with database.unit_of_work() as session:
            user = await session.scalar(select(User).where(User.email == email))
            assert user is not None
            await session.execute(
                update(NotificationSent)
                .where(NotificationSent.user_id == user.id)
                .values(sent_at=utcnow() - timedelta(days=2))
            )
            user.trial_ends_at = trial_end = utcnow() + timedelta(days=2, hours=1)
        for _ in range(2):
            await send_due(database, web_url="http://web.test")
        await eventually(lambda: len(subjects()) == 3)
        assert subjects() == [
            "Books: 2 invoices are waiting for you",
            "Books: 2 invoices could not be synced",
            f"Your dx-connector trial ends on {trial_end.strftime('%d %B %Y')}",
        ]
