"""The home page's figures for one connection: this month's invoices against the plan's limit
(the count the limit is enforced on), open failures, the median lag measured by invoice-sync
per exported invoice, the last successful run and the daily volume.

Volume and lag come from the invoices' "exported" history steps (kept 90 days, longer than the
period shown), not from the runs, of which only the newest 200 are kept."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.activity.models import Invoice, InvoiceEvent, SyncRun
from portal_api.activity.schemas import DailyVolume, OverviewOut
from portal_api.activity.service import open_failures
from portal_api.billing.usage import usage_now
from portal_api.connections.service import ConnectionState
from portal_api.kit.time import aware, utcnow

PERIOD = timedelta(days=30)


def median_lag(lags: Iterable[float | None]) -> float | None:
    """The median of the reported lags; exports with none reported (older workers, links
    recovered without a hand-over moment) are left out. None when nothing was reported."""
    known = [lag for lag in lags if lag is not None]
    return statistics.median(known) if known else None


def daily_volume(exported_at: Iterable[datetime], today: date) -> list[DailyVolume]:
    """Invoices sent per UTC day, for each of the period's days up to `today`, oldest first;
    days with none are shown as 0 and moments outside the period are not counted."""
    days = {today - timedelta(days=n): 0 for n in reversed(range(PERIOD.days))}
    for moment in exported_at:
        day = aware(moment).date()
        if day in days:
            days[day] += 1
    return [DailyVolume(day=day, invoices=count) for day, count in days.items()]


async def overview(session: AsyncSession, state: ConnectionState) -> OverviewOut:
    connection = state.connection
    now = utcnow()
    exports = (
        await session.execute(
            select(InvoiceEvent.at, InvoiceEvent.lag_seconds)
            .join(Invoice, Invoice.id == InvoiceEvent.invoice_id)
            .where(
                Invoice.connection_id == connection.id,
                InvoiceEvent.outcome == "exported",
                InvoiceEvent.at > now - PERIOD,
            )
        )
    ).all()
    last_run = await session.scalar(
        select(func.max(SyncRun.finished_at)).where(
            SyncRun.connection_id == connection.id,
            SyncRun.direction == "invoices",
            SyncRun.succeeded > 0,
        )
    )
    usage = await usage_now(session, connection)
    return OverviewOut(
        synced_this_month=usage.exported,
        plan_limit=usage.limit,
        open_failures=await open_failures(session, connection.id),
        median_lag_seconds=median_lag(lag for _, lag in exports),
        last_successful_run_at=aware(last_run) if last_run is not None else None,
        daily=daily_volume((at for at, _ in exports), now.date()),
    )
