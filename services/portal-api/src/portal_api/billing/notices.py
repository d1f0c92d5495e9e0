"""The billing e-mails (payment failed, connection paused, plan limit reached), sent through
the outbox (only if the change that causes them commits) as notifications: the person's
"Billing" preference and the daily limit apply to them as to every other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.auth.models import User
from portal_api.connections.models import Connection
from portal_api.notifications.service import Kind, about_connection


@dataclass(frozen=True)
class BillingNotice:
    """One billing e-mail: what happened and what it means (`text`), and the one thing to do
    about it on a page of the portal (`page`, under its web address)."""

    kind: Kind
    subject: str
    text: str
    action: str
    page: str


def _day(moment: datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def payment_failed(reason: str, retry_at: datetime, paused_after: datetime) -> BillingNotice:
    text = (
        f"We could not take this month's payment: {reason}\n\nSyncing goes on for now. We will "
        f"try again on {_day(retry_at)}. If no payment has gone through by "
        f"{_day(paused_after)}, syncing pauses (nothing is deleted)."
    )
    return BillingNotice("payment_failed", "payment failed", text, "Update your card", "/billing")


def connection_paused() -> BillingNotice:
    text = (
        "No payment went through during the grace period, so syncing is paused. Nothing is "
        "deleted: add a card that pays and syncing starts again."
    )
    return BillingNotice(
        "payment_failed", "syncing is paused", text, "Update your card", "/billing"
    )


def plan_limit_reached(connection: Connection, limit: int, until: datetime) -> BillingNotice:
    text = (
        f"This connection has sent {limit} invoices to Xero this month, its plan's limit. New "
        f"invoices wait (nothing is dropped) until {_day(until)}, or until you choose a bigger "
        "plan; payments still flow back to Dynamics 365."
    )
    page = f"/connections/{connection.id}"
    return BillingNotice(
        "plan_limit", "plan's invoice limit reached", text, "Change the plan", page
    )


async def send(
    session: AsyncSession, user: User, connection: Connection, notice: BillingNotice, web_url: str
) -> None:
    body = f"{notice.text}\n\n{notice.action}: {web_url}{notice.page}"
    await about_connection(
        session, user, connection, notice.kind, notice.subject, body, web_url, once_a_day=False
    )
