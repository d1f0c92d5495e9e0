"""While the subscription has ended or this month's invoice limit is reached nothing is sent, but
the scheduler keeps dispatching a held invoice job at a slower cadence: the connection change
says why on the connector record (Inactive, with the reason and the date) and each held job on
each invoice handed over, before or after the change (a Skipped row, once per cause, reported
for the portal's activity and invoice view too); resuming sends them.

The scheduler runs in the test, on the same database (its outbox is relayed by invoice-sync's
relay), with a clock the test moves on to the next held dispatch."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dxc_shared.bus import MessageContext
from dxc_shared.db import Database
from dxc_shared.dynamics.schema import ConnectorStatus, ExportStatus, SyncOutcome
from dxc_shared.messages import ConnectionArchived, ConnectionChanged, SyncRunCompleted
from scheduler.dispatch import Scheduler

from tests.invoice_sync.conftest import World
from tests.invoice_sync.portal import InvoiceView, portal_rows, portal_view
from tests.support.polling import eventually, eventually_async

INACTIVE = "Not sent: the connector's subscription is inactive."
HELD_INTERVAL = 900.0
DIRECT_CALL = MessageContext("direct", ConnectionChanged.topic, 1, {})


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class HeldStack:
    """The world's invoice-sync, and the scheduler as portal-api's connection events feed it."""

    def __init__(
        self, world: World, scheduler: Scheduler, clock: Clock, portal: InvoiceView
    ) -> None:
        self.world = world
        self.scheduler = scheduler
        self.clock = clock
        self.portal = portal

    async def change(self, message: ConnectionChanged) -> None:
        """What portal-api announces, to invoice-sync over the bus and to the scheduler."""
        await self.world.bus.publish(message)
        await self.scheduler.on_connection_changed(message, DIRECT_CALL)

    async def dispatch(self, after_seconds: float = 0) -> None:
        self.clock.now += timedelta(seconds=after_seconds)
        assert await self.scheduler.dispatch_due() == 1

    async def skip_reported(self, invoice_id: str) -> SyncRunCompleted:
        """The run report (what the portal's activity and invoice view are built from) that
        gave `invoice_id` as skipped."""

        def reported() -> SyncRunCompleted | None:
            return next(
                (r for r in self.world.runs if invoice_id in {s.record_id for s in r.skipped}),
                None,
            )

        await eventually(lambda: reported() is not None)
        run = reported()
        assert run is not None
        return run


@pytest.fixture
async def held_stack(
    world_factory: Any, migrated_postgres: str, rabbitmq_url: str
) -> AsyncIterator[HeldStack]:
    world: World = await world_factory()
    clock = Clock()
    database = Database(migrated_postgres)
    scheduler = Scheduler(database, clock=clock, held_interval_seconds=HELD_INTERVAL)
    # For the invoice view only: the plan's state is what the test announces. (A trial over in
    # these rows would be announced by billing tests that follow, on the same database.)
    await portal_rows(database, world, trial_ends_at=clock.now + timedelta(days=365))
    async with portal_view(database, world, rabbitmq_url) as portal:
        yield HeldStack(world, scheduler, clock, portal)
    await scheduler.on_connection_archived(
        ConnectionArchived(connection_id=world.connection_id), DIRECT_CALL
    )
    await database.dispose()


async def _outcomes(world: World, invoice_id: str) -> list[tuple[int, str]]:
    return [(r["dxc_outcome"], r["dxc_message"]) for r in await world.history(invoice_id)]


async def _handed_over(world: World, number: str) -> str:
    invoice_id = await world.new_invoice(number)
    await world.hand_over(invoice_id)
    return invoice_id


async def _sent(world: World, *invoice_ids: str) -> None:
    async def exported() -> bool:
        rows = [await world.invoice(invoice_id) for invoice_id in invoice_ids]
        return all(row["dxc_exportstatus"] == ExportStatus.YES for row in rows)

    await eventually_async(exported)
    for invoice_id in invoice_ids:
        outcomes = [o for o, _ in await _outcomes(world, invoice_id)]
        assert outcomes == [SyncOutcome.SKIPPED, SyncOutcome.SUCCESS]


async def test_an_ended_subscription_tells_invoices_handed_over_later_and_resuming_sends_them(
    held_stack: HeldStack,
) -> None:
    world = held_stack.world
    before = await _handed_over(world, "S-1")
    ended = datetime.now(UTC) - timedelta(days=1)

    await held_stack.change(
        ConnectionChanged(profile=world.profile, syncable=False, set_up=True, active_until=ended)
    )
    await held_stack.dispatch()  # at once: the connection is newly held
    await held_stack.skip_reported(before)

    async def inactive() -> bool:
        status: int | None = (await world.connector())["dxc_status"]
        return status == ConnectorStatus.INACTIVE.value

    await eventually_async(inactive)
    assert (await world.connector())["dxc_statusmessage"].startswith(
        f"Inactive since {ended.day} {ended:%b %Y}: the connector's subscription ended"
    )

    # Handed over after the change: the next held dispatch tells it, and only it.
    later = await _handed_over(world, "S-2")
    await held_stack.dispatch(after_seconds=HELD_INTERVAL)
    run = await held_stack.skip_reported(later)
    assert [(s.record_id, s.record_number, s.message) for s in run.skipped] == [
        (later, "S-2", INACTIVE)
    ]
    assert (run.succeeded, run.failed, run.error) == (0, 0, None)
    for invoice_id in (before, later):
        assert await _outcomes(world, invoice_id) == [(SyncOutcome.SKIPPED, INACTIVE)]
    assert world.xero_invoices() == []
    await held_stack.portal.shows(later, "skipped", INACTIVE)
    await held_stack.portal.shows(before, "skipped", INACTIVE)

    # Subscribing again: the normal run, at once, sends what waited.
    await held_stack.change(ConnectionChanged(profile=world.profile, syncable=True, set_up=True))
    await held_stack.dispatch()
    await _sent(world, before, later)
    assert len(world.xero_invoices()) == 2

    async def active() -> bool:
        status: int | None = (await world.connector())["dxc_status"]
        return status == ConnectorStatus.ACTIVE.value

    await eventually_async(active)
    await held_stack.portal.shows(later, "exported", None)


async def test_the_plan_limit_tells_invoices_handed_over_later_and_an_upgrade_sends_them(
    held_stack: HeldStack,
) -> None:
    world = held_stack.world
    before = await _handed_over(world, "S-3")
    until = datetime.now(UTC) + timedelta(days=20)
    paused = (
        "Not sent: this month's plan limit is reached; it waits until "
        f"{until.day} {until:%b %Y} or a bigger plan."
    )

    await held_stack.change(
        ConnectionChanged(
            profile=world.profile, syncable=True, set_up=True, invoices_paused_until=until
        )
    )
    await held_stack.dispatch()
    await held_stack.skip_reported(before)

    later = await _handed_over(world, "S-4")
    await held_stack.dispatch(after_seconds=HELD_INTERVAL)
    run = await held_stack.skip_reported(later)
    assert [(s.record_id, s.message) for s in run.skipped] == [(later, paused)]
    for invoice_id in (before, later):
        assert await _outcomes(world, invoice_id) == [(SyncOutcome.SKIPPED, paused)]
    # Payments still sync: the connector stays Active.
    assert (await world.connector())["dxc_status"] in (None, ConnectorStatus.ACTIVE.value)
    assert world.xero_invoices() == []
    await held_stack.portal.shows(later, "skipped", paused)

    await held_stack.change(ConnectionChanged(profile=world.profile, syncable=True, set_up=True))
    await held_stack.dispatch()
    await _sent(world, before, later)
