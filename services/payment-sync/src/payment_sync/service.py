"""payment-sync's message handlers: connection events, polling jobs, webhook changes and
reference-data refreshes; each sync is one run (`runs.py`) with its own vendor clients and one
report."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime, timedelta

from dxc_shared.bus import MessageContext
from dxc_shared.db import Database
from dxc_shared.logging import get_logger
from dxc_shared.messages import (
    ConnectionArchived,
    ConnectionChanged,
    ConnectionSyncProfile,
    ReferenceDataRefreshRequested,
    SyncPaymentsJob,
    XeroChangesNotified,
)
from dxc_shared.sync import RunReport, VendorFactory, Vendors
from dxc_shared.xero_budget.decisions import Priority
from sqlalchemy.ext.asyncio import AsyncSession

from payment_sync.connections import repository as connection_rows
from payment_sync.connections import service as connections
from payment_sync.payments.schemas import XeroChanges
from payment_sync.payments.service import Polling, PollWindow
from payment_sync.payments.writer import ChangeWriter
from payment_sync.reference import service as reference
from payment_sync.runs import Effect, Runs
from payment_sync.webhooks.coalescer import Coalescer

logger = get_logger(__name__)

Clock = Callable[[], datetime]


@dataclass(eq=False)  # a service: compared by identity
class PaymentSync:
    database: Database
    vendors: VendorFactory
    _: KW_ONLY
    xero_web_url: str
    reference_data_interval: timedelta
    balances_refresh_interval: timedelta
    webhook_coalesce_seconds: float = 10.0
    clock: Clock = field(default=lambda: datetime.now(UTC))
    notified: Coalescer = field(init=False)

    def __post_init__(self) -> None:
        self._runs = Runs(self.database, self.vendors, self.clock)
        self.notified = Coalescer(self._read_notified, self.webhook_coalesce_seconds)

    # -- connections -----------------------------------------------------------------------

    async def on_connection_changed(self, message: ConnectionChanged, _: MessageContext) -> None:
        async with self.database.unit_of_work() as session:
            await connections.record_change(
                session, message, self.clock(), self.reference_data_interval
            )

    async def on_connection_archived(self, message: ConnectionArchived, _: MessageContext) -> None:
        async with self.database.unit_of_work() as session:
            await connections.forget(session, message.connection_id)

    async def _profile(self, connection_id: uuid.UUID) -> ConnectionSyncProfile | None:
        async with self.database.unit_of_work() as session:
            return await connection_rows.syncable_profile(session, connection_id)

    # -- payments --------------------------------------------------------------------------

    async def on_sync_payments_job(self, job: SyncPaymentsJob, _: MessageContext) -> None:
        profile = job.profile
        async with self.database.unit_of_work() as session:
            window = await PollWindow.of(
                session, profile.connection_id, self.clock(), self.balances_refresh_interval
            )
        work = Polling(profile.connection_id, window, self._writer_for(profile))
        await self._runs.run("poll", "payments", profile, job.job_id, work)

    async def on_xero_changes(self, message: XeroChangesNotified, _: MessageContext) -> None:
        profile = await self._profile(message.connection_id)
        tenant_id = (profile.xero_tenant_id or "").lower() if profile else None
        if profile is None or tenant_id != message.tenant_id.lower():
            logger.info("payment_sync.webhook_changes_ignored", reason="connection not syncable")
            return
        self.notified.add(profile, XeroChanges.of(message.invoice_ids, message.contact_ids))

    async def _read_notified(self, profile: ConnectionSyncProfile, changes: XeroChanges) -> None:
        """One run for the notifications gathered (see `webhooks.coalescer`): what changed since
        the cursor, the notified invoices among it; balances wait for their own interval."""
        async with self.database.unit_of_work() as session:
            window = await PollWindow.of(
                session, profile.connection_id, self.clock(), self.balances_refresh_interval
            )
        window = PollWindow(window.since, balances_due=False)
        work = Polling(profile.connection_id, window, self._writer_for(profile), changes)
        await self._runs.run("webhook", "payments", profile, uuid.uuid4(), work)

    def _writer_for(self, profile: ConnectionSyncProfile) -> Callable[[Vendors], ChangeWriter]:
        def writer(vendors: Vendors) -> ChangeWriter:
            async def short_code() -> str | None:
                return await connections.short_code(
                    self.database, profile.connection_id, vendors.xero
                )

            return ChangeWriter(vendors, profile.connection_id, self.xero_web_url, short_code)

        return writer

    # -- reference data --------------------------------------------------------------------

    async def on_reference_data_requested(
        self, message: ReferenceDataRefreshRequested, _: MessageContext
    ) -> None:
        profile = await self._profile(message.connection_id)
        if profile is None:
            logger.info("payment_sync.reference_data_ignored", reason="connection not syncable")
            return
        connection_id = profile.connection_id

        async def work(vendors: Vendors, report: RunReport) -> Effect:
            await reference.mirror_reference_data(
                vendors.xero, vendors.dataverse, connection_id, report
            )

            async def note_refreshed(session: AsyncSession) -> None:
                await reference.mark_refreshed(session, connection_id, self.clock())

            return note_refreshed

        await self._runs.run(
            "reference-data", "reference-data", profile, uuid.uuid4(), work, Priority.REFERENCE
        )

    async def request_due_reference_data(self, batch_size: int = 100) -> int:
        """Ask for a refresh of every connection whose reference data is due; returns how
        many (see `reference.service.request_due_refreshes`)."""
        return await reference.request_due_refreshes(
            self.database, self.clock(), self.reference_data_interval, batch_size
        )

    async def run_reference_schedule(self, tick_seconds: float) -> None:
        while True:
            requested = await self.request_due_reference_data()
            if requested:
                logger.info("payment_sync.reference_data_requested", connections=requested)
            await asyncio.sleep(tick_seconds)
