"""No invoice job runs while the subscription has ended, and at this month's invoice limit the
jobs send none; the connection change says why on the connector record (Inactive, with the
reason and the date) and on each invoice handed over (a Skipped row, once), as does each run at
the limit for the invoices handed over since; resuming sends them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from dxc_shared.bus import MessageContext
from dxc_shared.dynamics.schema import ConnectorStatus, ExportStatus, SyncOutcome
from dxc_shared.messages import ConnectionChanged

from tests.invoice_sync.conftest import World
from tests.support.polling import eventually_async

INACTIVE = "Not sent: the connector's subscription is inactive."


async def _outcomes(world: World, invoice_id: str) -> list[tuple[int, str]]:
    return [(r["dxc_outcome"], r["dxc_message"]) for r in await world.history(invoice_id)]


async def _told(world: World, invoice_id: str, count: int) -> None:
    async def written() -> bool:
        return len(await world.history(invoice_id)) == count

    await eventually_async(written)


async def test_an_ended_subscription_says_inactive_and_resuming_sends_what_waited(
    world_factory: Any,
) -> None:
    world: World = await world_factory()
    invoice_id = await world.new_invoice("S-1")
    await world.hand_over(invoice_id)
    ended = datetime.now(UTC) - timedelta(days=1)

    change = ConnectionChanged(profile=world.profile, syncable=False, active_until=ended)
    await world.bus.publish(change)
    await _told(world, invoice_id, 1)
    # Another change while it lasts tells nothing twice.
    exporter = world.services[0].app.state.exporter
    await exporter.on_connection_changed(
        change, MessageContext("again", ConnectionChanged.topic, 1, {})
    )

    connector = await world.connector()
    assert connector["dxc_status"] == ConnectorStatus.INACTIVE.value
    assert connector["dxc_statusmessage"].startswith(
        f"Inactive since {ended.day} {ended:%b %Y}: the connector's subscription ended"
    )
    assert await _outcomes(world, invoice_id) == [(SyncOutcome.SKIPPED, INACTIVE)]
    assert world.xero_invoices() == []

    await world.bus.publish(ConnectionChanged(profile=world.profile, syncable=True))

    async def active() -> bool:
        status: int | None = (await world.connector())["dxc_status"]
        return status == ConnectorStatus.ACTIVE.value

    await eventually_async(active)
    run = await world.sync()
    assert (run.succeeded, run.failed) == (1, 0), run.failures
    assert (await world.invoice(invoice_id))["dxc_exportstatus"] == ExportStatus.YES
    assert [o for o, _ in await _outcomes(world, invoice_id)] == [
        SyncOutcome.SKIPPED,
        SyncOutcome.SUCCESS,
    ]


async def test_the_plan_limit_tells_each_invoice_when_it_goes(world_factory: Any) -> None:
    world: World = await world_factory()
    invoice_id = await world.new_invoice("S-2")
    await world.hand_over(invoice_id)
    until = datetime.now(UTC) + timedelta(days=20)

    await world.bus.publish(
        ConnectionChanged(profile=world.profile, syncable=True, invoices_paused_until=until)
    )
    await _told(world, invoice_id, 1)

    assert await _outcomes(world, invoice_id) == [
        (
            SyncOutcome.SKIPPED,
            "Not sent: this month's plan limit is reached; it waits until "
            f"{until.day} {until:%b %Y} or a bigger plan.",
        )
    ]
    # Payments still sync: the connector stays Active.
    assert (await world.connector())["dxc_status"] in (None, ConnectorStatus.ACTIVE.value)


async def test_at_the_plan_limit_an_invoice_handed_over_later_is_told_and_sent_after(
    world_factory: Any,
) -> None:
    world: World = await world_factory()
    until = datetime.now(UTC) + timedelta(days=20)
    limit_reached = (
        "Not sent: this month's plan limit is reached; it waits until "
        f"{until.day} {until:%b %Y} or a bigger plan."
    )
    invoice_id = await world.new_invoice("S-3")
    await world.hand_over(invoice_id)  # after the connection change that paused invoices

    run = await world.sync(invoices_paused_until=until)

    assert (run.succeeded, run.failed) == (0, 0)
    assert [(s.record_id, s.message) for s in run.skipped] == [(invoice_id, limit_reached)]
    assert await _outcomes(world, invoice_id) == [(SyncOutcome.SKIPPED, limit_reached)]
    assert world.xero_invoices() == []
    # Told once: the next run at the limit writes no second row.
    again = await world.sync(invoices_paused_until=until)
    assert again.skipped == []
    assert len(await world.history(invoice_id)) == 1

    # The limit lifts (a new month or a bigger plan): it goes.
    sent = await world.sync()
    assert sent.succeeded == 1
    assert (await world.invoice(invoice_id))["dxc_exportstatus"] == ExportStatus.YES
