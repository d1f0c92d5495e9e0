"""Exactly once: a crash between the Xero create and the Dynamics write-back, a lost answer
from Xero, and two workers with jobs for the same connection never give a second Xero invoice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from dxc_shared.db import Database
from dxc_shared.dynamics.schema import ExportStatus, SyncOutcome
from dxc_shared.messages import SyncInvoicesJob
from invoice_sync.ledger.models import ExportState, InvoiceExport
from prometheus_client import REGISTRY

from tests.invoice_sync.conftest import World, WorldFactory
from tests.support.polling import eventually


async def _exported_once(world: World, invoice_ids: list[str]) -> None:
    xero_invoices = world.xero_invoices()
    assert len(xero_invoices) == len(invoice_ids)
    xero_ids = {invoice.invoice_id for invoice in xero_invoices}
    for invoice_id in invoice_ids:
        written = await world.invoice(invoice_id)
        assert written["dxc_exportstatus"] == ExportStatus.YES
        assert written["dxc_xeroinvoiceid"] in xero_ids
        outcomes = [row["dxc_outcome"] for row in await world.history(invoice_id)]
        assert outcomes == [SyncOutcome.SUCCESS]
    assert len({(await world.invoice(i))["dxc_xeroinvoiceid"] for i in invoice_ids}) == len(
        invoice_ids
    )


async def _all_linked(world: World, invoice_ids: list[str]) -> None:
    messages = [row["dxc_message"] for i in invoice_ids for row in await world.history(i)]
    assert messages
    assert all("linked instead of created again" in message for message in messages)


async def test_a_crash_between_the_xero_create_and_the_write_back_is_redelivered_safely(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    invoice_ids = [await world.new_invoice(f"X-{n}") for n in range(3)]
    await world.hand_over(*invoice_ids)
    # Dynamics fails the write-back once: the job dies after Xero created the invoices.
    world.fail_write_back_once()

    run = await world.sync()  # the report comes from the redelivered attempt

    assert (run.succeeded, run.failed, run.error) == (3, 0, None)
    await _exported_once(world, invoice_ids)
    await _all_linked(world, invoice_ids)


async def test_a_create_that_times_out_is_retried_without_a_duplicate(
    world_factory: WorldFactory,
) -> None:
    # The worker gives up waiting for Xero after 1 s; the job is retried with back-off.
    world: World = await world_factory(http_timeout_seconds=1.0)
    invoice_ids = [await world.new_invoice(f"L-{n}") for n in range(2)]
    await world.hand_over(*invoice_ids)
    world.slow_xero_invoices_once("PUT", seconds=2.0)

    run = await world.sync()

    assert (run.succeeded, run.failed, run.error) == (2, 0, None)
    await _exported_once(world, invoice_ids)


@pytest.mark.parametrize("xero_numbering", [True, False])
async def test_an_invoice_a_crash_left_pending_is_found_in_xero_and_linked(
    world_factory: WorldFactory, migrated_postgres: str, xero_numbering: bool
) -> None:
    """The worker died after Xero created the invoice but before the ledger said so: the
    ledger row is `pending`, the invoice is in Xero (found by reference, or by number when
    Dynamics numbers invoices)."""
    world: World = await world_factory()
    await world.settings(usexeroinvoicenumber=xero_numbering)
    invoice_id = await world.new_invoice("P-77")
    await world.hand_over(invoice_id)
    earlier = {
        "Type": "ACCREC",
        "Contact": {"Name": "Fabrikam Ltd"},
        "Reference": "P-77",
        "LineItems": [{"Description": "Widget A", "Quantity": 2, "UnitAmount": 25.5}],
    }
    if not xero_numbering:
        earlier["InvoiceNumber"] = "P-77"
    response = world.xero.admin(
        "POST", f"organisations/{world.xero.tenant}/invoices", json={"Invoices": [earlier]}
    )
    response.raise_for_status()
    database = Database(migrated_postgres)
    async with database.unit_of_work() as session:
        session.add(
            InvoiceExport(
                connection_id=world.connection_id,
                dynamics_invoice_id=invoice_id,
                dynamics_version="1",
                state=ExportState.PENDING,
            )
        )
    await database.dispose()

    run = await world.sync()

    assert (run.succeeded, run.failed, run.error) == (1, 0, None)
    await _exported_once(world, [invoice_id])
    await _all_linked(world, [invoice_id])


async def test_two_workers_with_jobs_for_one_connection_at_once_create_nothing_twice(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory(replicas=2)
    invoice_ids = [await world.new_invoice(f"W-{n}") for n in range(6)]
    await world.hand_over(*invoice_ids)
    # Slow Xero down so the jobs overlap.
    world.xero.admin(
        "POST",
        "faults",
        json={"kind": "latency", "path": "*/Invoices", "latency_seconds": 0.5},
    )
    deferred_before = (
        REGISTRY.get_sample_value("dxc_invoice_sync_jobs_total", {"result": "deferred"}) or 0.0
    )

    jobs = [
        SyncInvoicesJob(job_id=uuid.uuid4(), profile=world.profile, due_at=datetime.now(UTC))
        for _ in range(4)
    ]
    await asyncio.gather(*(world.bus.publish(job) for job in jobs))

    await eventually(lambda: sum(run.succeeded for run in world.runs) >= 6)
    await eventually(
        lambda: (
            (
                REGISTRY.get_sample_value("dxc_invoice_sync_jobs_total", {"result": "deferred"})
                or 0.0
            )
            > deferred_before
        )
    )
    world.xero.admin("DELETE", "faults")
    await _exported_once(world, invoice_ids)
    assert sum(run.failed for run in world.runs) == 0
    contacts = [c.name for c in world.xero_org.contacts.values()]
    assert contacts.count("Fabrikam Ltd") == 1
    assert [i.code for i in world.xero_org.items.values()].count("WIDGET-A") == 1
