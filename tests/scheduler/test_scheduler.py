"""The scheduler on PostgreSQL and RabbitMQ: connection events in, sync jobs out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from dxc_shared.bus import MessageContext, Subscription
from dxc_shared.bus.rabbitmq import RabbitMQBroker
from dxc_shared.db import Database
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.messages import (
    ConnectionArchived,
    ConnectionChanged,
    ConnectionSyncProfile,
    SyncInvoicesJob,
    SyncPaymentsJob,
    SyncRequested,
)
from dxc_shared.outbox import OutboxMessage
from scheduler.app import create_service
from scheduler.dispatch import Scheduler
from scheduler.models import ConnectionSchedule
from scheduler.settings import SchedulerSettings
from sqlalchemy import delete, func, select

from tests.support.polling import eventually, eventually_async
from tests.support.rabbitmq import delete_topology


def profile(connection_id: uuid.UUID | None = None, interval: int = 60) -> ConnectionSyncProfile:
    return ConnectionSyncProfile(
        connection_id=connection_id or uuid.uuid4(),
        xero_tenant_id="tenant-1",
        dynamics_org_url="https://contoso.crm.dynamics.com",
        time_zone="Pacific/Auckland",
        sync_interval_seconds=interval,
    )


@dataclass
class RunningScheduler:
    publish: RabbitMQBroker
    invoice_jobs: list[SyncInvoicesJob] = field(default_factory=list)
    payment_jobs: list[SyncPaymentsJob] = field(default_factory=list)

    def invoice_jobs_for(self, connection_id: uuid.UUID) -> list[SyncInvoicesJob]:
        return [job for job in self.invoice_jobs if job.profile.connection_id == connection_id]


@pytest.fixture
async def running(
    migrated_postgres: str, rabbitmq_url: str, bus_namespace: str
) -> AsyncIterator[RunningScheduler]:
    settings = SchedulerSettings(
        database_url=migrated_postgres,
        broker_url=rabbitmq_url,
        bus_namespace=bus_namespace,
        tick_seconds=0.05,
    )
    service = create_service(Infrastructure.from_settings(settings), settings)
    service.owns_infrastructure = True
    workers = RabbitMQBroker(rabbitmq_url, bus_namespace)
    await workers.connect()
    running = RunningScheduler(workers)

    async def on_invoices(job: SyncInvoicesJob, _: MessageContext) -> None:
        running.invoice_jobs.append(job)

    async def on_payments(job: SyncPaymentsJob, _: MessageContext) -> None:
        running.payment_jobs.append(job)

    subscriptions: list[Subscription[Any]] = [
        Subscription("test-invoice-sync", SyncInvoicesJob, on_invoices),
        Subscription("test-payment-sync", SyncPaymentsJob, on_payments),
    ]
    consumers = [await workers.consume(subscription) for subscription in subscriptions]
    async with LifespanManager(service.app):
        yield running
    for consumer in consumers:
        await consumer.stop(drain_seconds=1)
    await workers.close()
    await delete_topology(rabbitmq_url, workers, [*subscriptions, *service.subscriptions])


async def test_a_syncable_connection_is_dispatched_at_once_then_once_per_interval(
    running: RunningScheduler,
) -> None:
    connection = profile()
    await running.publish.publish(ConnectionChanged(profile=connection, syncable=True))

    await eventually(lambda: len(running.invoice_jobs_for(connection.connection_id)) == 1)
    await eventually(lambda: len(running.payment_jobs) >= 1)
    job = running.invoice_jobs_for(connection.connection_id)[0]
    assert job.profile == connection
    await asyncio.sleep(1.0)  # twenty ticks, well inside the 60 s interval
    assert len(running.invoice_jobs_for(connection.connection_id)) == 1


async def test_a_connection_that_is_not_syncable_is_never_dispatched(
    running: RunningScheduler,
) -> None:
    connection = profile()
    await running.publish.publish(ConnectionChanged(profile=connection, syncable=False))
    await running.publish.publish(SyncRequested(connection_id=connection.connection_id))
    await asyncio.sleep(1.0)
    assert running.invoice_jobs_for(connection.connection_id) == []


async def test_sync_now_dispatches_before_the_interval_is_up(running: RunningScheduler) -> None:
    connection = profile(interval=3600)
    await running.publish.publish(ConnectionChanged(profile=connection, syncable=True))
    await eventually(lambda: len(running.invoice_jobs_for(connection.connection_id)) == 1)

    await running.publish.publish(SyncRequested(connection_id=connection.connection_id))
    await eventually(lambda: len(running.invoice_jobs_for(connection.connection_id)) == 2)


async def test_a_push_dispatches_the_invoice_job_alone_and_keeps_the_schedule(
    running: RunningScheduler,
) -> None:
    connection = profile(interval=3600)
    cid = connection.connection_id
    await running.publish.publish(ConnectionChanged(profile=connection, syncable=True))
    await eventually(lambda: len(running.invoice_jobs_for(cid)) == 1)
    await eventually(lambda: any(j.profile.connection_id == cid for j in running.payment_jobs))
    payments = [j for j in running.payment_jobs if j.profile.connection_id == cid]

    await running.publish.publish(SyncRequested(connection_id=cid, invoices_only=True))
    await eventually(lambda: len(running.invoice_jobs_for(cid)) == 2)
    await running.publish.publish(SyncRequested(connection_id=cid, invoices_only=True))
    await eventually(lambda: len(running.invoice_jobs_for(cid)) == 3)
    assert [j for j in running.payment_jobs if j.profile.connection_id == cid] == payments


async def test_a_push_while_held_dispatches_the_held_job_at_once(
    running: RunningScheduler,
) -> None:
    """At the plan's limit (or with the plan ended) a push still gets its invoice job, with the
    plan's dates, so the invoice just handed over hears why it waits in seconds, not at the
    next held dispatch."""
    connection = profile(interval=3600)
    cid = connection.connection_id
    paused_until = datetime.now(UTC) + timedelta(days=10)
    held = ConnectionChanged(
        profile=connection, syncable=True, set_up=True, invoices_paused_until=paused_until
    )
    await running.publish.publish(held)
    await eventually(lambda: len(running.invoice_jobs_for(cid)) == 1)  # the hold began

    await running.publish.publish(SyncRequested(connection_id=cid, invoices_only=True))
    await eventually(lambda: len(running.invoice_jobs_for(cid)) == 2)
    pushed = running.invoice_jobs_for(cid)[1]
    assert (pushed.invoices_paused_until, pushed.active_until) == (paused_until, None)


async def test_an_archived_connection_stops_being_scheduled(
    running: RunningScheduler, migrated_postgres: str
) -> None:
    connection = profile()
    await running.publish.publish(ConnectionChanged(profile=connection, syncable=True))
    await eventually(lambda: len(running.invoice_jobs_for(connection.connection_id)) == 1)
    await running.publish.publish(ConnectionArchived(connection_id=connection.connection_id))

    database = Database(migrated_postgres)

    async def schedule_gone() -> bool:
        async with database.unit_of_work() as session:
            return await session.get(ConnectionSchedule, connection.connection_id) is None

    await eventually_async(schedule_gone)
    await database.dispose()


DIRECT_CALL = MessageContext(message_id="direct", topic="test", attempt=1, headers={})


class ManualClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def _jobs_in_outbox(database: Database) -> list[tuple[str, str]]:
    async with database.unit_of_work() as session:
        rows = await session.scalars(select(OutboxMessage))
        return [
            (row.topic, SyncInvoicesJob.model_validate_json(row.body).profile.connection_id.hex)
            for row in rows
        ]


@pytest.fixture
async def quiet_database(migrated_postgres: str) -> AsyncIterator[str]:
    """The run's database with no schedules or outbox rows left by other tests."""
    database = Database(migrated_postgres)
    async with database.unit_of_work() as session:
        await session.execute(delete(ConnectionSchedule))
        await session.execute(delete(OutboxMessage))
    yield migrated_postgres
    async with database.unit_of_work() as session:
        await session.execute(delete(ConnectionSchedule))
        await session.execute(delete(OutboxMessage))
    await database.dispose()


async def test_two_replicas_dispatch_each_due_connection_once(quiet_database: str) -> None:
    clock = ManualClock()
    databases = [Database(quiet_database), Database(quiet_database)]
    replicas = [Scheduler(database, batch_size=25, clock=clock) for database in databases]
    connections = [profile() for _ in range(200)]
    for connection in connections:
        await replicas[0].on_connection_changed(
            ConnectionChanged(profile=connection, syncable=True),
            None,  # type: ignore[arg-type]
        )

    dispatched = await asyncio.gather(*(replica.dispatch_due() for replica in replicas))

    assert sum(dispatched) == 200
    jobs = await _jobs_in_outbox(databases[0])
    assert len(jobs) == 400
    assert len(set(jobs)) == 400, "each connection gets one invoice job and one payment job"

    # Within the interval nothing is due; after it, all are, even for a restarted scheduler.
    clock.now += timedelta(seconds=59)
    assert await replicas[1].dispatch_due() == 0
    clock.now += timedelta(seconds=1)
    restarted = Scheduler(Database(quiet_database), clock=clock)
    assert await restarted.dispatch_due() == 200
    for database in databases:
        await database.dispose()


async def test_the_next_due_time_counts_from_the_dispatch(quiet_database: str) -> None:
    clock = ManualClock()
    database = Database(quiet_database)
    scheduler = Scheduler(database, clock=clock)
    connection = profile(interval=60)
    await scheduler.on_connection_changed(
        ConnectionChanged(profile=connection, syncable=True),
        None,  # type: ignore[arg-type]
    )
    clock.now += timedelta(seconds=5)
    assert await scheduler.dispatch_due() == 1
    async with database.unit_of_work() as session:
        schedule = await session.get(ConnectionSchedule, connection.connection_id)
        assert schedule is not None
        assert schedule.next_due_at == clock.now + timedelta(seconds=60)
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
    await database.dispose()


async def _outbox_jobs(database: Database) -> list[SyncInvoicesJob | SyncPaymentsJob]:
    """The jobs waiting in the outbox; emptied, so each call sees what is new."""
    async with database.unit_of_work() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
        await session.execute(delete(OutboxMessage))
        return [
            SyncInvoicesJob.model_validate_json(row.body)
            if row.topic == SyncInvoicesJob.topic
            else SyncPaymentsJob.model_validate_json(row.body)
            for row in rows
        ]


def _kinds(
    jobs: list[SyncInvoicesJob | SyncPaymentsJob], connection: ConnectionSyncProfile
) -> list[str]:
    return sorted(job.topic for job in jobs if job.profile == connection)


INVOICES_AND_PAYMENTS = [SyncInvoicesJob.topic, SyncPaymentsJob.topic]


async def test_an_ended_plan_gets_only_the_held_invoice_job_until_resubscribed(
    quiet_database: str,
) -> None:
    clock = ManualClock()
    database = Database(quiet_database)
    scheduler = Scheduler(database, clock=clock, held_interval_seconds=900)
    ended = clock.now - timedelta(days=1)
    trial_over, cancelled, never_set_up = profile(), profile(), profile()
    # Time alone ends a trial: still "syncable" as last announced.
    await scheduler.on_connection_changed(
        ConnectionChanged(profile=trial_over, syncable=True, set_up=True, active_until=clock.now),
        DIRECT_CALL,
    )
    await scheduler.on_connection_changed(
        ConnectionChanged(profile=cancelled, syncable=False, set_up=True, active_until=ended),
        DIRECT_CALL,
    )
    await scheduler.on_connection_changed(
        ConnectionChanged(profile=never_set_up, syncable=False, active_until=ended),
        DIRECT_CALL,
    )
    await scheduler.on_sync_requested(
        SyncRequested(connection_id=trial_over.connection_id), DIRECT_CALL
    )

    assert await scheduler.dispatch_due() == 2
    jobs = await _outbox_jobs(database)
    assert [_kinds(jobs, c) for c in (trial_over, cancelled, never_set_up)] == [
        [SyncInvoicesJob.topic],
        [SyncInvoicesJob.topic],
        [],
    ]
    assert {job.active_until for job in jobs if isinstance(job, SyncInvoicesJob)} == {
        clock.now,
        ended,
    }

    # The held cadence, not the plan's interval: invoices handed over meanwhile hear why.
    clock.now += timedelta(seconds=899)
    assert await scheduler.dispatch_due() == 0
    clock.now += timedelta(seconds=1)
    assert await scheduler.dispatch_due() == 2
    assert len(await _outbox_jobs(database)) == 2

    # Subscribing again: at once, both jobs, the invoice job no longer held.
    await scheduler.on_connection_changed(
        ConnectionChanged(profile=cancelled, syncable=True, set_up=True), DIRECT_CALL
    )
    assert await scheduler.dispatch_due() == 1
    jobs = await _outbox_jobs(database)
    assert _kinds(jobs, cancelled) == INVOICES_AND_PAYMENTS
    assert all(job.active_until is None for job in jobs if isinstance(job, SyncInvoicesJob))
    await database.dispose()


async def test_at_the_invoice_limit_payments_go_on_and_the_invoice_job_comes_slower(
    quiet_database: str,
) -> None:
    clock = ManualClock()  # 09:00, on a 15-minute boundary
    database = Database(quiet_database)
    scheduler = Scheduler(database, clock=clock, held_interval_seconds=900)
    limited = profile(interval=60)
    until = clock.now + timedelta(days=3)
    await scheduler.on_connection_changed(
        ConnectionChanged(profile=limited, syncable=True, set_up=True, invoices_paused_until=until),
        DIRECT_CALL,
    )
    dispatched: list[list[str]] = []
    for _ in range(17):  # 09:00 to 09:16, once a minute
        assert await scheduler.dispatch_due() == 1
        dispatched.append(_kinds(await _outbox_jobs(database), limited))
        clock.now += timedelta(seconds=60)
    # Newly paused: told at once; then again on the first dispatch of the next window (09:15).
    assert [i for i, kinds in enumerate(dispatched) if SyncInvoicesJob.topic in kinds] == [0, 15]
    assert all(SyncPaymentsJob.topic in kinds for kinds in dispatched)

    # An upgrade lifts it: at once, invoices flow again.
    await scheduler.on_connection_changed(
        ConnectionChanged(profile=limited, syncable=True, set_up=True), DIRECT_CALL
    )
    assert await scheduler.dispatch_due() == 1
    jobs = await _outbox_jobs(database)
    assert _kinds(jobs, limited) == INVOICES_AND_PAYMENTS
    assert [j.invoices_paused_until for j in jobs if isinstance(j, SyncInvoicesJob)] == [None]

    # So does the next month, by time alone.
    next_month = profile()
    await scheduler.on_connection_changed(
        ConnectionChanged(
            profile=next_month,
            syncable=True,
            invoices_paused_until=clock.now - timedelta(seconds=1),
        ),
        DIRECT_CALL,
    )
    for _ in range(2):
        clock.now += timedelta(seconds=60)
        await scheduler.dispatch_due()
        assert _kinds(await _outbox_jobs(database), next_month) == INVOICES_AND_PAYMENTS
    await database.dispose()
