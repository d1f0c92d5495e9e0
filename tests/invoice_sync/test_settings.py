"""Every setting of the connector (and the mapping template, and per-line overrides), one test
each, end to end."""

from __future__ import annotations

import pytest
from dxc_shared.dynamics.schema import DefaultInvoiceStatus, ExportStatus, SyncOutcome

from tests.invoice_sync.conftest import World, WorldFactory


async def test_dynamics_numbering_makes_the_dynamics_number_the_xero_number(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    await world.settings(usexeroinvoicenumber=False)
    invoice_id = await world.new_invoice("DYN-0042")
    await world.hand_over(invoice_id)

    run = await world.sync()

    assert run.succeeded == 1
    [xero_invoice] = world.xero_invoices()
    assert xero_invoice.number == "DYN-0042"
    assert (await world.invoice(invoice_id))["dxc_xeroinvoicenumber"] == "DYN-0042"


async def test_xero_numbering_lets_xero_number_it_and_keeps_ours_as_reference(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    await world.settings(usexeroinvoicenumber=True)
    invoice_id = await world.new_invoice("DYN-0043")
    await world.hand_over(invoice_id)

    await world.sync()

    [xero_invoice] = world.xero_invoices()
    assert xero_invoice.number != "DYN-0043"
    assert xero_invoice.reference == "DYN-0043"
    assert (await world.invoice(invoice_id))["dxc_xeroinvoicenumber"] == xero_invoice.number


async def test_with_contact_creation_off_a_missing_contact_fails_the_invoice_in_words(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    await world.settings(createcontacts=False)
    known_id = world.xero_contact("Northwind Traders")  # kept in Xero already
    missing = await world.new_invoice("C-1", customer=("account", "Fabrikam Ltd"))
    known = await world.new_invoice("C-2", customer=("account", "Northwind Traders"))
    await world.hand_over(missing, known)

    run = await world.sync()

    message = "Contact 'Fabrikam Ltd' does not exist in Xero and creating contacts is switched off"
    assert (run.succeeded, run.failed) == (1, 1)
    assert run.failures[0].record_number == "C-1"
    assert run.failures[0].message.startswith(message)
    assert (await world.invoice(missing))["dxc_exportstatus"] == ExportStatus.FAILED
    [history] = await world.history(missing)
    assert history["dxc_outcome"] == SyncOutcome.FAILED
    assert history["dxc_message"].startswith(message)
    [xero_invoice] = world.xero_invoices()
    assert xero_invoice.contact_id == known_id
    assert {c.name for c in world.xero_org.contacts.values()} >= {"Northwind Traders"}
    assert "Fabrikam Ltd" not in {c.name for c in world.xero_org.contacts.values()}


async def test_with_contact_creation_on_a_customer_becomes_one_xero_contact_once(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    await world.settings(createcontacts=True)
    first = await world.new_invoice("C-3", customer=("contact", "Yvonne McKay"))
    await world.hand_over(first)
    await world.sync()
    second = await world.new_invoice("C-4", customer=("contact", "Yvonne McKay"))
    await world.hand_over(second)

    run = await world.sync()

    assert run.succeeded == 1
    named = [c for c in world.xero_org.contacts.values() if c.name == "Yvonne McKay"]
    assert len(named) == 1
    assert {i.contact_id for i in world.xero_invoices()} == {named[0].contact_id}
    assert (named[0].first_name, named[0].last_name) == ("Yvonne", "McKay")


async def test_with_product_creation_off_lines_go_without_items(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    await world.settings(createproducts=False)
    invoice_id = await world.new_invoice("P-1", lines=[{"product": "INSTALL", "quantity": 1}])
    await world.hand_over(invoice_id)

    run = await world.sync()

    assert run.succeeded == 1
    [line] = world.xero_invoices()[0].line_items
    assert (line.item_code, line.description) == (None, "On-site installation")
    assert line.unit_amount == 350
    assert "INSTALL" not in {item.code for item in world.xero_org.items.values()}


async def test_with_product_creation_on_a_product_becomes_one_item(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    await world.settings(createproducts=True)
    for number in ("P-2", "P-3"):
        await world.hand_over(
            await world.new_invoice(number, lines=[{"product": "INSTALL", "quantity": 1}])
        )

    run = await world.sync()

    assert run.succeeded == 2
    assert [i.code for i in world.xero_org.items.values()].count("INSTALL") == 1
    assert {i.line_items[0].item_code for i in world.xero_invoices()} == {"INSTALL"}


@pytest.mark.parametrize("status", list(DefaultInvoiceStatus))
async def test_the_default_status_is_the_xero_status(
    world_factory: WorldFactory, status: DefaultInvoiceStatus
) -> None:
    world: World = await world_factory()
    await world.settings(defaultinvoicestatus=status.value)
    invoice_id = await world.new_invoice("S-1")
    await world.hand_over(invoice_id)

    await world.sync()

    assert [i.status for i in world.xero_invoices()] == [status.name]
    assert (await world.invoice(invoice_id))["dxc_xerostatus"] == status.name


async def test_the_default_sales_account_code_applies_to_lines(world_factory: WorldFactory) -> None:
    world: World = await world_factory()
    await world.settings(defaultsalesaccountcode="260")
    await world.hand_over(await world.new_invoice("A-1"))

    await world.sync()

    assert [line.account_code for line in world.xero_invoices()[0].line_items] == ["260"]


async def test_per_line_overrides_of_account_and_tax_type(world_factory: WorldFactory) -> None:
    world: World = await world_factory()
    account = await world.xero_reference_row("dxc_xeroaccounts", code="270")
    tax_rate = await world.xero_reference_row("dxc_xerotaxrates", taxtype="ZERORATED")
    invoice_id = await world.new_invoice(
        "O-1",
        lines=[
            {
                "product": "WIDGET-A",
                "quantity": 1,
                "dxc_AccountId@odata.bind": f"/dxc_xeroaccounts({account})",
                "dxc_TaxRateId@odata.bind": f"/dxc_xerotaxrates({tax_rate})",
            },
            {"productdescription": "Freight", "quantity": 1, "priceperunit": 40},
        ],
    )
    await world.hand_over(invoice_id)

    await world.sync()

    overridden, default = world.xero_invoices()[0].line_items
    assert (overridden.account_code, overridden.tax_type) == ("270", "ZERORATED")
    assert (default.account_code, default.tax_type) == ("200", "OUTPUT2")


async def test_the_mapping_template_fills_xero_fields(world_factory: WorldFactory) -> None:
    world: World = await world_factory(field_mappings={"name": "Reference"})
    await world.hand_over(await world.new_invoice("M-1", name="PO 7781 from Fabrikam"))

    await world.sync()

    assert [i.reference for i in world.xero_invoices()] == ["PO 7781 from Fabrikam"]
