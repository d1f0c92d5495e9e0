"""The billing e-mails (payment failed, connection paused, plan limit reached), sent through
the outbox: only if the change that causes them commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.auth.models import User
from portal_api.connections.models import Connection
from portal_api.kit.email import enqueue_email


def _day(moment: datetime) -> str:
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def _send(session: AsyncSession, user: User, *, subject: str, text: str, action: str) -> None:
    """Every billing e-mail: a greeting, what happened and what it means, one link to act."""
    enqueue_email(
        session, to=user.email, subject=subject, body=f"Hello {user.name},\n\n{text}\n\n{action}\n"
    )


def payment_failed(
    session: AsyncSession,
    user: User,
    connection: Connection,
    *,
    reason: str,
    retry_at: datetime,
    paused_after: datetime,
    web_url: str,
) -> None:
    _send(
        session,
        user,
        subject=f"Payment failed for {connection.name}",
        text=f"We could not take this month's payment for the connection '{connection.name}': "
        f"{reason}\n\n"
        f"Syncing goes on for now. We will try again on {_day(retry_at)}. If no payment has "
        f"gone through by {_day(paused_after)}, syncing pauses (nothing is deleted).",
        action=f"Update your card: {web_url}/billing",
    )


def connection_paused(
    session: AsyncSession, user: User, connection: Connection, *, web_url: str
) -> None:
    _send(
        session,
        user,
        subject=f"{connection.name} is paused: payment needed",
        text=f"No payment for the connection '{connection.name}' went through during the grace "
        "period, so syncing is paused. Nothing is deleted: add a card that pays and syncing "
        "starts again.",
        action=f"Update your card: {web_url}/billing",
    )


def plan_limit_reached(
    session: AsyncSession,
    user: User,
    connection: Connection,
    *,
    limit: int,
    until: datetime,
    web_url: str,
) -> None:
    _send(
        session,
        user,
        subject=f"{connection.name} reached its plan's invoice limit",
        text=f"The connection '{connection.name}' has sent {limit} invoices to Xero this month, "
        f"its plan's limit. New invoices wait (nothing is dropped) until {_day(until)}, or "
        "until you choose a bigger plan; payments still flow back to Dynamics 365.",
        action=f"Change the plan: {web_url}/connections/{connection.id}",
    )
