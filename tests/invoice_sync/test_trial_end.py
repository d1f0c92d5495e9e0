"""A trial that ends unpaid (issue 16): portal-api's billing pass notices it and announces it
once, through the outbox and the bus; invoice-sync makes the connector record in Dynamics say
Inactive with the reason and the date, and the scheduler's held invoice job gives each invoice
handed over meanwhile a Skipped row, shown in the portal too; subscribing afterwards sets the
record Active again and the scheduler's next run sends what waited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from asgi_lifespan import LifespanManager
from dxc_shared.db import Database
from dxc_shared.dynamics.schema import ConnectorStatus, ExportStatus, SyncOutcome
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.outbox import OutboxRelay
from portal_api.auth.models import User
from portal_api.billing.jobs import BillingJobs
from portal_api.billing.models import Subscription
from portal_api.billing.payments import FakePaymentProvider
from portal_api.connections import service as connections
from portal_api.connections.models import Connection
from scheduler.app import create_service as create_scheduler
from scheduler.models import ConnectionSchedule
from scheduler.settings import SchedulerSettings
from sqlalchemy import delete

from tests.invoice_sync.conftest import World, WorldFactory
from tests.invoice_sync.portal import InvoiceView, portal_rows, portal_view
from tests.support.polling import eventually_async
from tests.support.rabbitmq import delete_queues

INACTIVE = "Not sent: the connector's subscription is inactive."


@asynccontextmanager
async def running_scheduler(
    database_url: str, rabbitmq_url: str, bus_namespace: str, world: World
) -> AsyncIterator[None]:
    """The scheduler service on the world's database and bus, as deployed; the world's schedule
    is removed afterwards."""
    settings = SchedulerSettings(
        database_url=database_url,
        broker_url=rabbitmq_url,
        bus_namespace=bus_namespace,
        tick_seconds=0.05,
    )
    service = create_scheduler(Infrastructure.from_settings(settings), settings)
    service.owns_infrastructure = True
    async with LifespanManager(service.app):
        yield
        async with service.infrastructure.database.unit_of_work() as session:
            await session.execute(
                delete(ConnectionSchedule).where(
                    ConnectionSchedule.connection_id == world.connection_id
                )
            )
    # Its queues only: the exchanges are the world's, removed with it.
    await delete_queues(rabbitmq_url, bus_namespace, service.subscriptions)


async def test_a_trial_that_ends_unpaid_makes_the_connector_inactive_once(
    world_factory: WorldFactory, migrated_postgres: str, rabbitmq_url: str, bus_namespace: str
) -> None:
    world: World = await world_factory()
    database = Database(migrated_postgres)
    async with (
        running_scheduler(migrated_postgres, rabbitmq_url, bus_namespace, world),
        portal_view(database, world, rabbitmq_url) as portal,
    ):
        await _trial_ends_then_subscribed(world, database, portal)
    await database.dispose()


async def _trial_ends_then_subscribed(
    world: World, database: Database, portal: InvoiceView
) -> None:
    relay = OutboxRelay(database, world.bus)
    jobs = BillingJobs(database, FakePaymentProvider(), "http://web.test")
    ended = datetime.now(UTC) - timedelta(minutes=1)
    await portal_rows(database, world, trial_ends_at=ended)
    invoice_id = await world.new_invoice("T-1")
    await world.hand_over(invoice_id)  # handed over after the trial ended

    assert await jobs.announce_ended_trials() == 1
    assert await jobs.announce_ended_trials() == 0  # once
    await relay.relay_pending()  # or a service's own relay did

    async def inactive() -> bool:
        return bool((await world.connector())["dxc_status"] == ConnectorStatus.INACTIVE.value)

    async def told() -> bool:
        return len(await world.history(invoice_id)) == 1

    await eventually_async(inactive)
    await eventually_async(told)
    message = (await world.connector())["dxc_statusmessage"]
    assert message.startswith(
        f"Inactive since {ended.day} {ended:%b %Y}: the connector's subscription ended "
        "(cancelled, or the trial is over without a subscription)."
    )
    [row] = await world.history(invoice_id)
    assert (row["dxc_outcome"], row["dxc_message"]) == (SyncOutcome.SKIPPED, INACTIVE)
    assert world.xero_invoices() == []
    await portal.shows(invoice_id, "skipped", INACTIVE)

    # Subscribing afterwards: the subscription as billing records it, announced.
    async with database.unit_of_work() as session:
        connection = await session.get(Connection, world.connection_id)
        assert connection is not None
        user = await session.get(User, connection.user_id)
        assert user is not None
        session.add(Subscription(connection_id=connection.id, plan="starter", status="active"))
        await session.flush()
        await connections.touch(session, await connections.state_of(session, user, connection))
    await relay.relay_pending()  # or a service's own relay did

    async def active() -> bool:
        return bool((await world.connector())["dxc_status"] == ConnectorStatus.ACTIVE.value)

    await eventually_async(active)

    async def sent() -> bool:
        return bool((await world.invoice(invoice_id))["dxc_exportstatus"] == ExportStatus.YES)

    await eventually_async(sent)  # by the scheduler's run, at once on resuming
    await portal.shows(invoice_id, "exported", None)
    assert [r["dxc_outcome"] for r in await world.history(invoice_id)] == [
        SyncOutcome.SKIPPED,
        SyncOutcome.SUCCESS,
    ]


async def test_a_connection_in_its_trial_or_subscribed_is_not_announced(
    world_factory: WorldFactory, migrated_postgres: str
) -> None:
    world: World = await world_factory()
    database = Database(migrated_postgres)
    jobs = BillingJobs(database, FakePaymentProvider(), "http://web.test")
    await portal_rows(database, world, trial_ends_at=datetime.now(UTC) + timedelta(days=3))
    assert await jobs.announce_ended_trials() == 0
    async with database.unit_of_work() as session:
        connection: Any = await session.get(Connection, world.connection_id)
        session.add(Subscription(connection_id=connection.id, plan="starter", status="active"))
        user: Any = await session.get(User, connection.user_id)
        user.trial_ends_at = datetime.now(UTC) - timedelta(days=1)
    assert await jobs.announce_ended_trials() == 0
    assert (await world.connector())["dxc_status"] == ConnectorStatus.ACTIVE.value
    await database.dispose()
