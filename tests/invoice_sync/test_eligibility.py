"""When an invoice is picked up: each rule alone keeps it out (skipped, no failure, no history),
and once the rule holds the next run exports it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dxc_shared.dynamics.schema import ExportStatus

from tests.invoice_sync.conftest import World, WorldFactory


async def _assert_skipped_then_exported(
    world: World, invoice_id: str, fix: Callable[[], Awaitable[None]]
) -> None:
    run = await world.sync()
    assert (run.succeeded, run.failed, run.error) == (0, 0, None)
    assert world.xero_invoices() == []
    assert await world.history(invoice_id) == []
    await fix()
    run = await world.sync()
    assert (run.succeeded, run.failed) == (1, 0), run.failures
    assert (await world.invoice(invoice_id))["dxc_exportstatus"] == ExportStatus.YES
    assert len(world.xero_invoices()) == 1


async def test_without_a_price_list_an_invoice_waits(world_factory: WorldFactory) -> None:
    world: World = await world_factory()
    invoice_id = await world.new_invoice("T-1", price_list=None)
    await world.hand_over(invoice_id)
    levels = await world.ids_of("pricelevels", "pricelevelid", "name")

    async def fix() -> None:
        await world.dataverse.update(
            "invoices",
            invoice_id,
            {"pricelevelid@odata.bind": f"/pricelevels({levels['Retail NZD']})"},
        )

    await _assert_skipped_then_exported(world, invoice_id, fix)


async def test_without_a_customer_an_invoice_waits(world_factory: WorldFactory) -> None:
    world: World = await world_factory()
    invoice_id = await world.new_invoice("T-2", customer=None)
    await world.hand_over(invoice_id)
    accounts = await world.ids_of("accounts", "accountid", "name")

    async def fix() -> None:
        await world.dataverse.update(
            "invoices",
            invoice_id,
            {"customerid_account@odata.bind": f"/accounts({accounts['Fabrikam Ltd']})"},
        )

    await _assert_skipped_then_exported(world, invoice_id, fix)


async def test_without_lines_an_invoice_waits(world_factory: WorldFactory) -> None:
    world: World = await world_factory()
    invoice_id = await world.new_invoice("T-3", lines=[])
    await world.hand_over(invoice_id)

    async def fix() -> None:
        world.seed(
            "invoicedetail",
            [
                {
                    "invoiceid@odata.bind": f"/invoices({invoice_id})",
                    "isproductoverridden": True,
                    "productdescription": "Late addition",
                    "quantity": 1,
                    "priceperunit": 10,
                }
            ],
        )

    await _assert_skipped_then_exported(world, invoice_id, fix)


async def test_an_invoice_waits_until_it_is_delivered_in_the_connections_time_zone(
    world_factory: WorldFactory,
) -> None:
    # Kiritimati is 14 hours ahead of UTC: for most of the UTC day its date is already the next.
    zone = "Pacific/Kiritimati"
    world: World = await world_factory(time_zone=zone)
    today_there = datetime.now(ZoneInfo(zone)).date()
    due_today = await world.new_invoice("T-4", delivered=today_there)
    tomorrow = await world.new_invoice("T-5", delivered=today_there + timedelta(days=1))
    await world.hand_over(due_today, tomorrow)

    run = await world.sync()

    assert (run.succeeded, run.failed) == (1, 0)
    assert (await world.invoice(due_today))["dxc_exportstatus"] == ExportStatus.YES
    assert (await world.invoice(tomorrow))["dxc_exportstatus"] is None
    assert await world.history(tomorrow) == []


async def test_an_invoice_waits_until_it_is_handed_to_the_connector(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    invoice_id = await world.new_invoice("T-6")

    async def fix() -> None:
        await world.hand_over(invoice_id)

    await _assert_skipped_then_exported(world, invoice_id, fix)


@pytest.mark.parametrize("status", [ExportStatus.YES, ExportStatus.FAILED])
async def test_only_export_status_no_is_picked_up(
    world_factory: WorldFactory, status: ExportStatus
) -> None:
    world: World = await world_factory()
    invoice_id = await world.new_invoice("T-7", dxc_exportstatus=status.value)
    await world.hand_over(invoice_id)

    async def fix() -> None:  # a person sets it back to No to retry
        await world.dataverse.update("invoices", invoice_id, {"dxc_exportstatus": ExportStatus.NO})

    await _assert_skipped_then_exported(world, invoice_id, fix)
