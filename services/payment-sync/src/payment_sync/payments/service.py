"""The one way Xero's changes reach the change writer, for the polling job (every invoice
changed since the cursor, and every balance once per interval) and for webhook notifications
(the same read, gathered per connection by `webhooks.coalescer`, plus the ids Xero named that it
did not return). Each is a run's work: it writes through `ChangeWriter` and returns what its run
records with the report (the cursors it moves)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from dxc_shared.sync import RunReport, Vendors
from sqlalchemy.ext.asyncio import AsyncSession

from payment_sync.payments import repository
from payment_sync.payments.repository import BALANCES_CURSOR, INVOICES_CURSOR
from payment_sync.payments.schemas import XeroChanges
from payment_sync.payments.writer import ChangeWriter
from payment_sync.runs import Effect

# Xero's If-Modified-Since has whole seconds and excludes its own second: read one second back
# (what is read twice is written once, since only differences are written).
CURSOR_OVERLAP = timedelta(seconds=1)

WriterFor = Callable[[Vendors], ChangeWriter]


@dataclass(frozen=True)
class PollWindow:
    """What one polling run reads: invoices changed since `since` (every one when None), and
    every linked customer's balances when they are due."""

    since: datetime | None
    balances_due: bool

    @classmethod
    async def of(
        cls,
        session: AsyncSession,
        connection_id: uuid.UUID,
        now: datetime,
        balances_interval: timedelta,
    ) -> PollWindow:
        invoices = await repository.cursor(session, connection_id, INVOICES_CURSOR)
        balances = await repository.cursor(session, connection_id, BALANCES_CURSOR)
        return cls(
            since=invoices - CURSOR_OVERLAP if invoices else None,
            balances_due=balances is None or balances + balances_interval <= now,
        )


class Polling:
    """One polling run's work; a webhook run's too: Xero named `notified`, and the run reads
    everything changed since the cursor (one request for up to 1,000 invoices, which covers the
    notified invoices and any whose notification was lost), then only the notified invoices
    that read did not return (by id, 50 a request)."""

    def __init__(
        self,
        connection_id: uuid.UUID,
        window: PollWindow,
        writer: WriterFor,
        notified: XeroChanges | None = None,
    ) -> None:
        self._connection_id = connection_id
        self._window = window
        self._writer = writer
        self._notified = notified or XeroChanges.of()

    async def __call__(self, vendors: Vendors, report: RunReport) -> Effect:
        changed = await vendors.xero.invoices(
            where='Type=="ACCREC"', modified_since=self._window.since
        )
        stamps = [invoice.updated_date_utc for invoice in changed]
        newest = max((stamp for stamp in stamps if stamp), default=None)
        writer = self._writer(vendors)
        notified = self._notified
        changes = XeroChanges.of(notified.invoice_ids, notified.contact_ids, changed)
        await writer.write_back(changes, report)
        if self._window.balances_due:
            await writer.refresh_all_balances(report)
        balances_refreshed_at = report.started_at if self._window.balances_due else None

        async def move_cursors(session: AsyncSession) -> None:
            if newest is not None:
                await repository.advance(session, self._connection_id, INVOICES_CURSOR, newest)
            if balances_refreshed_at is not None:
                await repository.advance(
                    session, self._connection_id, BALANCES_CURSOR, balances_refreshed_at
                )

        return move_cursors
