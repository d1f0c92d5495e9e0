"""Billing that is right, through the API and the billing pass: plan changes prorated and
charged or credited at once; the monthly renewal exactly once per period, even with a crash
between the provider's charge and the commit; dunning to paused (never deleted); a
subscription taken in the trial starts billing when the trial ends; the plan's invoice limit
pauses invoice dispatch until an upgrade."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from dxc_shared.db import Database
from dxc_shared.messages import ConnectionChanged, SyncRunCompleted
from portal_api.auth.models import User
from portal_api.billing.jobs import BillingJobs
from portal_api.billing.models import BillingDetails, Charge, Subscription
from portal_api.billing.payments import FakePaymentProvider, PaymentRequest
from portal_api.billing.plans import GRACE_PERIOD, add_month
from portal_api.connections.models import Connection
from portal_api.kit.email import OutgoingEmail
from portal_api.kit.time import aware, utcnow
from sqlalchemy import select, update

from tests.portal_api.conftest import WEB_URL, Bus, Portal, until
from tests.support.polling import eventually


def database_of(portal: Portal) -> Database:
    return portal.service.infrastructure.database


def fake_payments(portal: Portal) -> FakePaymentProvider:
    payments: FakePaymentProvider = portal.app.state.portal.payments
    return payments


def jobs_of(portal: Portal) -> BillingJobs:
    jobs: BillingJobs = portal.app.state.billing_jobs
    return jobs


@asynccontextmanager
async def customer(
    portal: Portal, *, trial_over: bool, card: str = "tok_visa"
) -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
    """A signed-in browser with a card on file and one connection (its id); `trial_over`:
    the free trial already ended. Also the provider's customer reference."""
    email = f"billing-{uuid.uuid4().hex[:8]}@example.com"
    async with portal.signed_up(email) as browser:
        if trial_over:
            async with database_of(portal).unit_of_work() as session:
                await session.execute(
                    update(User)
                    .where(User.email == email)
                    .values(trial_ends_at=utcnow() - timedelta(days=1))
                )
        billing = await browser.put("/v1/billing", json={"card_token": card})
        assert billing.status_code == 200, billing.text
        created = await browser.post("/v1/connections", json={"name": "Contoso"})
        assert created.status_code == 201, created.text
        async with database_of(portal).unit_of_work() as session:
            user = await session.scalar(select(User).where(User.email == email))
            assert user is not None
            details = await session.get(BillingDetails, user.id)
            assert details is not None
            assert details.payment_customer_ref is not None
            customer_ref = details.payment_customer_ref
        yield browser, created.json()["id"], customer_ref


def charges_of(portal: Portal, customer_ref: str) -> list[Decimal]:
    return [amount for _, who, amount, _ in fake_payments(portal).charges if who == customer_ref]


async def subscription_row(portal: Portal, connection_id: str) -> Subscription:
    async with database_of(portal).unit_of_work() as session:
        found = await session.scalar(
            select(Subscription).where(Subscription.connection_id == uuid.UUID(connection_id))
        )
    assert found is not None
    return found


async def set_period(
    portal: Portal, connection_id: str, *, start: datetime, renews_at: datetime
) -> None:
    async with database_of(portal).unit_of_work() as session:
        await session.execute(
            update(Subscription)
            .where(Subscription.connection_id == uuid.UUID(connection_id))
            .values(current_period_start=start, renews_at=renews_at)
        )


async def receipts(browser: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await browser.get("/v1/billing/receipts")
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


async def test_a_plan_change_is_prorated_and_charged_or_credited_at_once(
    portal: Portal, bus: Bus
) -> None:
    async with customer(portal, trial_over=True) as (browser, cid, customer_ref):
        url = f"/v1/connections/{cid}"
        subscribed = await browser.post(f"{url}/subscription", json={"plan": "starter"})
        assert subscribed.status_code == 200, subscribed.text
        assert charges_of(portal, customer_ref) == [Decimal("29.00")]

        # Half way through the month.
        now = utcnow()
        start, end = now - timedelta(days=15), now + timedelta(days=15)
        await set_period(portal, cid, start=start, renews_at=end)
        upgraded = await browser.patch(url, json={"plan": "scale"})
        assert upgraded.status_code == 200, upgraded.text
        assert upgraded.json()["plan"] == upgraded.json()["subscription"]["plan"] == "scale"
        upgrade = charges_of(portal, customer_ref)[-1]
        assert abs(upgrade - Decimal("85.00")) <= Decimal("0.01")  # (199 - 29) / 2
        await eventually(
            lambda: bus.of(ConnectionChanged, cid)[-1].profile.sync_interval_seconds == 15
        )

        downgraded = await browser.patch(url, json={"plan": "growth"})
        assert downgraded.status_code == 200, downgraded.text
        credit = charges_of(portal, customer_ref)[-1]
        assert credit < 0
        assert abs(credit - Decimal("-60.00")) <= Decimal("0.01")  # (79 - 199) / 2
        assert (await subscription_row(portal, cid)).plan == "growth"

        same = await browser.patch(url, json={"plan": "growth"})
        assert same.status_code == 200
        assert len(charges_of(portal, customer_ref)) == 3  # no change, no charge

        listed = await receipts(browser)
        assert [(r["kind"], r["plan"], r["status"]) for r in listed] == [
            ("credit", "Growth", "succeeded"),
            ("charge", "Scale", "succeeded"),
            ("charge", "Starter", "succeeded"),
        ]
        assert Decimal(listed[0]["amount"]) == credit
        assert aware(datetime.fromisoformat(listed[1]["period_end"])) == end
        async with database_of(portal).unit_of_work() as session:
            keys = (
                await session.scalars(
                    select(Charge.idempotency_key).where(Charge.connection_id == uuid.UUID(cid))
                )
            ).all()
        assert len(set(keys)) == 3


async def test_a_plan_change_the_card_refuses_changes_nothing(portal: Portal) -> None:
    async with customer(portal, trial_over=True) as (browser, cid, customer_ref):
        url = f"/v1/connections/{cid}"
        assert (await browser.post(f"{url}/subscription", json={"plan": "starter"})).is_success
        assert (
            await browser.put("/v1/billing", json={"card_token": "tok_charge_declined"})
        ).is_success
        refused = await browser.patch(url, json={"plan": "scale"})
        assert refused.status_code == 402
        assert "declined" in refused.json()["detail"]
        assert (await browser.get(url)).json()["plan"] == "starter"
        assert charges_of(portal, customer_ref) == [Decimal("29.00")]
        assert [r["status"] for r in await receipts(browser)] == ["failed", "succeeded"]


async def test_the_renewal_charges_once_per_period_however_often_the_pass_runs(
    portal: Portal,
) -> None:
    async with customer(portal, trial_over=True) as (browser, cid, customer_ref):
        assert (
            await browser.post(f"/v1/connections/{cid}/subscription", json={"plan": "growth"})
        ).is_success
        now = utcnow()
        period_end = now - timedelta(minutes=1)
        await set_period(portal, cid, start=period_end - timedelta(days=30), renews_at=period_end)

        await jobs_of(portal).renew_due()
        await jobs_of(portal).renew_due()
        assert charges_of(portal, customer_ref) == [Decimal("79.00"), Decimal("79.00")]
        renewed = await subscription_row(portal, cid)
        assert aware(renewed.current_period_start or now) == period_end
        assert aware(renewed.renews_at or now) == add_month(period_end)
        newest = (await receipts(browser))[0]
        assert (newest["status"], newest["amount"]) == ("succeeded", "79.00")
        assert aware(datetime.fromisoformat(newest["period_start"])) == period_end


class Crash(Exception):
    """The process dying at that point: nothing after it runs, nothing uncommitted stays."""


class CrashAfterCharge(FakePaymentProvider):
    """The provider charges, then the process dies before anything is committed."""

    def __init__(self, provider: FakePaymentProvider) -> None:
        self._provider = provider

    async def charge(self, customer_ref: str, request: PaymentRequest) -> str:
        await self._provider.charge(customer_ref, request)
        raise Crash("between the provider's charge and the commit")


async def test_a_crash_between_the_charge_and_the_commit_never_charges_twice(
    portal: Portal,
) -> None:
    async with customer(portal, trial_over=True) as (browser, cid, customer_ref):
        assert (
            await browser.post(f"/v1/connections/{cid}/subscription", json={"plan": "starter"})
        ).is_success
        period_end = utcnow() - timedelta(minutes=1)
        await set_period(portal, cid, start=period_end - timedelta(days=30), renews_at=period_end)

        crashing = BillingJobs(
            database_of(portal), CrashAfterCharge(fake_payments(portal)), WEB_URL
        )
        with pytest.raises(Crash):
            await crashing.renew_due()
        assert charges_of(portal, customer_ref) == [Decimal("29.00"), Decimal("29.00")]
        [pending] = [r for r in await receipts(browser) if r["status"] == "pending"]
        assert aware((await subscription_row(portal, cid)).renews_at or utcnow()) == period_end

        # The restarted pass finds the intent and completes it with the same key.
        await jobs_of(portal).renew_due()
        await jobs_of(portal).recover_pending(older_than=timedelta(0))
        assert charges_of(portal, customer_ref) == [Decimal("29.00"), Decimal("29.00")]
        completed = {r["id"]: r for r in await receipts(browser)}[pending["id"]]
        assert completed["status"] == "succeeded"
        assert aware((await subscription_row(portal, cid)).renews_at or utcnow()) == add_month(
            period_end
        )


async def test_a_request_that_crashed_after_charging_is_completed_by_recovery(
    portal: Portal,
) -> None:
    async with customer(portal, trial_over=True) as (browser, cid, customer_ref):
        original = portal.app.state.portal
        crashing = CrashAfterCharge(fake_payments(portal))
        portal.app.state.portal = type(original)(**{**vars(original), "payments": crashing})
        try:
            with pytest.raises(Crash):
                await browser.post(f"/v1/connections/{cid}/subscription", json={"plan": "scale"})
        finally:
            portal.app.state.portal = original
        assert charges_of(portal, customer_ref) == [Decimal("199.00")]
        assert (await browser.get(f"/v1/connections/{cid}")).json()["subscription"] is None

        await jobs_of(portal).recover_pending(older_than=timedelta(0))
        assert charges_of(portal, customer_ref) == [Decimal("199.00")]
        connection = (await browser.get(f"/v1/connections/{cid}")).json()
        assert connection["subscription"]["status"] == "active"
        assert connection["plan"] == "scale"
        assert [r["status"] for r in await receipts(browser)] == ["succeeded"]


async def test_a_renewal_the_card_refuses_goes_to_dunning_then_pauses_never_deletes(
    portal: Portal,
) -> None:
    async with customer(portal, trial_over=True) as (browser, cid, customer_ref):
        url = f"/v1/connections/{cid}"
        assert (await browser.post(f"{url}/subscription", json={"plan": "starter"})).is_success
        assert (
            await browser.put("/v1/billing", json={"card_token": "tok_charge_declined"})
        ).is_success
        now = utcnow()
        period_end = now - timedelta(minutes=1)
        await set_period(portal, cid, start=period_end - timedelta(days=30), renews_at=period_end)
        jobs = jobs_of(portal)

        await jobs.renew_due(now=now)
        connection = (await browser.get(url)).json()
        assert connection["subscription"]["status"] == "past_due"
        assert connection["status"] != "paused"  # syncing goes on in the grace period
        assert "payment_failed" in [r["code"] for r in connection["health"]["reasons"]]
        email = (await browser.get("/v1/auth/me")).json()["email"]
        await eventually(
            lambda: any("payment failed" in m["subject"] for m in portal.mails_to(email))
        )
        await jobs.renew_due(now=now)  # not due again before the retry
        await jobs.renew_due(now=now + timedelta(days=1, minutes=1))  # the daily retry
        assert [r["status"] for r in await receipts(browser)][:2] == ["failed", "failed"]
        assert len(await receipts(browser)) == 3

        await jobs.renew_due(now=now + GRACE_PERIOD + timedelta(minutes=1))
        connection = (await browser.get(url)).json()
        assert connection["subscription"]["status"] == "paused"
        assert connection["status"] == "paused"
        await eventually(
            lambda: any("syncing is paused" in m["subject"] for m in portal.mails_to(email))
        )
        assert charges_of(portal, customer_ref) == [Decimal("29.00")]

        # A card that pays: the overdue payment goes through and syncing resumes.
        assert (await browser.put("/v1/billing", json={"card_token": "tok_visa"})).is_success
        await jobs.renew_due()
        assert charges_of(portal, customer_ref) == [Decimal("29.00"), Decimal("29.00")]
        connection = (await browser.get(url)).json()
        assert connection["subscription"]["status"] == "active"
        assert connection["status"] != "paused"
        assert (await browser.get(url)).status_code == 200  # never deleted


async def test_subscribing_in_the_trial_starts_billing_when_the_trial_ends(
    portal: Portal,
) -> None:
    async with customer(portal, trial_over=False) as (browser, cid, customer_ref):
        url = f"/v1/connections/{cid}"
        subscribed = await browser.post(f"{url}/subscription", json={"plan": "growth"})
        assert subscribed.status_code == 200, subscribed.text
        connection = subscribed.json()
        assert charges_of(portal, customer_ref) == []
        assert connection["subscription"]["billing_starts_at"] == connection["trial_ends_at"]
        assert await receipts(browser) == []
        # A plan change before the first charge is only a choice.
        assert (await browser.patch(url, json={"plan": "starter"})).is_success
        assert charges_of(portal, customer_ref) == []

        trial_end = utcnow() - timedelta(minutes=1)
        async with database_of(portal).unit_of_work() as session:
            owner = select(Connection.user_id).where(Connection.id == uuid.UUID(cid))
            await session.execute(
                update(User)
                .where(User.id == owner.scalar_subquery())
                .values(trial_ends_at=trial_end)
            )
            await session.execute(
                update(Subscription)
                .where(Subscription.connection_id == uuid.UUID(cid))
                .values(renews_at=trial_end)
            )
        await jobs_of(portal).renew_due()
        assert charges_of(portal, customer_ref) == [Decimal("29.00")]
        connection = (await browser.get(url)).json()
        assert connection["subscription"]["billing_starts_at"] is None
        assert connection["status"] != "paused"
        [receipt] = await receipts(browser)
        assert aware(datetime.fromisoformat(receipt["period_start"])) == trial_end


async def test_at_the_invoice_limit_new_invoices_wait_until_an_upgrade(
    portal: Portal, bus: Bus
) -> None:
    async with customer(portal, trial_over=False) as (browser, cid, _customer_ref):
        url = f"/v1/connections/{cid}"
        now = utcnow()

        def run(succeeded: int, job_id: uuid.UUID | None = None) -> SyncRunCompleted:
            return SyncRunCompleted(
                connection_id=uuid.UUID(cid),
                job_id=job_id or uuid.uuid4(),
                direction="invoices",
                started_at=now,
                finished_at=now,
                succeeded=succeeded,
                failed=0,
            )

        first = run(300)
        await bus.publish(first)
        await bus.publish(first)  # a redelivery counts once
        await bus.publish(run(5).model_copy(update={"direction": "payments"}))

        async def usage() -> dict[str, Any]:
            body: dict[str, Any] = (await browser.get(f"{url}/usage")).json()
            return body

        await until(usage, lambda u: u["invoices_exported"] == 300)
        assert (await usage())["invoices_paused_until"] is None

        await bus.publish(run(200))
        await eventually(
            lambda: any(m.invoices_paused_until for m in bus.of(ConnectionChanged, cid))
        )
        paused = bus.of(ConnectionChanged, cid)[-1].invoices_paused_until
        assert paused is not None
        assert paused == add_month(datetime(now.year, now.month, 1, tzinfo=paused.tzinfo))
        limit = await usage()
        assert (limit["invoices_exported"], limit["invoice_limit"]) == (500, 500)
        assert (await browser.get(url)).json()["invoices_paused_until"] is not None
        health = (await browser.get(f"{url}/health")).json()
        assert "plan_limit_reached" in [r["code"] for r in health["reasons"]]
        email = (await browser.get("/v1/auth/me")).json()["email"]
        await eventually(
            lambda: any("invoice limit" in m["subject"] for m in portal.mails_to(email))
        )

        upgraded = await browser.patch(url, json={"plan": "growth"})
        assert upgraded.status_code == 200
        assert upgraded.json()["invoices_paused_until"] is None
        health = (await browser.get(f"{url}/health")).json()
        assert "plan_limit_reached" not in [r["code"] for r in health["reasons"]]
        await eventually(lambda: bus.of(ConnectionChanged, cid)[-1].invoices_paused_until is None)
        assert (await usage())["invoice_limit"] == 2500


async def test_billing_e_mails_follow_the_persons_preference(portal: Portal, bus: Bus) -> None:
    """Switched off under Account, Notifications, "Billing": reaching the plan's limit pauses
    new invoices as ever, and no e-mail is queued for it."""
    async with customer(portal, trial_over=False) as (browser, cid, _customer_ref):
        off = await browser.patch("/v1/account/notifications", json={"billing": False})
        assert off.status_code == 200, off.text
        now = utcnow()
        await bus.publish(
            SyncRunCompleted(
                connection_id=uuid.UUID(cid),
                job_id=uuid.uuid4(),
                direction="invoices",
                started_at=now,
                finished_at=now,
                succeeded=500,
                failed=0,
            )
        )
        await eventually(
            lambda: any(m.invoices_paused_until for m in bus.of(ConnectionChanged, cid))
        )
        # The e-mail would have been queued in the transaction that paused new invoices.
        email = (await browser.get("/v1/auth/me")).json()["email"]
        async with database_of(portal).unit_of_work() as session:
            subjects = (
                await session.scalars(
                    select(OutgoingEmail.subject).where(OutgoingEmail.recipient == email)
                )
            ).all()
        assert subjects
        assert not [s for s in subjects if "invoice limit" in s]
