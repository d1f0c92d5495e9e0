"""A run's report names what it did per invoice, so the portal can list each one: the exported
with their customer and Xero link, the failed with their customer."""

from __future__ import annotations

from datetime import UTC, datetime

from dxc_shared.dynamics.columns import Common, InvoiceColumns
from dxc_shared.messages import SyncSuccess

from tests.invoice_sync.conftest import World, WorldFactory


async def test_a_run_reports_each_exported_invoice_and_names_the_customer_of_a_failure(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    good = await world.new_invoice("R-1")
    bad_currency = await world.new_invoice("R-2", currency="JPY")
    await world.hand_over(good, bad_currency)
    [row] = await world.dataverse.query(
        InvoiceColumns.ENTITY_SET, select=[Common.MODIFIED_ON], filter=f"invoiceid eq {good}"
    )
    handed_over = datetime.fromisoformat(row[Common.MODIFIED_ON])
    sync_asked = datetime.now(UTC)

    run = await world.sync()

    [in_xero] = world.xero_invoices()
    written = await world.invoice(good)
    assert run.succeeded == 1
    [success] = run.successes
    assert success == SyncSuccess(
        record_id=good,
        record_number="R-1",
        customer_name="Fabrikam Ltd",
        xero_invoice_id=in_xero.invoice_id,
        xero_url=written[InvoiceColumns.XERO_URL],
        lag_seconds=success.lag_seconds,
    )
    # From the hand-over (the invoice's last edit in Dynamics) to its write-back in this run.
    assert success.lag_seconds is not None
    waited_before_sync = (sync_asked - handed_over).total_seconds()
    assert waited_before_sync <= success.lag_seconds
    assert success.lag_seconds <= (run.finished_at - handed_over).total_seconds()
    assert written[InvoiceColumns.XERO_URL]
    [failure] = run.failures
    assert (failure.record_id, failure.record_number, failure.customer_name) == (
        bad_currency,
        "R-2",
        "Fabrikam Ltd",
    )
