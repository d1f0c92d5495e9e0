"""When an invoice is picked up: each rule alone keeps it out (no failure, no Xero invoice), a
handed-over invoice kept out gets a Skipped sync history row with the reason, once per reason
however many runs see it, and once the rule holds the next run exports it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dxc_shared.dynamics.columns import InvoiceState, InvoiceStatus
from dxc_shared.dynamics.schema import ExportStatus, SyncOutcome

from tests.invoice_sync.conftest import World, WorldFactory


async def _assert_skipped_then_exported(
    world: World, invoice_id: str, fix: Callable[[], Awaitable[None]], reason: str | None = None
) -> None:
    """Two runs keep the invoice out; with a `reason` the first tells it (history and report),
    the second does not tell it again; without one nothing is told. Then `fix` lets it go."""
    first, second = await world.sync(), await world.sync()
    for run in (first, second):
        assert (run.succeeded, run.failed, run.error) == (0, 0, None)
    assert world.xero_invoices() == []
    assert [s.message for s in first.skipped] == ([reason] if reason else [])
    assert second.skipped == []
    told = [(SyncOutcome.SKIPPED, reason)] if reason else []
    assert _outcomes(await world.history(invoice_id)) == told
    await fix()
    run = await world.sync()
    assert (run.succeeded, run.failed) == (1, 0), run.failures
    assert (await world.invoice(invoice_id))["dxc_exportstatus"] == ExportStatus.YES
    assert len(world.xero_invoices()) == 1
    history = _outcomes(await world.history(invoice_id))
    assert [outcome for outcome, _ in history] == [*(o for o, _ in told), SyncOutcome.SUCCESS]


def _outcomes(history: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(row["dxc_outcome"], row["dxc_message"]) for row in history]


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

    await _assert_skipped_then_exported(
        world, invoice_id, fix, "Not sent: the invoice has no price list."
    )


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

    await _assert_skipped_then_exported(
        world, invoice_id, fix, "Not sent: the invoice has no customer."
    )


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

    await _assert_skipped_then_exported(
        world, invoice_id, fix, "Not sent: the invoice has no lines."
    )


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
    day = today_there + timedelta(days=1)
    waiting = f"Waiting: the delivery date {day.day} {day:%b %Y} is in the future."
    assert [s.message for s in run.skipped] == [waiting]
    assert _outcomes(await world.history(tomorrow)) == [(SyncOutcome.SKIPPED, waiting)]


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


@pytest.mark.parametrize(
    ("state", "status", "reason"),
    [
        (InvoiceState.PAID, InvoiceStatus.COMPLETE, "Already Paid in Dynamics: nothing sent."),
        (
            InvoiceState.CANCELED,
            InvoiceStatus.CANCELED,
            "Already Canceled in Dynamics: nothing sent.",
        ),
    ],
    ids=["paid", "canceled"],
)
async def test_a_paid_or_canceled_invoice_is_told_it_is_not_sent(
    world_factory: WorldFactory, state: InvoiceState, status: InvoiceStatus, reason: str
) -> None:
    world: World = await world_factory()
    invoice_id = await world.new_invoice("T-8")
    await world.hand_over(invoice_id)
    await world.dataverse.update(
        "invoices", invoice_id, {"statecode": state.value, "statuscode": status.value}
    )

    first, second = await world.sync(), await world.sync()

    assert (first.succeeded, first.failed, [s.message for s in first.skipped]) == (0, 0, [reason])
    assert second.skipped == []
    assert world.xero_invoices() == []
    assert _outcomes(await world.history(invoice_id)) == [(SyncOutcome.SKIPPED, reason)]
