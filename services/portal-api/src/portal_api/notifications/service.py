"""Notification e-mails through the outbox: each kind only when the person wants it, the
once-only rules kept with a record of what was sent, and never more than a few a day to one
person whatever happens (a flapping grant or a storm of failures sends one e-mail, not a
flood). The billing e-mails (payment failed, plan limit reached) go through `notify` too."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Literal

from dxc_shared.db import Database
from dxc_shared.logging import get_logger
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.activity.models import Invoice
from portal_api.auth.models import User
from portal_api.billing.models import Subscription
from portal_api.connections.models import Connection
from portal_api.kit.email import enqueue_email
from portal_api.kit.time import aware, utcnow
from portal_api.notifications.models import NotificationPreferences, NotificationSent
from portal_api.notifications.schemas import PreferencesIn, PreferencesOut

logger = get_logger(__name__)

Kind = Literal[
    "reauthorisation",
    "first_failure",
    "failure_digest",
    "trial_ending",
    "payment_failed",
    "plan_limit",
]
Preference = Literal["reauthorisation", "failures", "trial_ending", "billing"]
PREFERENCE_OF: dict[Kind, Preference] = {
    "reauthorisation": "reauthorisation",
    "first_failure": "failures",
    "failure_digest": "failures",
    "trial_ending": "trial_ending",
    "payment_failed": "billing",
    "plan_limit": "billing",
}
DAILY_LIMIT = 5
DAY = timedelta(days=1)
TRIAL_WARNING = timedelta(days=3)


async def preferences(session: AsyncSession, user: User) -> PreferencesOut:
    row = await session.get(NotificationPreferences, user.id)
    if row is None:
        return PreferencesOut()
    return PreferencesOut(
        reauthorisation=row.reauthorisation,
        failures=row.failures,
        trial_ending=row.trial_ending,
        billing=row.billing,
    )


async def set_preferences(session: AsyncSession, user: User, data: PreferencesIn) -> PreferencesOut:
    row = await session.get(NotificationPreferences, user.id, with_for_update=True)
    if row is None:
        row = NotificationPreferences(user_id=user.id)
        session.add(row)
    for name, value in data.model_dump(exclude_none=True).items():
        setattr(row, name, value)
    await session.flush()
    return await preferences(session, user)


async def notify(
    session: AsyncSession,
    user: User,
    kind: Kind,
    *,
    subject: str,
    text: str,
    web_url: str,
    connection_id: uuid.UUID | None = None,
    unless_sent_within: timedelta | None = None,
    unless_kinds: tuple[Kind, ...] = (),
) -> bool:
    """Queue one notification e-mail unless the person switched it off, the same kind (or one
    of `unless_kinds`) for the same connection went out within `unless_sent_within`, or the
    daily limit is reached. Returns whether it was queued. Every one ends with where to sign in
    and how to switch it off."""
    wanted = await preferences(session, user)
    if not getattr(wanted, PREFERENCE_OF[kind]):
        return False
    # One notifier at a time per person: the counts below stay true across replicas.
    await session.execute(select(User.id).where(User.id == user.id).with_for_update())
    now = utcnow()
    if unless_sent_within is not None:
        recent = await session.scalar(
            select(func.count()).where(
                NotificationSent.user_id == user.id,
                NotificationSent.connection_id == connection_id,
                NotificationSent.kind.in_((kind, *unless_kinds)),
                NotificationSent.sent_at > now - unless_sent_within,
            )
        )
        if recent:
            return False
    today = await session.scalar(
        select(func.count()).where(
            NotificationSent.user_id == user.id, NotificationSent.sent_at > now - DAY
        )
    )
    if (today or 0) >= DAILY_LIMIT:
        logger.warning("notifications.daily_limit_reached", kind=kind)
        return False
    session.add(
        NotificationSent(user_id=user.id, connection_id=connection_id, kind=kind, sent_at=now)
    )
    enqueue_email(
        session,
        to=user.email,
        subject=subject,
        body=f"Hello {user.name},\n\n{text}\n\nSign in at {web_url} to see the details.\n"
        "You can choose which e-mails you get under Account, Notifications.",
    )
    return True


async def about_connection(
    session: AsyncSession,
    user: User,
    connection: Connection,
    kind: Kind,
    subject: str,
    text: str,
    web_url: str,
    *,
    unless_kinds: tuple[Kind, ...] = (),
    once_a_day: bool = True,
) -> bool:
    """A notice about one connection (its subject after the connection's name): unless
    `once_a_day` is off, at most one of its kind (or `unless_kinds`) a day."""
    return await notify(
        session,
        user,
        kind,
        connection_id=connection.id,
        unless_sent_within=DAY if once_a_day else None,
        unless_kinds=unless_kinds,
        subject=f"{connection.name}: {subject}",
        text=text,
        web_url=web_url,
    )


async def reauthorisation_needed(
    session: AsyncSession,
    user: User,
    connection: Connection,
    *,
    side: str,
    message: str,
    web_url: str,
) -> bool:
    return await about_connection(
        session,
        user,
        connection,
        "reauthorisation",
        subject=f"connect to {side} again",
        text=f"Syncing for {connection.name} has stopped: {message}",
        web_url=web_url,
    )


async def first_failure(
    session: AsyncSession, user: User, connection: Connection, *, failed: int, web_url: str
) -> bool:
    invoices = "An invoice" if failed == 1 else f"{failed} invoices"
    return await about_connection(
        session,
        user,
        connection,
        "first_failure",
        unless_kinds=("failure_digest",),
        subject=f"{invoices.lower()} could not be synced",
        text=f"{invoices} could not be sent to Xero for {connection.name}. Each one says why and "
        "can be retried once the cause is fixed. While failures stay open you get one summary a "
        "day.",
        web_url=web_url,
    )


async def send_due(database: Database, *, web_url: str) -> int:
    """The daily failure digest and the trial-ending warning, for whoever is due."""
    sent = 0
    now = utcnow()
    async with database.unit_of_work() as session:
        open_failures = (
            await session.execute(
                select(Connection, func.count(Invoice.id))
                .join(Invoice, Invoice.connection_id == Connection.id)
                .where(
                    Connection.archived_at.is_(None),
                    Invoice.outcome.in_(("failed", "not_written_back")),
                )
                .group_by(Connection.id)
            )
        ).all()
        for connection, count in open_failures:
            user = await session.get(User, connection.user_id)
            assert user is not None  # connections are deleted with their user
            invoices = "1 invoice is" if count == 1 else f"{count} invoices are"
            sent += await about_connection(
                session,
                user,
                connection,
                "failure_digest",
                unless_kinds=("first_failure",),
                subject=f"{invoices} waiting for you",
                text=f"{invoices} of {connection.name} could not be synced and wait for a fix "
                "and a retry.",
                web_url=web_url,
            )
        subscribed = (
            select(Connection.user_id)
            .join(Subscription, Subscription.connection_id == Connection.id)
            .where(Subscription.status == "active")
        )
        ending = await session.scalars(
            select(User).where(
                User.trial_ends_at > now,
                User.trial_ends_at <= now + TRIAL_WARNING,
                User.id.not_in(subscribed),
            )
        )
        for user in ending.all():
            end = aware(user.trial_ends_at).strftime("%d %B %Y")
            sent += await notify(
                session,
                user,
                "trial_ending",
                unless_sent_within=TRIAL_WARNING,
                subject=f"Your dx-connector trial ends on {end}",
                text=f"Your free trial ends on {end}. Subscribe to a plan before then to keep "
                "your invoices syncing; nothing is charged until the trial ends.",
                web_url=web_url,
            )
    return sent


async def run_notifications(database: Database, *, web_url: str, every_seconds: float) -> None:
    while True:
        sent = await send_due(database, web_url=web_url)
        if sent:
            logger.info("notifications.sent", emails=sent)
        await asyncio.sleep(every_seconds)
