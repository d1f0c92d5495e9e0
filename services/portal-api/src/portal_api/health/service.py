"""The signals each connection's health is computed from, read in a few queries for a list."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.activity.models import Invoice, SyncRun
from portal_api.connections.service import ConnectionState
from portal_api.health.rules import Signals, health
from portal_api.health.schemas import HealthOut
from portal_api.kit.time import aware, utcnow

PAUSED_BY_BILLING = "paused"  # the subscription status billing sets while dunning gives up
PAYMENT_OVERDUE = "past_due"  # a renewal failed and is retried in the grace period


async def health_of(
    session: AsyncSession, states: list[ConnectionState]
) -> dict[uuid.UUID, HealthOut]:
    ids = [state.connection.id for state in states]
    counts: dict[tuple[uuid.UUID, str], int] = {}
    last_errors: dict[uuid.UUID, str | None] = {}
    if ids:
        rows = await session.execute(
            select(Invoice.connection_id, Invoice.outcome, func.count())
            .where(
                Invoice.connection_id.in_(ids),
                Invoice.outcome.in_(("failed", "not_written_back")),
            )
            .group_by(Invoice.connection_id, Invoice.outcome)
        )
        counts = {(cid, outcome): count for cid, outcome, count in rows.all()}
        newest = (
            select(
                SyncRun.connection_id,
                SyncRun.error,
                func.row_number()
                .over(partition_by=SyncRun.connection_id, order_by=SyncRun.finished_at.desc())
                .label("rank"),
            )
            .where(SyncRun.connection_id.in_(ids))
            .subquery()
        )
        last = await session.execute(
            select(newest.c.connection_id, newest.c.error).where(newest.c.rank == 1)
        )
        last_errors = {row[0]: row[1] for row in last.all()}
    return {
        state.connection.id: health(
            signals(
                state,
                failed=counts.get((state.connection.id, "failed"), 0),
                not_written_back=counts.get((state.connection.id, "not_written_back"), 0),
                last_run_error=last_errors.get(state.connection.id),
            )
        )
        for state in states
    }


async def health_of_one(session: AsyncSession, state: ConnectionState) -> HealthOut:
    return (await health_of(session, [state]))[state.connection.id]


def signals(
    state: ConnectionState, *, failed: int, not_written_back: int, last_run_error: str | None
) -> Signals:
    c, s = state.connection, state.subscription
    return Signals(
        archived=c.archived_at is not None,
        billing_paused=s is not None and s.status == PAUSED_BY_BILLING,
        xero_connected=c.xero_connected,
        xero_revoked=c.xero_error is not None,
        xero_organisation_chosen=c.xero_tenant_id is not None,
        dynamics_connected=c.dynamics_connected,
        dynamics_revoked=c.dynamics_error is not None,
        dynamics_organisation_chosen=c.dynamics_org_url is not None,
        tables_installed=c.tables_installed,
        missing_privileges=tuple(c.missing_privileges or ()),
        plan_active=state.plan_active,
        trial_left=None
        if state.subscription_active or not state.trial_active
        else aware(state.trial_ends_at) - utcnow(),
        payment_overdue=s is not None and s.status == PAYMENT_OVERDUE,
        invoices_paused_until=paused.date() if (paused := state.invoices_paused_until) else None,
        failed_invoices=failed,
        not_written_back=not_written_back,
        last_run_error=last_run_error,
    )
