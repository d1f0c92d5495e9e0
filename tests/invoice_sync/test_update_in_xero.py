""" "Update in Xero" (issue 16): a person sets it on an exported invoice and the connector makes
Xero's invoice match, reconciled as a create is, exactly once; Xero's refusals (paid, voided,
payments allocated) are said in words; No on an exported invoice says how to send changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from dxc_shared.db import Database
from dxc_shared.dynamics.schema import DefaultInvoiceStatus, ExportStatus, SyncOutcome
from invoice_sync.ledger.models import ExportState, InvoiceExport

from tests.invoice_sync.conftest import World, WorldFactory
from tests.invoice_sync.test_cancellations import pay


async def _exported(world: World, number: str, status: DefaultInvoiceStatus, **columns: Any) -> str:
    await world.settings(defaultinvoicestatus=status.value)
    invoice_id = await world.new_invoice(number, **columns)
    await world.hand_over(invoice_id)
    run = await world.sync()
    assert (run.succeeded, run.failed) == (1, 0), run.failures
    return invoice_id


async def _set_quantity(world: World, invoice_id: str, quantity: int) -> None:
    [line] = await world.dataverse.query(
        "invoicedetails", select=["invoicedetailid"], filter=f"_invoiceid_value eq {invoice_id}"
    )
    await world.dataverse.update("invoicedetails", line["invoicedetailid"], {"quantity": quantity})


async def _ask_update(world: World, invoice_id: str, **columns: Any) -> None:
    """What a Dynamics user does: edit the invoice and choose "Update in Xero"."""
    await world.dataverse.update(
        "invoices", invoice_id, {**columns, "dxc_exportstatus": ExportStatus.UPDATE.value}
    )


async def _total(world: World, invoice_id: str) -> Decimal:
    [row] = await world.dataverse.query(
        "invoices", select=["totalamount"], filter=f"invoiceid eq {invoice_id}"
    )
    return Decimal(str(row["totalamount"]))


async def _outcomes(world: World, invoice_id: str) -> list[tuple[int, str]]:
    return [(row["dxc_outcome"], row["dxc_message"]) for row in await world.history(invoice_id)]


def _xero_writes(world: World) -> list[dict[str, Any]]:
    calls = world.xero.admin("GET", "calls", params={"tenant_id": world.xero.tenant}).json()
    return [c for c in calls if c["method"] in ("PUT", "POST") and c["path"].endswith("/Invoices")]


async def test_a_draft_in_xero_takes_the_change_and_dynamics_says_updated(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    invoice_id = await _exported(world, "U-1", DefaultInvoiceStatus.DRAFT)
    [xero_invoice] = world.xero_invoices()
    before = xero_invoice.total

    await _set_quantity(world, invoice_id, 5)
    await _ask_update(world, invoice_id)
    run = await world.sync()

    assert (run.succeeded, run.failed) == (1, 0), run.failures
    [updated] = world.xero_invoices()
    assert updated.invoice_id == xero_invoice.invoice_id
    assert (updated.status, updated.total) == ("DRAFT", await _total(world, invoice_id))
    assert updated.total != before
    written = await world.invoice(invoice_id)
    assert written["dxc_exportstatus"] == ExportStatus.YES
    assert Decimal(str(written["dxc_amountdue"])) == updated.amount_due
    assert [o for o, _ in await _outcomes(world, invoice_id)] == [SyncOutcome.SUCCESS] * 2
    assert (await _outcomes(world, invoice_id))[-1][1].startswith(
        f"Updated in Xero as {updated.number} (DRAFT)."
    )
    # Nothing more happens on the next run.
    await world.sync()
    assert len(await world.history(invoice_id)) == 2


async def test_an_approved_invoice_takes_new_lines_amount_dates_and_reference(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory(field_mappings={"name": "Reference"})
    today = datetime.now(UTC).date()
    invoice_id = await _exported(
        world,
        "U-2",
        DefaultInvoiceStatus.AUTHORISED,
        delivered=today - timedelta(days=5),
        duedate=(today + timedelta(days=10)).isoformat(),
    )

    await _set_quantity(world, invoice_id, 3)
    delivered, due = today - timedelta(days=1), today + timedelta(days=40)
    await _ask_update(
        world,
        invoice_id,
        name="PO 77",
        datedelivered=delivered.isoformat(),
        duedate=due.isoformat(),
    )
    run = await world.sync()

    assert (run.succeeded, run.failed) == (1, 0), run.failures
    [updated] = world.xero_invoices()
    assert (updated.status, updated.reference) == ("AUTHORISED", "PO 77")
    assert (updated.date, updated.due_date) == (delivered, due)
    assert updated.total == await _total(world, invoice_id)
    written = await world.invoice(invoice_id)
    assert (written["dxc_exportstatus"], written["dxc_xerostatus"]) == (
        ExportStatus.YES,
        "AUTHORISED",
    )
    outcome, message = (await _outcomes(world, invoice_id))[-1]
    assert outcome == SyncOutcome.SUCCESS
    # Reconciled as a create is: Xero's tax on the new quantity is written to the Dynamics line.
    assert message.startswith(f"Updated in Xero as {updated.number} (AUTHORISED). Line 1's tax")


async def test_paid_voided_or_allocated_invoices_are_refused_with_the_reason(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    part_paid = await _exported(world, "U-3", DefaultInvoiceStatus.AUTHORISED)
    paid = await _exported(world, "U-4", DefaultInvoiceStatus.AUTHORISED)
    voided = await _exported(world, "U-5", DefaultInvoiceStatus.AUTHORISED)
    xero = {(await world.invoice(i))["dxc_xeroinvoiceid"]: i for i in (part_paid, paid, voided)}
    by_invoice = {i: x for x, i in xero.items()}
    numbers = {i.invoice_id: i.number for i in world.xero_invoices()}
    pay(world, by_invoice[part_paid], Decimal("10"))
    pay(world, by_invoice[paid], world.xero_org.invoices[by_invoice[paid]].amount_due)
    response = world.xero.http.post(
        world.xero.api("Invoices"),
        headers=world.xero.headers(),
        params={"summarizeErrors": "false"},
        json={"Invoices": [{"InvoiceID": by_invoice[voided], "Status": "VOIDED"}]},
    )
    assert response.json()["Invoices"][0]["Status"] == "VOIDED"
    totals = {x: i.total for x, i in world.xero_org.invoices.items()}

    for invoice_id in (part_paid, paid, voided):
        await _set_quantity(world, invoice_id, 7)
        await _ask_update(world, invoice_id)
    run = await world.sync()

    assert (run.succeeded, run.failed) == (0, 3)
    assert {x: i.total for x, i in world.xero_org.invoices.items()} == totals  # nothing changed
    said = {i: (await _outcomes(world, i))[-1] for i in (part_paid, paid, voided)}
    assert said[part_paid] == (
        SyncOutcome.FAILED,
        f"Not updated: {numbers[by_invoice[part_paid]]} has payments of 10.00 allocated in "
        "Xero, and Xero does not change an invoice with payments or credit notes allocated. "
        'Remove them in Xero first, then set the Xero export status to "Update in Xero" again.',
    )
    assert said[paid][1].startswith(
        f"Not updated: {numbers[by_invoice[paid]]} is paid in Xero, and Xero does not change a "
        "paid invoice."
    )
    assert said[voided][1].startswith(
        f"Not updated: {numbers[by_invoice[voided]]} is voided in Xero"
    )
    for invoice_id in (part_paid, paid, voided):
        assert (await world.invoice(invoice_id))["dxc_exportstatus"] == ExportStatus.FAILED
    assert {f.record_id for f in run.failures} == {part_paid, paid, voided}


async def test_an_update_is_sent_once_when_the_write_back_fails_after_xero_answered(
    world_factory: WorldFactory, migrated_postgres: str
) -> None:
    world: World = await world_factory()
    invoice_id = await _exported(world, "U-6", DefaultInvoiceStatus.DRAFT)
    await _set_quantity(world, invoice_id, 4)
    await _ask_update(world, invoice_id)
    world.xero.admin("DELETE", "calls")
    # Dynamics fails the write-back once: the job dies after Xero took the update, and the bus
    # delivers it again.
    world.fail_write_back_once()

    run = await world.sync()

    assert (run.succeeded, run.failed, run.error) == (1, 0, None)
    assert len(_xero_writes(world)) == 1  # the redelivery only told Dynamics
    [updated] = world.xero_invoices()
    assert updated.total == await _total(world, invoice_id)
    outcomes = await _outcomes(world, invoice_id)
    assert [o for o, _ in outcomes] == [SyncOutcome.SUCCESS] * 2
    assert outcomes[-1][1].startswith("Updated in Xero as")
    assert (await world.invoice(invoice_id))["dxc_exportstatus"] == ExportStatus.YES
    database = Database(migrated_postgres)
    async with database.unit_of_work() as session:
        entry = await session.get(InvoiceExport, (world.connection_id, invoice_id))
        state = entry.state if entry else None
    await database.dispose()
    assert state == ExportState.WRITTEN_BACK


async def test_no_on_an_exported_invoice_says_how_to_send_changes(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    invoice_id = await _exported(world, "U-7", DefaultInvoiceStatus.DRAFT)
    [xero_invoice] = world.xero_invoices()

    await _set_quantity(world, invoice_id, 9)
    await world.dataverse.update(
        "invoices", invoice_id, {"dxc_exportstatus": ExportStatus.NO.value}
    )
    run = await world.sync()

    assert (run.succeeded, run.failed) == (0, 0)
    assert [s.record_id for s in run.skipped] == [invoice_id]
    assert len(world.xero_invoices()) == 1
    assert (await world.invoice(invoice_id))["dxc_exportstatus"] == ExportStatus.YES
    assert (await _outcomes(world, invoice_id))[-1] == (
        SyncOutcome.INFORMATION,
        f"Already in Xero as {xero_invoice.number}: nothing was sent again. To send changes made "
        'in Dynamics since, set the Xero export status to "Update in Xero".',
    )


async def test_an_update_whose_answer_is_lost_is_sent_again_under_the_same_key(
    world_factory: WorldFactory,
) -> None:
    # The worker gives up waiting for Xero after 1 s; the job is retried with back-off and sends
    # the same request again, which Xero answers from its idempotency cache.
    world: World = await world_factory(http_timeout_seconds=1.0)
    invoice_id = await _exported(world, "U-8", DefaultInvoiceStatus.DRAFT)
    await _set_quantity(world, invoice_id, 6)
    await _ask_update(world, invoice_id)
    world.xero.admin("DELETE", "calls")
    world.slow_xero_invoices_once("POST", seconds=2.0)

    run = await world.sync()

    assert (run.succeeded, run.failed, run.error) == (1, 0, None)
    # Whether or not the first copy was answered before it was given up on, Xero changed the
    # invoice once: any second copy of the same request was answered from its cache.
    assert [w["idempotent_replay"] for w in _xero_writes(world)].count(False) == 1
    [updated] = world.xero_invoices()
    assert updated.total == await _total(world, invoice_id)
    outcomes = await _outcomes(world, invoice_id)
    assert [o for o, _ in outcomes] == [SyncOutcome.SUCCESS] * 2
