"""Keeping schedules and dispatching due connections.

Every replica runs the same tick. Due rows are taken with `FOR UPDATE SKIP LOCKED`, so two
replicas never dispatch the same connection in the same interval, and each row's next due time
moves forward in the same transaction that writes its jobs to the outbox: a crash either
dispatches and reschedules, or does neither. Nothing is kept in memory, so a restart loses no
schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from dxc_shared.bus import MessageContext
from dxc_shared.db import Database
from dxc_shared.logging import get_logger
from dxc_shared.messages import (
    ConnectionArchived,
    ConnectionChanged,
    ConnectionSyncProfile,
    SyncInvoicesJob,
    SyncPaymentsJob,
    SyncRequested,
)
from dxc_shared.outbox import enqueue_all
from prometheus_client import Counter, Histogram
from sqlalchemy import delete, or_, select, update

from scheduler.models import ConnectionSchedule

logger = get_logger(__name__)

JOBS_DISPATCHED = Counter(
    "dxc_scheduler_jobs_dispatched_total", "Sync jobs dispatched, by kind", ["kind"]
)
DISPATCH_LAG = Histogram(
    "dxc_scheduler_dispatch_lag_seconds",
    "How late a connection was dispatched after it fell due",
    buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 300),
)
TICK_DURATION = Histogram(
    "dxc_scheduler_tick_duration_seconds", "Time one tick took to dispatch every due connection"
)

Clock = Callable[[], datetime]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _not_now(schedule: ConnectionSchedule | None, now: datetime) -> str | None:
    """Why a sync request is not acted on, or None."""
    if schedule is None or not schedule.syncable:
        return "not syncable"
    if schedule.active_until and _aware(schedule.active_until) <= now:
        return "trial over"
    return None


def _invoices_paused(until: datetime | None, now: datetime) -> datetime | None:
    """At the plan's invoice limit, until when: the invoice job sends none and tells each
    invoice handed over when it goes."""
    return _aware(until) if until is not None and _aware(until) > now else None


class Scheduler:
    def __init__(
        self,
        database: Database,
        *,
        batch_size: int = 500,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._database = database
        self._batch_size = batch_size
        self._clock = clock
        self.wake = asyncio.Event()

    async def on_connection_changed(self, message: ConnectionChanged, _: MessageContext) -> None:
        profile = message.profile
        async with self._database.unit_of_work() as session:
            schedule = await session.get(ConnectionSchedule, profile.connection_id)
            if schedule is None:
                schedule = ConnectionSchedule(
                    connection_id=profile.connection_id, next_due_at=self._clock()
                )
                session.add(schedule)
            elif message.syncable and not schedule.syncable:
                schedule.next_due_at = self._clock()  # newly ready: sync at once
            schedule.profile = profile.model_dump(mode="json")
            schedule.syncable = message.syncable
            schedule.active_until = message.active_until
            schedule.invoices_paused_until = message.invoices_paused_until
        if message.syncable:
            self.wake.set()

    async def on_connection_archived(self, message: ConnectionArchived, _: MessageContext) -> None:
        async with self._database.unit_of_work() as session:
            await session.execute(
                delete(ConnectionSchedule).where(
                    ConnectionSchedule.connection_id == message.connection_id
                )
            )

    async def on_sync_requested(self, message: SyncRequested, _: MessageContext) -> None:
        now = self._clock()
        async with self._database.unit_of_work() as session:
            schedule = await session.get(ConnectionSchedule, message.connection_id)
            reason = _not_now(schedule, now)
            if reason is not None or schedule is None:
                logger.info("scheduler.sync_request_ignored", reason=reason)
                return
            if message.invoices_only:  # pushed from Dynamics: the export job alone, now
                profile = ConnectionSyncProfile.model_validate(schedule.profile)
                job = SyncInvoicesJob(
                    job_id=uuid.uuid4(),
                    profile=profile,
                    due_at=now,
                    invoices_paused_until=_invoices_paused(schedule.invoices_paused_until, now),
                )
                await enqueue_all(session, [(job, {"connection_id": str(profile.connection_id)})])
                JOBS_DISPATCHED.labels("invoices").inc()
                return
            schedule.next_due_at = now
        self.wake.set()

    async def dispatch_due(self) -> int:
        """Dispatch every connection due now; returns how many were dispatched."""
        started = time.perf_counter()
        dispatched = 0
        while True:
            batch = await self._dispatch_batch()
            dispatched += batch
            if batch < self._batch_size:
                break
        TICK_DURATION.observe(time.perf_counter() - started)
        return dispatched

    async def _dispatch_batch(self) -> int:
        # Plain rows and bulk statements rather than ORM objects: a tick may dispatch thousands.
        now = self._clock()
        async with self._database.unit_of_work() as session:
            due = (
                await session.execute(
                    select(ConnectionSchedule.connection_id, ConnectionSchedule.profile)
                    .add_columns(
                        ConnectionSchedule.next_due_at, ConnectionSchedule.invoices_paused_until
                    )
                    .where(
                        ConnectionSchedule.syncable,
                        ConnectionSchedule.next_due_at <= now,
                        or_(
                            ConnectionSchedule.active_until.is_(None),
                            ConnectionSchedule.active_until > now,
                        ),
                    )
                    .order_by(ConnectionSchedule.next_due_at)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            jobs: list[tuple[SyncInvoicesJob | SyncPaymentsJob, dict[str, str]]] = []
            rescheduled: list[dict[str, object]] = []
            for connection_id, profile_json, next_due_at, invoices_paused_until in due:
                profile = ConnectionSyncProfile.model_validate(profile_json)
                DISPATCH_LAG.observe((now - _aware(next_due_at)).total_seconds())
                headers = {"connection_id": str(connection_id)}
                # At the plan's invoice limit payments still flow back.
                invoices = SyncInvoicesJob(
                    job_id=uuid.uuid4(),
                    profile=profile,
                    due_at=next_due_at,
                    invoices_paused_until=_invoices_paused(invoices_paused_until, now),
                )
                payments = SyncPaymentsJob(job_id=uuid.uuid4(), profile=profile, due_at=next_due_at)
                jobs += [(invoices, headers), (payments, headers)]
                rescheduled.append(
                    {
                        "connection_id": connection_id,
                        "next_due_at": now + timedelta(seconds=profile.sync_interval_seconds),
                        "last_dispatched_at": now,
                    }
                )
            await enqueue_all(session, jobs)
            if rescheduled:
                await session.execute(update(ConnectionSchedule), rescheduled)
        JOBS_DISPATCHED.labels("invoices").inc(len(due))
        JOBS_DISPATCHED.labels("payments").inc(len(due))
        return len(due)

    async def run(self, tick_seconds: float) -> None:
        """The background loop: dispatch on every tick, or at once when woken."""
        while True:
            self.wake.clear()
            dispatched = await self.dispatch_due()
            if dispatched:
                logger.info("scheduler.dispatched", connections=dispatched)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=tick_seconds)
