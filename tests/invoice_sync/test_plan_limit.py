"""The plan's monthly invoice limit holds within a run: a bulk hand-over below the limit sends
only what the month has left; the rest wait, each told why once, and a bigger plan sends them.
(portal-api's pause at the limit, and the held jobs it brings, are in test_subscription_held.)"""

from __future__ import annotations

from datetime import UTC, datetime

from dxc_shared.dynamics.schema import ExportStatus, SyncOutcome
from invoice_sync.invoices.limit import month_bounds

from tests.invoice_sync.conftest import WorldFactory


async def test_a_bulk_hand_over_sends_no_more_than_the_month_has_left(
    world_factory: WorldFactory,
) -> None:
    world = await world_factory()
    world.profile = world.profile.model_copy(update={"max_invoices_per_month": 3})
    earlier = [await world.new_invoice(f"L-{n}") for n in range(2)]
    await world.hand_over(*earlier)
    assert (await world.sync()).succeeded == 2

    bulk = [await world.new_invoice(f"L-{n}") for n in range(2, 6)]
    await world.hand_over(*bulk)
    run = await world.sync()
    _, next_month = month_bounds(datetime.now(UTC))
    waiting = (
        "Not sent: this month's plan limit is reached; it waits until "
        f"1 {next_month:%b %Y} or a bigger plan."
    )
    assert run.succeeded == 1
    assert len(run.skipped) == 3
    assert {skip.message for skip in run.skipped} == {waiting}
    assert len(world.xero_invoices()) == 3
    for skip in run.skipped:
        assert skip.record_id in bulk
        assert (await world.invoice(skip.record_id))["dxc_exportstatus"] in (
            None,
            ExportStatus.NO,
        )
        history = await world.history(skip.record_id)
        assert [(r["dxc_outcome"], r["dxc_message"]) for r in history] == [
            (SyncOutcome.SKIPPED, waiting)
        ]

    # Told once: the next run below a full month says nothing new.
    again = await world.sync()
    assert (again.succeeded, again.skipped) == (0, [])

    # A bigger plan: what waited goes.
    world.profile = world.profile.model_copy(update={"max_invoices_per_month": 10})
    assert (await world.sync()).succeeded == 3
    assert len(world.xero_invoices()) == 6
