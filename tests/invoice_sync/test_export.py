"""invoice-sync end to end: a job on RabbitMQ, PostgreSQL, token-broker, and both sandboxes over
real HTTP."""

from __future__ import annotations

from decimal import Decimal

from dxc_shared.dynamics.schema import ExportStatus, SyncOutcome

from tests.invoice_sync.conftest import World, WorldFactory


async def test_the_demo_invoices_that_are_ready_reach_xero_and_dynamics_is_told(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    ids = await world.invoice_ids()
    # Paid and cancelled invoices are read-only in Dynamics: nobody can hand them over.
    await world.hand_over(*(ids[f"INV-100{n}"] for n in (1, 2, 3, 4, 8)))

    run = await world.sync()

    assert run.error is None, run.error
    assert run.failed == 0, run.failures
    # INV-1003 is not delivered yet and INV-1004 has no price list: skipped (told why), not
    # failed.
    assert run.succeeded == 3
    xero_invoices = {i.reference: i for i in world.xero_invoices()}
    assert set(xero_invoices) == {"INV-1001", "INV-1002", "INV-1008"}
    first = await world.invoice(ids["INV-1001"])
    assert first["dxc_exportstatus"] == ExportStatus.YES
    assert first["dxc_xeroinvoiceid"] == xero_invoices["INV-1001"].invoice_id
    assert first["dxc_xeroinvoicenumber"] == xero_invoices["INV-1001"].number
    assert first["dxc_xerostatus"] == "DRAFT"
    history = await world.history(ids["INV-1001"])
    assert [row["dxc_outcome"] for row in history] == [SyncOutcome.SUCCESS]
    # Every kind of line: existing products as Items, a write-in, a zero/zero note line.
    lines = [
        (line.item_code, line.description, line.quantity, line.unit_amount, line.account_code)
        for line in xero_invoices["INV-1001"].line_items
    ]
    assert lines == [
        ("WIDGET-A", "Widget A", 10, 25.5, "200"),
        ("CONS-100", "Consulting hour", 4, 180, "200"),
        (None, "Travel to site (write-in)", 1, 120, "200"),
        (None, "Delivered to loading dock B", None, None, None),
    ]
    assert xero_invoices["INV-1001"].total_tax == Decimal("164.25")  # 15% GST from account 200
    assert xero_invoices["INV-1008"].currency_code == "USD"
    # Customers and products were created once, findable again by the Dynamics ids.
    contacts = {c.name: c for c in world.xero_org.contacts.values()}
    assert contacts["Contoso Pharmaceuticals (NZ)"].contact_number is not None
    assert contacts["Yvonne McKay"].contact_number is not None
    assert {"WIDGET-A", "CONS-100", "SUPPORT-Y"} <= {i.code for i in world.xero_org.items.values()}
    assert {s.record_number for s in run.skipped} == {"INV-1003", "INV-1004"}
    for number in ("INV-1003", "INV-1004"):
        untouched = await world.invoice(ids[number])
        assert untouched["dxc_exportstatus"] is None
        history = await world.history(ids[number])
        assert [row["dxc_outcome"] for row in history] == [SyncOutcome.SKIPPED]
