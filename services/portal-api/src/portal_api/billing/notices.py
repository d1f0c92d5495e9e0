"""The billing e-mails (payment failed, connection paused, plan limit reached), sent through
the outbox (only if the change that causes them commits) as notifications: the person's
"Billing" preference and the daily limit apply to them as to every other."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.auth.models import User
from portal_api.connections.models import Connection
from portal_api.notifications.service import Kind, notify


def _day(moment: datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


async def _send(
    session: AsyncSession,
    user: User,
    connection: Connection,
    kind: Kind,
    *,
    subject: str,
    text: str,
    action: str,
    web_url: str,
) -> None:
    """Every billing e-mail: what happened and what it means, one link to act."""
    await notify(
        session,
        user,
        kind,
        connection_id=connection.id,
        subject=subject,
        text=f"{text}\n\n{action}",
        web_url=web_url,
    )


async def payment_failed(
    session: AsyncSession,
    user: User,
    connection: Connection,
    *,
    reason: str,
    retry_at: datetime,
    paused_after: datetime,
    web_url: str,
) -> None:
    await _send(
        session,
        user,
        connection,
        "payment_failed",
        subject=f"Payment failed for {connection.name}",
        text=f"We could not take this month's payment for the connection '{connection.name}': "
        f"{reason}\n\n"
        f"Syncing goes on for now. We will try again on {_day(retry_at)}. If no payment has "
        f"gone through by {_day(paused_after)}, syncing pauses (nothing is deleted).",
        action=f"Update your card: {web_url}/billing",
        web_url=web_url,
    )


async def connection_paused(
    session: AsyncSession, user: User, connection: Connection, *, web_url: str
) -> None:
    await _send(
        session,
        user,
        connection,
        "payment_failed",
        subject=f"{connection.name} is paused: payment needed",
        text=f"No payment for the connection '{connection.name}' went through during the grace "
        "period, so syncing is paused. Nothing is deleted: add a card that pays and syncing "
        "starts again.",
        action=f"Update your card: {web_url}/billing",
        web_url=web_url,
    )


async def plan_limit_reached(
    session: AsyncSession,
    user: User,
    connection: Connection,
    *,
    limit: int,
    until: datetime,
    web_url: str,
) -> None:
    await _send(
        session,
        user,
        connection,
        "plan_limit",
        subject=f"{connection.name} reached its plan's invoice limit",
        text=f"The connection '{connection.name}' has sent {limit} invoices to Xero this month, "
        f"its plan's limit. New invoices wait (nothing is dropped) until {_day(until)}, or "
        "until you choose a bigger plan; payments still flow back to Dynamics 365.",
        action=f"Change the plan: {web_url}/connections/{connection.id}",
        web_url=web_url,
    )
