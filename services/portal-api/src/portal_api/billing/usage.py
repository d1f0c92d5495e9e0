"""Plan limits: invoices exported to Xero are counted per calendar month from the workers' run
reports; at the plan's limit new invoices wait (the scheduler's invoice jobs only tell them
why) until the next month or a bigger plan. Nothing is dropped: waiting invoices keep export
status No and go at the next run after the limit lifts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dxc_shared.bus import MessageContext
from dxc_shared.db import Database
from dxc_shared.messages import SyncRunCompleted
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.auth.models import User
from portal_api.billing import notices
from portal_api.billing.models import CountedRun, InvoiceUsage
from portal_api.billing.plans import PLANS, add_month, month_start
from portal_api.connections import service as connections
from portal_api.connections.models import Connection
from portal_api.connections.service import ConnectionState
from portal_api.kit.time import aware, utcnow


@dataclass(frozen=True)
class UsageNow:
    month: datetime
    exported: int
    limit: int
    paused_until: datetime | None


async def usage_now(session: AsyncSession, connection: Connection) -> UsageNow:
    """This month's exported invoices against the connection's plan."""
    now = utcnow()
    month = month_start(now)
    usage = await session.get(InvoiceUsage, (connection.id, month))
    paused = connection.invoices_paused_until
    return UsageNow(
        month=month,
        exported=usage.exported if usage else 0,
        limit=PLANS[connection.plan].max_invoices_per_month,
        paused_until=aware(paused) if paused and aware(paused) > now else None,
    )


async def refresh_invoice_limit(
    session: AsyncSession, state: ConnectionState, web_url: str
) -> None:
    """Pause new invoices when this month's count is at the plan's limit, or lift the pause
    (after an upgrade); the caller announces the connection. The owner is e-mailed once a
    month when the limit is reached."""
    connection = state.connection
    now = utcnow()
    month = month_start(now)
    usage = await session.get(InvoiceUsage, (connection.id, month), with_for_update=True)
    limit = PLANS[connection.plan].max_invoices_per_month
    if usage is None or usage.exported < limit:
        connection.invoices_paused_until = None
        return
    connection.invoices_paused_until = add_month(month)
    if usage.limit_reached_at is None:
        usage.limit_reached_at = now
        user = await session.get(User, connection.user_id)
        assert user is not None
        notice = notices.plan_limit_reached(connection, limit, add_month(month))
        await notices.send(session, user, connection, notice, web_url)


class UsageHandlers:
    def __init__(self, database: Database, web_url: str) -> None:
        self._database = database
        self._web_url = web_url

    async def on_run_completed(self, message: SyncRunCompleted, _context: MessageContext) -> None:
        """Count the invoices a run exported, once per run whatever the redeliveries."""
        if message.direction != "invoices" or message.succeeded == 0:
            return
        async with self._database.unit_of_work() as session:
            connection = await session.get(Connection, message.connection_id, with_for_update=True)
            if connection is None:
                return
            if await session.get(CountedRun, message.job_id) is not None:
                return  # a redelivery
            session.add(CountedRun(job_id=message.job_id, connection_id=connection.id))
            month = month_start(aware(message.finished_at))
            usage = await session.get(InvoiceUsage, (connection.id, month), with_for_update=True)
            if usage is None:
                usage = InvoiceUsage(connection_id=connection.id, month=month, exported=0)
                session.add(usage)
            usage.exported += message.succeeded
            await session.flush()
            if connection.archived_at is not None:
                return
            user = await session.get(User, connection.user_id)
            assert user is not None
            state = await connections.state_of(session, user, connection)
            paused_before = connection.invoices_paused_until
            await refresh_invoice_limit(session, state, self._web_url)
            if connection.invoices_paused_until != paused_before:
                await connections.touch(session, state)
