"""The billing background pass, run by every replica: complete charges a crash left pending,
then renew every subscription whose month is up, exactly once per period, with dunning
(payment failed → e-mail → daily retries → paused after the grace period, never deleted).

Exactly once: a period's renewal is one intent row whose idempotency key names the
subscription, the period and the attempt; it is committed before the provider is asked, and
the subscription moves to the next period in the transaction that records the payment. Run
twice, or after a crash between the provider's answer and that commit, the pass finds the
same intent and asks again with the same key: the provider charges nothing more."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from dxc_shared.db import Database
from dxc_shared.logging import get_logger
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.auth.models import User
from portal_api.billing import notices
from portal_api.billing.models import BillingDetails, Charge, Subscription
from portal_api.billing.payments import PaymentDeclined, PaymentProvider
from portal_api.billing.plans import GRACE_PERIOD, PLANS, RETRY_EVERY, add_month
from portal_api.billing.service import Outcome, ask_provider, settle
from portal_api.connections import service as connections
from portal_api.connections.models import Connection
from portal_api.kit.time import aware, utcnow

logger = get_logger(__name__)

# A request's intent younger than this may still be in flight: recovery leaves it alone.
RECOVER_AFTER = timedelta(minutes=5)
NO_CARD = "There is no card on file."


class BillingJobs:
    def __init__(self, database: Database, payments: PaymentProvider, web_url: str) -> None:
        self._database = database
        self._payments = payments
        self._web_url = web_url

    async def run(self, every_seconds: float = 300) -> None:
        while True:
            try:
                await self.recover_pending()
                await self.renew_due()
                await self.announce_ended_trials()
            except Exception:  # the next pass tries again; nothing is half-done
                logger.exception("billing.pass_failed")
            await asyncio.sleep(every_seconds)

    async def recover_pending(self, *, older_than: timedelta = RECOVER_AFTER) -> int:
        """Complete the intents a crash left pending: ask the provider again with the same
        key and record what it says. Returns how many were completed."""
        async with self._database.unit_of_work() as session:
            pending = (
                await session.scalars(
                    select(Charge.id).where(
                        Charge.status == "pending", Charge.created_at <= utcnow() - older_than
                    )
                )
            ).all()
        completed = 0
        for charge_id in pending:
            async with self._database.unit_of_work() as session:
                charge = await session.scalar(
                    select(Charge)
                    .where(Charge.id == charge_id, Charge.status == "pending")
                    .with_for_update(skip_locked=True)
                )
                if charge is None:
                    continue  # settled meanwhile, or another replica is on it
                await self._complete(session, charge)
                completed += 1
        if completed:
            logger.info("billing.recovered", charges=completed)
        return completed

    async def renew_due(self, *, now: datetime | None = None) -> int:
        """Charge every subscription whose period is up (and any overdue one due a retry).
        Returns how many renewals were attempted."""
        now = now or utcnow()
        async with self._database.unit_of_work() as session:
            due = (
                await session.scalars(
                    select(Subscription.id).where(
                        Subscription.status.in_(("active", "past_due", "paused")),
                        Subscription.renews_at <= now,
                        or_(
                            Subscription.status == "active",
                            Subscription.retry_at <= now,
                        ),
                    )
                )
            ).all()
        attempted = 0
        for subscription_id in due:
            charge_id = await self._renewal_intent(subscription_id, now)
            if charge_id is None:
                continue
            async with self._database.unit_of_work() as session:
                charge = await session.scalar(
                    select(Charge)
                    .where(Charge.id == charge_id, Charge.status == "pending")
                    .with_for_update(skip_locked=True)
                )
                if charge is not None:
                    await self._complete(session, charge, now=now)
                    attempted += 1
        return attempted

    async def announce_ended_trials(self) -> int:
        """Tell the scheduler and the workers, once, of each connection whose trial ended
        without a subscription (nothing else changes then, so nothing else would): its syncing
        stops, and the connector record in Dynamics says Inactive with the reason and the date.
        Returns how many were announced."""
        async with self._database.unit_of_work() as session:
            ended = (
                await session.scalars(
                    select(Connection.id)
                    .join(User, User.id == Connection.user_id)
                    .outerjoin(Subscription, Subscription.connection_id == Connection.id)
                    .where(
                        Connection.archived_at.is_(None),
                        Connection.trial_end_announced_at.is_(None),
                        User.trial_ends_at <= utcnow(),
                        Subscription.id.is_(None),
                    )
                )
            ).all()
        announced = 0
        for connection_id in ended:
            async with self._database.unit_of_work() as session:
                connection = await session.get(Connection, connection_id, with_for_update=True)
                if connection is None or connection.trial_end_announced_at is not None:
                    continue  # another replica told it meanwhile
                user = await session.get(User, connection.user_id)
                assert user is not None
                state = await connections.state_of(session, user, connection)
                if state.plan_active:
                    continue  # subscribed meanwhile
                await connections.touch(session, state)
                announced += 1
        if announced:
            logger.info("billing.trials_ended", connections=announced)
        return announced

    async def _renewal_intent(self, subscription_id: uuid.UUID, now: datetime) -> uuid.UUID | None:
        """The pending charge for this period's renewal attempt, recorded (committed) first if
        there is none yet; None when the subscription is not due after all."""
        async with self._database.unit_of_work() as session:
            subscription = await session.scalar(
                select(Subscription)
                .where(Subscription.id == subscription_id)
                .with_for_update(skip_locked=True)
            )
            if subscription is None or subscription.renews_at is None:
                return None
            connection = await session.get(Connection, subscription.connection_id)
            assert connection is not None
            due = aware(subscription.renews_at) <= now and (
                subscription.status == "active"
                or (
                    subscription.status in ("past_due", "paused")
                    and subscription.retry_at is not None
                    and aware(subscription.retry_at) <= now
                )
            )
            if not due or connection.archived_at is not None:
                return None
            renews_at = aware(subscription.renews_at)
            key = (
                f"renewal:{subscription.id}:{renews_at:%Y%m%dT%H%M%S}"
                f":{subscription.failed_attempts}"
            )
            # A paused connection synced nothing: paying again starts a new month from now.
            period_start = now if subscription.status == "paused" else renews_at
            charge = await session.scalar(select(Charge).where(Charge.idempotency_key == key))
            if charge is None:
                plan = PLANS[subscription.plan]
                charge = Charge(
                    id=uuid.uuid4(),
                    user_id=connection.user_id,
                    connection_id=connection.id,
                    idempotency_key=key,
                    kind="renewal",
                    plan=plan.code,
                    amount=plan.monthly_price,
                    currency=plan.currency,
                    period_start=period_start,
                    period_end=add_month(period_start),
                    description=f"{plan.name} plan: {connection.name}",
                    status="pending",
                )
                session.add(charge)
            return charge.id if charge.status == "pending" else None

    async def _complete(
        self, session: AsyncSession, charge: Charge, *, now: datetime | None = None
    ) -> None:
        """Ask the provider (again) with the charge's key, record the answer and its effect."""
        details = await session.get(BillingDetails, charge.user_id)
        outcome: Outcome = (
            await ask_provider(self._payments, details.payment_customer_ref, charge)
            if details is not None and details.payment_customer_ref is not None
            else PaymentDeclined(NO_CARD)
        )
        settled, state = await settle(session, charge.id, outcome)
        if state is not None:
            await connections.touch(session, state)
        elif settled.status == "failed" and settled.kind == "renewal":
            await self._dunning(session, settled, now or utcnow())

    async def _dunning(self, session: AsyncSession, charge: Charge, now: datetime) -> None:
        # The connection first, as requests lock it: no deadlock with a plan change.
        connection = await session.get(Connection, charge.connection_id, with_for_update=True)
        subscription = await session.scalar(
            select(Subscription)
            .where(Subscription.connection_id == charge.connection_id)
            .with_for_update()
        )
        assert subscription is not None
        assert connection is not None
        user = await session.get(User, connection.user_id)
        assert user is not None
        subscription.failed_attempts += 1
        if subscription.past_due_since is None:
            subscription.past_due_since = now
        paused_after = aware(subscription.past_due_since) + GRACE_PERIOD
        reason = charge.failure_message or "the card was declined."
        notice: notices.BillingNotice | None = None  # e-mailed on the first failure and pause
        if now >= paused_after:
            if subscription.status != "paused":
                notice = notices.connection_paused()
            subscription.status = "paused"
            subscription.retry_at = None  # until a new card
        else:
            retry_at = min(now + RETRY_EVERY, paused_after)
            if subscription.status == "active":
                notice = notices.payment_failed(reason, retry_at, paused_after)
            subscription.status = "past_due"
            subscription.retry_at = retry_at
        if notice is not None:
            await notices.send(session, user, connection, notice, self._web_url)
        logger.info("billing.renewal_failed", status=subscription.status)
        state = await connections.state_of(session, user, connection)
        await connections.touch(session, state)
