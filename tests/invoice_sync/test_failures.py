"""Failures are per invoice, in words a finance user acts on; the rest of the run goes on, and
setting the export status back to No retries a fixed invoice."""

from __future__ import annotations

import asyncio

from dxc_shared.dynamics.schema import ExportStatus, SyncOutcome
from prometheus_client import REGISTRY

from tests.invoice_sync.conftest import World, WorldFactory
from tests.support.polling import eventually_async


def failures_counted(reason: str) -> float:
    return REGISTRY.get_sample_value("dxc_invoice_sync_failures_total", {"reason": reason}) or 0.0


async def test_each_bad_invoice_fails_alone_with_its_reason_and_a_fix_retries_it(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    unknown_account = await world.xero_reference_row("dxc_xeroaccounts", code="999")
    invalid_tax = await world.xero_reference_row("dxc_xerotaxrates", taxtype="BOGUS")
    good = await world.new_invoice("F-1")
    bad_account = await world.new_invoice(
        "F-2",
        lines=[
            {
                "product": "WIDGET-A",
                "quantity": 1,
                "dxc_AccountId@odata.bind": f"/dxc_xeroaccounts({unknown_account})",
            }
        ],
    )
    bad_tax = await world.new_invoice(
        "F-3",
        lines=[
            {
                "productdescription": "Consulting",
                "quantity": 2,
                "priceperunit": 100,
                "dxc_TaxRateId@odata.bind": f"/dxc_xerotaxrates({invalid_tax})",
            }
        ],
    )
    bad_currency = await world.new_invoice("F-4", currency="JPY")
    await world.hand_over(good, bad_account, bad_tax, bad_currency)
    before = {
        reason: failures_counted(reason)
        for reason in ("account_code_unknown", "tax_type_invalid", "currency_not_enabled")
    }

    run = await world.sync()

    assert (run.succeeded, run.failed, run.error) == (1, 3, None)
    messages = {failure.record_number: failure.message for failure in run.failures}
    assert messages["F-2"].startswith(
        "The account code '999' is not in Xero's chart of accounts (or is archived)."
    )
    assert messages["F-3"].startswith(
        "The tax type 'BOGUS' does not exist in Xero or cannot be used on sales invoices."
    )
    assert messages["F-4"].startswith("The currency JPY is not enabled in Xero.")
    for number, invoice_id in (("F-2", bad_account), ("F-3", bad_tax), ("F-4", bad_currency)):
        assert (await world.invoice(invoice_id))["dxc_exportstatus"] == ExportStatus.FAILED
        [history] = await world.history(invoice_id)
        assert (history["dxc_outcome"], history["dxc_message"]) == (
            SyncOutcome.FAILED,
            messages[number],
        )
    assert (await world.invoice(good))["dxc_exportstatus"] == ExportStatus.YES
    assert len(world.xero_invoices()) == 1
    for reason, count in before.items():
        assert failures_counted(reason) == count + 1

    # A person fixes the account and sets the export status back to No.
    await world.dataverse.update("dxc_xeroaccounts", unknown_account, {"dxc_code": "200"})
    await world.dataverse.update("invoices", bad_account, {"dxc_exportstatus": ExportStatus.NO})
    run = await world.sync()

    assert (run.succeeded, run.failed) == (1, 0)
    assert (await world.invoice(bad_account))["dxc_exportstatus"] == ExportStatus.YES
    outcomes = [row["dxc_outcome"] for row in await world.history(bad_account)]
    assert outcomes == [SyncOutcome.FAILED, SyncOutcome.SUCCESS]
    assert len(world.xero_invoices()) == 2


async def test_a_mapping_to_a_column_dynamics_does_not_have_stops_the_run_in_words(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory(field_mappings={"new_ponumber": "Reference"})
    invoice_id = await world.new_invoice("F-9")
    await world.hand_over(invoice_id)

    run = await world.sync()

    assert run.error is not None
    assert run.error.startswith("Dynamics 365 refused a request of the connector:")
    assert "new_ponumber" in run.error
    assert (await world.invoice(invoice_id))["dxc_exportstatus"] is None
    assert world.xero_invoices() == []


async def test_a_fix_made_while_the_run_writes_the_failure_is_not_overruled(
    world_factory: WorldFactory,
) -> None:
    """A person who sets the export status back to No while the run that failed the invoice is
    still writing keeps their No: the failure is written only over the version the run read,
    and the next run sends the invoice."""
    world: World = await world_factory()
    unknown_account = await world.xero_reference_row("dxc_xeroaccounts", code="999")
    invoice = await world.new_invoice(
        "F-9",
        lines=[
            {
                "product": "WIDGET-A",
                "quantity": 1,
                "dxc_AccountId@odata.bind": f"/dxc_xeroaccounts({unknown_account})",
            }
        ],
    )
    await world.hand_over(invoice)
    world.dynamics.admin(
        "POST",
        "faults",
        json={"kind": "latency", "path": "*$batch", "latency_seconds": 3.0, "count": 1},
    )
    run = asyncio.create_task(world.sync())

    async def write_back_held() -> bool:
        faults = await asyncio.to_thread(world.dynamics.admin, "GET", "faults")
        return not [f for f in faults.json() if f["path"] == "*$batch"]

    await eventually_async(write_back_held)
    # The fix: the line's account removed, the export status set back to No.
    [line] = await world.dataverse.query(
        "invoicedetails", select=["invoicedetailid"], filter=f"_invoiceid_value eq {invoice}"
    )
    await world.dataverse.update(
        "invoicedetails", line["invoicedetailid"], {"dxc_AccountId@odata.bind": None}
    )
    await world.dataverse.update("invoices", invoice, {"dxc_exportstatus": ExportStatus.NO.value})

    assert (await run).failed == 1  # this run did fail it, and says so in the portal
    assert (await world.invoice(invoice))["dxc_exportstatus"] == ExportStatus.NO

    again = await world.sync()

    assert (again.succeeded, again.failed) == (1, 0), again
    assert (await world.invoice(invoice))["dxc_exportstatus"] == ExportStatus.YES


async def test_a_fix_made_while_a_run_reads_is_seen_not_overruled(
    world_factory: WorldFactory,
) -> None:
    """A person fixes the sales account in the settings and hands the failed invoice over again
    while a run is reading (its read of the invoices takes two seconds here). The run reads the
    settings after the invoices: it either sees the invoice with the fix, or not at all (the
    next run sends it). Reading the settings first, it failed the invoice again over the very
    version handed over after the fix, and nothing sent it after."""
    world: World = await world_factory()
    await world.settings(defaultsalesaccountcode="999")
    invoice_id = await world.new_invoice("FIX-1")
    await world.hand_over(invoice_id)
    assert (await world.sync()).failed == 1

    world.dynamics.admin(
        "POST",
        "faults",
        json={
            "kind": "latency",
            "method": "GET",
            "path": "/orgs/*/api/data/v9.2/invoices",
            "count": 1,
            "latency_seconds": 2.0,
        },
    ).raise_for_status()
    since = len(world.dynamics.admin("GET", "calls").json())
    reading = asyncio.create_task(world.sync())

    async def settings_read() -> bool:
        calls = world.dynamics.admin("GET", "calls").json()[since:]
        return any(call["path"].endswith("/dxc_connectorsettings") for call in calls)

    await eventually_async(settings_read)
    await world.settings(defaultsalesaccountcode="200")
    await world.dataverse.update(
        "invoices", invoice_id, {"dxc_exportstatus": ExportStatus.NO.value}
    )
    await reading

    await world.sync()
    assert (await world.invoice(invoice_id))["dxc_exportstatus"] == ExportStatus.YES
    outcomes = [row["dxc_outcome"] for row in await world.history(invoice_id)]
    assert outcomes == [SyncOutcome.FAILED, SyncOutcome.SUCCESS]
