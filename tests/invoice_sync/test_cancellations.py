"""Cancelled or deleted exported invoices, end to end through the bus: each case of PRODUCT.md's
"Cancellations", exactly once even when a job runs again or Xero fails half-way."""

from __future__ import annotations

from decimal import Decimal

from dxc_shared.clients.dataverse import DataverseError
from dxc_shared.dynamics.schema import SYNC_HISTORY, DefaultInvoiceStatus, SyncOutcome

from tests.invoice_sync.conftest import World, WorldFactory
from tests.support.polling import eventually_async

CANCELED = {"statecode": 3, "statuscode": 100003}


async def exported(world: World, status: DefaultInvoiceStatus, *, credit_notes: bool = True) -> str:
    """An invoice exported to Xero with `status`, with automatic credit notes on or off."""
    await world.settings(defaultinvoicestatus=status.value, createcreditnotes=credit_notes)
    invoice_id = await world.new_invoice(f"X-{status.name}")
    await world.hand_over(invoice_id)
    assert (await world.sync()).succeeded == 1
    return invoice_id


def pay(world: World, xero_invoice_id: str, amount: Decimal) -> None:
    response = world.xero.admin(
        "POST",
        f"organisations/{world.xero.tenant}/payments",
        json={
            "Payments": [
                {
                    "Invoice": {"InvoiceID": xero_invoice_id},
                    "Account": {"Code": "090"},
                    "Amount": float(amount),
                    "Date": "2026-11-20",
                }
            ]
        },
    )
    response.raise_for_status()


async def cancel(world: World, invoice_id: str) -> None:
    await world.dataverse.update("invoices", invoice_id, CANCELED)


async def messages(world: World, invoice_id: str) -> list[str]:
    return [row["dxc_message"] for row in await world.history(invoice_id)]


async def test_a_cancelled_draft_is_deleted_in_xero_once(world_factory: WorldFactory) -> None:
    world: World = await world_factory()
    invoice_id = await exported(world, DefaultInvoiceStatus.DRAFT)
    [xero_invoice] = world.xero_invoices()

    await cancel(world, invoice_id)
    await world.sync()
    await world.sync()  # a second run changes nothing and says nothing more

    assert world.xero_org.invoices[xero_invoice.invoice_id].status == "DELETED"
    history = await messages(world, invoice_id)
    assert history[1:] == [
        "Invoice X-DRAFT was cancelled in Dynamics 365, so it was deleted in Xero."
    ]


async def test_a_cancelled_unpaid_authorised_invoice_is_fully_credited(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    invoice_id = await exported(world, DefaultInvoiceStatus.AUTHORISED)
    [xero_invoice] = world.xero_invoices()

    await cancel(world, invoice_id)
    await world.sync()
    await world.sync()

    [credit_note] = world.xero_org.credit_notes.values()
    assert credit_note.total == xero_invoice.total
    assert credit_note.reference == f"Cancellation of {xero_invoice.number}"
    assert xero_invoice.amount_credited == xero_invoice.total
    assert xero_invoice.amount_due == 0
    assert (await messages(world, invoice_id))[1:] == [
        "Invoice X-AUTHORISED was cancelled in Dynamics 365, so a credit note for the full "
        "amount was created in Xero and allocated to it."
    ]


async def test_a_cancelled_part_paid_invoice_gets_an_unallocated_credit_note(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    invoice_id = await exported(world, DefaultInvoiceStatus.AUTHORISED)
    [xero_invoice] = world.xero_invoices()
    pay(world, xero_invoice.invoice_id, Decimal("1.00"))

    await cancel(world, invoice_id)
    await world.sync()

    [credit_note] = world.xero_org.credit_notes.values()
    assert credit_note.total == xero_invoice.total
    assert credit_note.allocation_ids == []
    assert xero_invoice.amount_due == xero_invoice.total - Decimal("1.00")
    [message] = (await messages(world, invoice_id))[1:]
    assert "part paid in Xero" in message
    assert "Allocate it in Xero" in message


async def test_a_cancelled_paid_invoice_is_left_alone(world_factory: WorldFactory) -> None:
    world: World = await world_factory()
    invoice_id = await exported(world, DefaultInvoiceStatus.AUTHORISED)
    [xero_invoice] = world.xero_invoices()
    pay(world, xero_invoice.invoice_id, xero_invoice.total)

    await cancel(world, invoice_id)
    await world.sync()

    assert xero_invoice.status == "PAID"
    assert world.xero_org.credit_notes == {}
    assert (await messages(world, invoice_id))[1:] == ["The invoice is fully paid in Xero"]


async def test_with_the_setting_off_nothing_changes_in_xero(world_factory: WorldFactory) -> None:
    world: World = await world_factory()
    invoice_id = await exported(world, DefaultInvoiceStatus.AUTHORISED, credit_notes=False)
    [xero_invoice] = world.xero_invoices()

    await cancel(world, invoice_id)
    await world.sync()

    assert xero_invoice.status == "AUTHORISED"
    assert world.xero_org.credit_notes == {}
    [message] = (await messages(world, invoice_id))[1:]
    assert "Creating credit notes automatically is switched off" in message


async def test_a_deleted_invoice_is_credited_and_the_history_names_it(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    invoice_id = await exported(world, DefaultInvoiceStatus.AUTHORISED)
    [xero_invoice] = world.xero_invoices()

    await world.dataverse.request("DELETE", f"invoices({invoice_id})", operation="delete")
    await world.sync()

    [credit_note] = world.xero_org.credit_notes.values()
    assert credit_note.allocation_ids
    rows = await world.dataverse.query(
        SYNC_HISTORY.entity_set,
        select=["dxc_message", "dxc_outcome"],
        filter=f"_dxc_connectorid_value eq {world.connector_id} and _dxc_invoiceid_value eq null",
    )
    # The Dynamics number went with the invoice: the history names it by its Xero number.
    assert (
        SyncOutcome.SUCCESS.value,
        f"Invoice {xero_invoice.number} was cancelled in Dynamics 365, so a credit note for the "
        "full amount was created in Xero and allocated to it.",
    ) in [(row["dxc_outcome"], row["dxc_message"]) for row in rows]


async def test_a_failed_allocation_is_retried_without_a_second_credit_note(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    invoice_id = await exported(world, DefaultInvoiceStatus.AUTHORISED)
    [xero_invoice] = world.xero_invoices()
    world.xero.admin(
        "POST",
        "faults",
        json={"kind": "error", "status": 503, "path": "*Allocations*", "count": 1},
    ).raise_for_status()

    await cancel(world, invoice_id)
    run = await world.sync()

    assert run.error is None
    allocations = world.xero.admin("GET", "calls", params={"path_contains": "Allocations"})
    assert [call["status"] for call in allocations.json()] == [503, 200]
    [credit_note] = world.xero_org.credit_notes.values()
    assert credit_note.allocation_ids
    assert xero_invoice.amount_due == 0
    assert len(await messages(world, invoice_id)) == 2


def retain_changes_for(world: World, days: int) -> None:
    """The organisation's change-tracking retention (0: delta tokens expire within a second)."""
    world.dynamics.admin("PUT", f"orgs/{world.org}/change-tracking", json={"expire_in_days": days})


async def delta_tokens_expire(world: World) -> None:
    """Wait until a delta link issued now is refused as expired: then every earlier one is."""
    fresh = await world.dataverse.changes("invoices", select=["invoiceid"], delta_link=None)
    assert fresh.delta_link is not None

    async def expired() -> bool:
        try:
            await world.dataverse.request("GET", str(fresh.delta_link), operation="contract")
        except DataverseError as error:
            return error.code == "0x80044352"
        return False

    await eventually_async(expired)


def expired_delta_reads(world: World) -> int:
    """Change-tracking reads of invoices that Dynamics refused (an expired delta link)."""
    calls = world.dynamics.admin(
        "GET", "calls", params={"org": world.org, "method": "GET", "path_contains": "invoices"}
    ).json()
    return sum(1 for call in calls if call["status"] == 400)


async def test_an_expired_delta_link_is_replaced_by_a_full_read_without_duplicate_credits(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    await world.settings(
        defaultinvoicestatus=DefaultInvoiceStatus.AUTHORISED.value, createcreditnotes=True
    )
    first = await world.new_invoice("X-FIRST")
    second = await world.new_invoice("X-SECOND")
    third = await world.new_invoice("X-THIRD")
    await world.hand_over(first, second, third)
    assert (await world.sync()).succeeded == 3
    numbers = {invoice.number for invoice in world.xero_invoices()}
    await cancel(world, first)
    await world.sync()
    assert len(world.xero_org.credit_notes) == 1

    # The connector pauses longer than the organisation keeps changes; meanwhile the second
    # invoice is cancelled and the third deleted.
    retain_changes_for(world, 0)
    await delta_tokens_expire(world)
    await cancel(world, second)
    await world.dataverse.request("DELETE", f"invoices({third})", operation="delete")
    refused_before = expired_delta_reads(world)
    await world.sync()

    # The stored delta link was refused and every invoice read again: the second invoice is
    # credited, the first (already handled, still Canceled in the full read) is not again, and
    # the third, missing from the full read and gone when asked for, is credited as deleted.
    assert expired_delta_reads(world) == refused_before + 1
    references = sorted(str(note.reference) for note in world.xero_org.credit_notes.values())
    assert references == sorted(f"Cancellation of {number}" for number in numbers)
    assert len(await messages(world, first)) == 2
    assert len(await messages(world, second)) == 2

    # The full read stored a new delta link: with changes kept again, the next run uses it.
    retain_changes_for(world, 7)
    await world.sync()
    assert expired_delta_reads(world) == refused_before + 1
    assert len(world.xero_org.credit_notes) == 3
