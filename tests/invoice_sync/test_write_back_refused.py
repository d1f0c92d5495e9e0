"""A write-back Dynamics refuses (the connector's user lacks Write on Invoice): the Xero invoice
stays linked in the ledger, every run reports the invoice as not written back with the refusal
in words and the privilege refused, and once the privilege is granted the next run writes it
back without creating it again."""

from __future__ import annotations

from typing import Any

from dxc_shared.db import Database
from dxc_shared.dynamics.schema import ExportStatus, SyncOutcome
from invoice_sync.ledger.models import ExportState, InvoiceExport
from sqlalchemy import select

from tests.invoice_sync.conftest import World


def _deny(world: World, *privileges: str) -> None:
    world.dynamics.admin(
        "PUT",
        f"orgs/{world.org}/privileges/{world.dynamics.settings.demo_user}",
        json={"denied": list(privileges)},
    )


async def _ledger_state(database_url: str, world: World, invoice_id: str) -> str | None:
    database = Database(database_url)
    try:
        async with database.unit_of_work() as session:
            return await session.scalar(
                select(InvoiceExport.state).where(
                    InvoiceExport.connection_id == world.connection_id,
                    InvoiceExport.dynamics_invoice_id == invoice_id,
                )
            )
    finally:
        await database.dispose()


async def test_a_refused_write_back_is_reported_and_retried_until_written(
    world_factory: Any, migrated_postgres: str
) -> None:
    world: World = await world_factory()
    invoice_id = await world.new_invoice("W-1")
    await world.hand_over(invoice_id)
    _deny(world, "prvWriteInvoice")

    for _ in range(2):  # every run says so, and none creates it again
        run = await world.sync()
        assert run.succeeded == 0
        assert [f.record_id for f in run.failures] == [invoice_id]
        assert "Dynamics refused the update: the connector's user lacks Write on Invoice" in (
            run.failures[0].message
        )
        assert run.missing_privileges == ["prvWriteInvoice"]
        assert len(world.xero_invoices()) == 1
        assert await _ledger_state(migrated_postgres, world, invoice_id) == ExportState.CREATED

    _deny(world)
    run = await world.sync()

    assert (run.succeeded, run.failed, run.missing_privileges) == (1, 0, [])
    assert len(world.xero_invoices()) == 1
    written = await world.invoice(invoice_id)
    assert written["dxc_exportstatus"] == ExportStatus.YES
    assert written["dxc_xeroinvoiceid"] == world.xero_invoices()[0].invoice_id
    assert [row["dxc_outcome"] for row in await world.history(invoice_id)] == [SyncOutcome.SUCCESS]
    assert await _ledger_state(migrated_postgres, world, invoice_id) == ExportState.WRITTEN_BACK
