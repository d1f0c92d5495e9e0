"""payment-sync's message handlers: connection events, polling jobs, webhook changes and
reference-data refreshes, each one run with its own vendor clients and one report.

Every run ends in one transaction that records its effect (the cursor moves, the reference data
is marked refreshed) and puts its `SyncRunCompleted` in the outbox, so the report goes out only
with the state it describes. A run that cannot proceed until a person acts (re-authorise, a
missing connector record) is reported with `error` and acknowledged; anything transient raises
for the bus's retries, and nothing has moved.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from dxc_shared.bus import MessageContext
from dxc_shared.clients.dataverse import DataverseError
from dxc_shared.clients.xero_accounting import XeroUnauthorised, parse_xero_date
from dxc_shared.credentials import CredentialMissing, ReauthorisationNeeded
from dxc_shared.db import Database
from dxc_shared.logging import get_logger
from dxc_shared.messages import (
    ConnectionArchived,
    ConnectionChanged,
    ConnectionSyncProfile,
    ReferenceDataRefreshRequested,
    SyncPaymentsJob,
    SyncRunCompleted,
    XeroChangesNotified,
)
from dxc_shared.outbox import enqueue
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from payment_sync.changes import ChangeWriter, XeroChanges
from payment_sync.dynamics import WriteOutcome
from payment_sync.metrics import JOB_DURATION
from payment_sync.models import PaymentSyncConnection, PaymentSyncCursor
from payment_sync.reference import mirror_reference_data
from payment_sync.vendors import ConnectionUnusable, VendorFactory, Vendors

logger = get_logger(__name__)

INVOICES_CURSOR = "invoices"
BALANCES_CURSOR = "balances"  # when every linked customer's balances were last refreshed
# Xero's If-Modified-Since has whole seconds and excludes its own second: read one second back
# (what is read twice is written once, since only differences are written).
CURSOR_OVERLAP = timedelta(seconds=1)

Clock = Callable[[], datetime]
Direction = Literal["payments", "reference-data"]


@dataclass
class RunResult:
    outcome: WriteOutcome
    cursor: datetime | None = None
    balances_refreshed: bool = False


Work = Callable[[Vendors], Awaitable[RunResult]]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class PaymentSync:
    def __init__(
        self,
        database: Database,
        vendors: VendorFactory,
        *,
        xero_web_url: str,
        reference_data_interval: timedelta,
        balances_refresh_interval: timedelta,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._database = database
        self._vendors = vendors
        self._web_url = xero_web_url
        self._reference_interval = reference_data_interval
        self._balances_interval = balances_refresh_interval
        self._clock = clock
        # Runs of one connection (a polling job and a webhook batch) take turns in a replica.
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}

    # -- connections -----------------------------------------------------------------------

    async def on_connection_changed(self, message: ConnectionChanged, _: MessageContext) -> None:
        profile = message.profile
        async with self._database.unit_of_work() as session:
            row = await session.get(PaymentSyncConnection, profile.connection_id)
            if row is None:
                row = PaymentSyncConnection(
                    connection_id=profile.connection_id,
                    profile=profile.model_dump(mode="json"),
                    syncable=False,
                )
                session.add(row)
            tenant_id = profile.xero_tenant_id.lower() if profile.xero_tenant_id else None
            new_tenant = row.xero_tenant_id != tenant_id
            if new_tenant:
                row.xero_short_code = None
                await session.execute(
                    delete(PaymentSyncCursor).where(
                        PaymentSyncCursor.connection_id == profile.connection_id
                    )
                )
            connected = message.syncable and (new_tenant or not row.syncable)
            row.xero_tenant_id = tenant_id
            row.profile = profile.model_dump(mode="json")
            row.syncable = message.syncable
            if connected:
                row.reference_data_due_at = self._clock() + self._reference_interval
                enqueue(
                    session,
                    ReferenceDataRefreshRequested(connection_id=profile.connection_id),
                    headers={"connection_id": str(profile.connection_id)},
                )

    async def on_connection_archived(self, message: ConnectionArchived, _: MessageContext) -> None:
        async with self._database.unit_of_work() as session:
            for model in (PaymentSyncCursor, PaymentSyncConnection):
                await session.execute(
                    delete(model).where(model.connection_id == message.connection_id)
                )

    async def _profile(self, connection_id: uuid.UUID) -> ConnectionSyncProfile | None:
        async with self._database.unit_of_work() as session:
            row = await session.get(PaymentSyncConnection, connection_id)
            if row is None or not row.syncable:
                return None
            return ConnectionSyncProfile.model_validate(row.profile)

    # -- polling ---------------------------------------------------------------------------

    async def on_sync_payments_job(self, job: SyncPaymentsJob, _: MessageContext) -> None:
        profile = job.profile
        async with self._database.unit_of_work() as session:
            cursor = await session.get(PaymentSyncCursor, (profile.connection_id, INVOICES_CURSOR))
            since = _aware(cursor.modified_since) - CURSOR_OVERLAP if cursor else None
            balances = await session.get(
                PaymentSyncCursor, (profile.connection_id, BALANCES_CURSOR)
            )
            balances_due = (
                balances is None
                or _aware(balances.modified_since) + self._balances_interval <= self._clock()
            )

        async def work(vendors: Vendors) -> RunResult:
            changed = await vendors.xero.invoices(where='Type=="ACCREC"', modified_since=since)
            stamps = [parse_xero_date(invoice.get("UpdatedDateUTC")) for invoice in changed]
            newest = max((stamp for stamp in stamps if stamp), default=None)
            writer = self._writer(vendors, profile)
            outcome = await writer.write_back(XeroChanges.of(invoices_read=changed))
            if balances_due:
                outcome.add(await writer.refresh_all_balances())
            return RunResult(outcome, newest, balances_refreshed=balances_due)

        await self._run("poll", "payments", profile, job.job_id, work)

    # -- webhooks --------------------------------------------------------------------------

    async def on_xero_changes(self, message: XeroChangesNotified, context: MessageContext) -> None:
        profile = await self._profile(message.connection_id)
        tenant_id = (profile.xero_tenant_id or "").lower() if profile else None
        if profile is None or tenant_id != message.tenant_id.lower():
            logger.info("payment_sync.webhook_changes_ignored", reason="connection not syncable")
            return
        changes = XeroChanges.of(message.invoice_ids, message.contact_ids)

        async def work(vendors: Vendors) -> RunResult:
            return RunResult(await self._writer(vendors, profile).write_back(changes))

        job_id = uuid.uuid5(uuid.NAMESPACE_URL, f"xero-webhook:{context.message_id}")
        await self._run("webhook", "payments", profile, job_id, work)

    # -- reference data --------------------------------------------------------------------

    async def on_reference_data_requested(
        self, message: ReferenceDataRefreshRequested, _: MessageContext
    ) -> None:
        profile = await self._profile(message.connection_id)
        if profile is None:
            logger.info("payment_sync.reference_data_ignored", reason="connection not syncable")
            return

        async def work(vendors: Vendors) -> RunResult:
            return RunResult(
                await mirror_reference_data(vendors.xero, vendors.dataverse, profile.connection_id)
            )

        await self._run("reference-data", "reference-data", profile, uuid.uuid4(), work)

    async def request_due_reference_data(self, batch_size: int = 100) -> int:
        """Ask for a refresh of every connection whose reference data is due; returns how
        many. Rows are locked and skipped by other replicas, and rescheduled in the same
        transaction that writes the requests."""
        now = self._clock()
        async with self._database.unit_of_work() as session:
            due = (
                await session.scalars(
                    select(PaymentSyncConnection)
                    .where(
                        PaymentSyncConnection.syncable,
                        PaymentSyncConnection.reference_data_due_at <= now,
                    )
                    .order_by(PaymentSyncConnection.reference_data_due_at)
                    .limit(batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in due:
                row.reference_data_due_at = now + self._reference_interval
                enqueue(
                    session,
                    ReferenceDataRefreshRequested(connection_id=row.connection_id),
                    headers={"connection_id": str(row.connection_id)},
                )
        return len(due)

    async def run_reference_schedule(self, tick_seconds: float) -> None:
        while True:
            requested = await self.request_due_reference_data()
            if requested:
                logger.info("payment_sync.reference_data_requested", connections=requested)
            await asyncio.sleep(tick_seconds)

    # -- one run ---------------------------------------------------------------------------

    def _writer(self, vendors: Vendors, profile: ConnectionSyncProfile) -> ChangeWriter:
        async def short_code() -> str | None:
            return await self._short_code(profile.connection_id, vendors)

        return ChangeWriter(
            vendors.xero, vendors.dataverse, web_url=self._web_url, short_code=short_code
        )

    async def _short_code(self, connection_id: uuid.UUID, vendors: Vendors) -> str | None:
        async with self._database.unit_of_work() as session:
            row = await session.get(PaymentSyncConnection, connection_id)
            if row is not None and row.xero_short_code:
                return row.xero_short_code
        code = (await vendors.xero.organisation()).get("ShortCode")
        if code:
            async with self._database.unit_of_work() as session:
                row = await session.get(PaymentSyncConnection, connection_id)
                if row is not None:
                    row.xero_short_code = str(code)
        return str(code) if code else None

    async def _run(
        self,
        kind: str,
        direction: Direction,
        profile: ConnectionSyncProfile,
        job_id: uuid.UUID,
        work: Work,
    ) -> None:
        lock = self._locks.setdefault(profile.connection_id, asyncio.Lock())
        async with lock:
            await self._run_locked(kind, direction, profile, job_id, work)

    async def _run_locked(
        self,
        kind: str,
        direction: Direction,
        profile: ConnectionSyncProfile,
        job_id: uuid.UUID,
        work: Work,
    ) -> None:
        started_at = self._clock()
        started = time.perf_counter()
        error: str | None = None
        result = RunResult(WriteOutcome())
        try:
            result = await work(self._vendors.for_connection(profile))
        except ConnectionUnusable as unusable:
            error = unusable.message
        except ReauthorisationNeeded as needed:
            error = needed.message
        except CredentialMissing:
            error = "Connect Xero and Dynamics 365 again in the portal: a grant is missing."
        except XeroUnauthorised as refused:
            error = f"Xero refused access to the organisation ({refused.message}); reconnect Xero."
        except DataverseError as refused:
            if refused.status not in (401, 403):
                raise
            error = f"Dynamics 365 refused access ({refused.message}); check the user's roles."
        finally:
            JOB_DURATION.labels(kind).observe(time.perf_counter() - started)
        if error:
            logger.warning("payment_sync.run_blocked", kind=kind, error=error)
        async with self._database.unit_of_work() as session:
            if result.cursor is not None:
                await self._advance(session, profile.connection_id, INVOICES_CURSOR, result.cursor)
            if result.balances_refreshed:
                await self._advance(session, profile.connection_id, BALANCES_CURSOR, started_at)
            if kind == "reference-data" and error is None:
                row = await session.get(PaymentSyncConnection, profile.connection_id)
                if row is not None:
                    row.reference_data_refreshed_at = self._clock()
            enqueue(
                session,
                SyncRunCompleted(
                    connection_id=profile.connection_id,
                    job_id=job_id,
                    direction=direction,
                    started_at=started_at,
                    finished_at=self._clock(),
                    succeeded=result.outcome.succeeded,
                    failed=len(result.outcome.failures),
                    failures=result.outcome.failures,
                    error=error,
                ),
                headers={"connection_id": str(profile.connection_id)},
            )

    async def _advance(
        self, session: AsyncSession, connection_id: uuid.UUID, resource: str, newest: datetime
    ) -> None:
        """Move a cursor forward only (a slower run never moves it back)."""
        cursor = await session.get(
            PaymentSyncCursor, (connection_id, resource), with_for_update=True
        )
        if cursor is None:
            session.add(
                PaymentSyncCursor(
                    connection_id=connection_id, resource=resource, modified_since=newest
                )
            )
        elif _aware(cursor.modified_since) < newest:
            cursor.modified_since = newest
