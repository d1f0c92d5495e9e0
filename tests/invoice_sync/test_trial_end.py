"""A trial that ends unpaid (issue 16): portal-api's billing pass notices it and announces it
once, through the outbox and the bus; invoice-sync makes the connector record in Dynamics say
Inactive with the reason and the date, and each invoice handed over meanwhile gets a Skipped row;
subscribing afterwards sets the record Active again and the next run sends what waited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from dxc_shared.db import Database
from dxc_shared.dynamics.schema import ConnectorStatus, ExportStatus, SyncOutcome
from dxc_shared.outbox import OutboxRelay
from portal_api.auth.models import User
from portal_api.billing.jobs import BillingJobs
from portal_api.billing.models import Subscription
from portal_api.billing.payments import FakePaymentProvider
from portal_api.connections import service as connections
from portal_api.connections.models import Connection

from tests.invoice_sync.conftest import World, WorldFactory
from tests.support.polling import eventually_async

INACTIVE = "Not sent: the connector's subscription is inactive."


async def _portal_rows(database: Database, world: World, trial_ends_at: datetime) -> uuid.UUID:
    """The portal's user and its connection (the world's), set up and in its trial."""
    user_id = uuid.uuid4()
    async with database.unit_of_work() as session:
        session.add(
            User(
                id=user_id,
                email=f"trial-{user_id.hex[:8]}@example.com",
                name="Jo Finance",
                company_name="Contoso",
                trial_ends_at=trial_ends_at,
            )
        )
        await session.flush()
        session.add(
            Connection(
                id=world.connection_id,
                user_id=user_id,
                name="Contoso books",
                time_zone="UTC",
                plan="starter",
                xero_connected=True,
                xero_tenant_id=world.xero.tenant,
                dynamics_connected=True,
                dynamics_org_url=world.profile.dynamics_org_url,
                tables_installed=True,
            )
        )
    return user_id


async def test_a_trial_that_ends_unpaid_makes_the_connector_inactive_once(
    world_factory: WorldFactory, migrated_postgres: str
) -> None:
    world: World = await world_factory()
    database = Database(migrated_postgres)
    relay = OutboxRelay(database, world.bus)
    jobs = BillingJobs(database, FakePaymentProvider(), "http://web.test")
    ended = datetime.now(UTC) - timedelta(minutes=1)
    await _portal_rows(database, world, trial_ends_at=ended)
    invoice_id = await world.new_invoice("T-1")
    await world.hand_over(invoice_id)  # handed over after the trial ended

    assert await jobs.announce_ended_trials() == 1
    assert await jobs.announce_ended_trials() == 0  # once
    assert await relay.relay_pending() >= 1

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

    # Subscribing afterwards: the subscription as billing records it, announced.
    async with database.unit_of_work() as session:
        connection = await session.get(Connection, world.connection_id)
        assert connection is not None
        user = await session.get(User, connection.user_id)
        assert user is not None
        session.add(Subscription(connection_id=connection.id, plan="starter", status="active"))
        await session.flush()
        await connections.touch(session, await connections.state_of(session, user, connection))
    assert await relay.relay_pending() >= 1

    async def active() -> bool:
        return bool((await world.connector())["dxc_status"] == ConnectorStatus.ACTIVE.value)

    await eventually_async(active)
    run = await world.sync()
    assert (run.succeeded, run.failed) == (1, 0), run.failures
    assert (await world.invoice(invoice_id))["dxc_exportstatus"] == ExportStatus.YES
    assert [r["dxc_outcome"] for r in await world.history(invoice_id)] == [
        SyncOutcome.SKIPPED,
        SyncOutcome.SUCCESS,
    ]
    await database.dispose()


async def test_a_connection_in_its_trial_or_subscribed_is_not_announced(
    world_factory: WorldFactory, migrated_postgres: str
) -> None:
    world: World = await world_factory()
    database = Database(migrated_postgres)
    jobs = BillingJobs(database, FakePaymentProvider(), "http://web.test")
    await _portal_rows(database, world, trial_ends_at=datetime.now(UTC) + timedelta(days=3))
    assert await jobs.announce_ended_trials() == 0
    async with database.unit_of_work() as session:
        connection: Any = await session.get(Connection, world.connection_id)
        session.add(Subscription(connection_id=connection.id, plan="starter", status="active"))
        user: Any = await session.get(User, connection.user_id)
        user.trial_ends_at = datetime.now(UTC) - timedelta(days=1)
    assert await jobs.announce_ended_trials() == 0
    assert (await world.connector())["dxc_status"] == ConnectorStatus.ACTIVE.value
    await database.dispose()
