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
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime

from dxc_shared.bus import MessageContext
from dxc_shared.db import Database
from dxc_shared.logging import get_logger
from dxc_shared.messages import (
    ConnectionArchived,
    ConnectionChanged,
    ConnectionSyncProfile,
    Hold,
    SyncInvoicesJob,
    SyncPaymentsJob,
    SyncRequested,
    hold,
)
from dxc_shared.outbox import enqueue_all
from prometheus_client import Counter, Histogram
from sqlalchemy import delete, select, update

from scheduler import jobs
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


def _aware_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else _aware(moment)


def _hold_of(schedule: ConnectionSchedule, now: datetime) -> Hold:
    return hold(
        _aware_or_none(schedule.active_until), _aware_or_none(schedule.invoices_paused_until), now
    )


def _not_now(schedule: ConnectionSchedule | None, now: datetime) -> str | None:
    """Why a "sync now" is not acted on, or None."""
    if schedule is None or not schedule.syncable:
        return "not syncable"
    if schedule.active_until and _aware(schedule.active_until) <= now:
        return "trial over"
    return None


@dataclass(eq=False)  # a service: compared by identity
class Scheduler:
    database: Database
    _: KW_ONLY
    batch_size: int = 500
    held_interval_seconds: float = 900.0
    clock: Clock = field(default=lambda: datetime.now(UTC))
    wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    async def on_connection_changed(self, message: ConnectionChanged, _: MessageContext) -> None:
        profile = message.profile
        # A set-up connection whose plan ended stays scheduled, for its held invoice jobs.
        scheduled = message.syncable or message.set_up
        now = self.clock()
        announced = hold(message.active_until, message.invoices_paused_until, now)
        async with self.database.unit_of_work() as session:
            schedule = await session.get(ConnectionSchedule, profile.connection_id)
            if schedule is None:
                schedule = ConnectionSchedule(connection_id=profile.connection_id, next_due_at=now)
                session.add(schedule)
            elif scheduled and (not schedule.syncable or announced != _hold_of(schedule, now)):
                # Newly ready, held or resumed: at once (held: the invoices hear why; resumed:
                # what waited is sent).
                schedule.next_due_at = now
                schedule.last_dispatched_at = None
            schedule.profile = profile.model_dump(mode="json")
            schedule.syncable = scheduled
            schedule.active_until = message.active_until
            schedule.invoices_paused_until = message.invoices_paused_until
        if scheduled:
            self.wake.set()

    async def on_connection_archived(self, message: ConnectionArchived, _: MessageContext) -> None:
        async with self.database.unit_of_work() as session:
            await session.execute(
                delete(ConnectionSchedule).where(
                    ConnectionSchedule.connection_id == message.connection_id
                )
            )

    async def on_sync_requested(self, message: SyncRequested, _: MessageContext) -> None:
        now = self.clock()
        async with self.database.unit_of_work() as session:
            schedule = await session.get(ConnectionSchedule, message.connection_id)
            if message.invoices_only:  # pushed from Dynamics: the export job alone, now
                if schedule is None or not schedule.syncable:
                    logger.info("scheduler.sync_request_ignored", reason="not syncable")
                    return
                # With the plan's dates: held, the job tells the invoices just handed over why
                # they wait, at once rather than at the next held dispatch.
                profile = ConnectionSyncProfile.model_validate(schedule.profile)
                job = SyncInvoicesJob(
                    job_id=uuid.uuid4(),
                    profile=profile,
                    due_at=now,
                    active_until=_aware_or_none(schedule.active_until),
                    invoices_paused_until=_aware_or_none(schedule.invoices_paused_until),
                )
                await enqueue_all(session, [(job, {"connection_id": str(profile.connection_id)})])
                JOBS_DISPATCHED.labels("invoices").inc()
                return
            reason = _not_now(schedule, now)
            if reason is not None or schedule is None:
                logger.info("scheduler.sync_request_ignored", reason=reason)
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
            if batch < self.batch_size:
                break
        TICK_DURATION.observe(time.perf_counter() - started)
        return dispatched

    async def _dispatch_batch(self) -> int:
        # Plain rows and bulk statements rather than ORM objects: a tick may dispatch thousands.
        now = self.clock()
        async with self.database.unit_of_work() as session:
            due = (
                await session.execute(
                    select(ConnectionSchedule.connection_id, ConnectionSchedule.profile)
                    .add_columns(
                        ConnectionSchedule.next_due_at,
                        ConnectionSchedule.last_dispatched_at,
                        ConnectionSchedule.active_until,
                        ConnectionSchedule.invoices_paused_until,
                    )
                    .where(ConnectionSchedule.syncable, ConnectionSchedule.next_due_at <= now)
                    .order_by(ConnectionSchedule.next_due_at)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            outgoing: list[tuple[SyncInvoicesJob | SyncPaymentsJob, dict[str, str]]] = []
            rescheduled: list[dict[str, object]] = []
            counts = {SyncInvoicesJob: 0, SyncPaymentsJob: 0}
            for row in due:
                profile = ConnectionSyncProfile.model_validate(row.profile)
                DISPATCH_LAG.observe((now - _aware(row.next_due_at)).total_seconds())
                active_until = _aware_or_none(row.active_until)
                paused_until = _aware_or_none(row.invoices_paused_until)
                plan = jobs.dispatch(
                    hold(active_until, paused_until, now),
                    now=now,
                    interval_seconds=profile.sync_interval_seconds,
                    held_interval_seconds=self.held_interval_seconds,
                    last_dispatched_at=_aware_or_none(row.last_dispatched_at),
                )
                headers = {"connection_id": str(row.connection_id)}
                for kind in plan.kinds:
                    counts[kind] += 1
                    if kind is SyncInvoicesJob:  # carries the plan: held, it only tells why
                        job: SyncInvoicesJob | SyncPaymentsJob = SyncInvoicesJob(
                            job_id=uuid.uuid4(),
                            profile=profile,
                            due_at=row.next_due_at,
                            active_until=active_until,
                            invoices_paused_until=paused_until,
                        )
                    else:
                        job = SyncPaymentsJob(
                            job_id=uuid.uuid4(), profile=profile, due_at=row.next_due_at
                        )
                    outgoing.append((job, headers))
                rescheduled.append(
                    {
                        "connection_id": row.connection_id,
                        "next_due_at": plan.next_due_at,
                        "last_dispatched_at": now,
                    }
                )
            await enqueue_all(session, outgoing)
            if rescheduled:
                await session.execute(update(ConnectionSchedule), rescheduled)
        JOBS_DISPATCHED.labels("invoices").inc(counts[SyncInvoicesJob])
        JOBS_DISPATCHED.labels("payments").inc(counts[SyncPaymentsJob])
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
