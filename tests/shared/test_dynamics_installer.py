"""Installing the connector's tables into the Dynamics sandbox, then using them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from dxc_shared.clients.dataverse import DataverseClient, DataverseError
from dxc_shared.dynamics import schema
from dxc_shared.dynamics.installer import (
    column_metadata,
    install,
    missing_privileges,
    missing_tables,
)

from tests.support.dynamics_sandbox import (
    RunningDynamicsSandbox,
    demo_user_dataverse,
    running_dynamics_sandbox,
)


@pytest.fixture
def dynamics() -> Iterator[RunningDynamicsSandbox]:
    with running_dynamics_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def client(dynamics: RunningDynamicsSandbox) -> AsyncIterator[DataverseClient]:
    async with demo_user_dataverse(dynamics, http_timeout=10) as client:
        yield client


async def test_install_is_idempotent_and_the_tables_work(client: DataverseClient) -> None:
    assert "dxc_connector" in await missing_tables(client)

    first = await install(client)
    again = await install(client)

    assert set(first.created_tables) == {t.logical_name for t in schema.TABLES if not t.standard}
    assert "invoice.dxc_exportstatus" in first.created_columns
    assert "invoicedetail.dxc_taxrateid" in first.created_lookups
    assert not again.changed
    assert await missing_tables(client) == []

    connector_id = await client.create(
        schema.CONNECTOR.entity_set,
        {"dxc_name": "Xero: Demo Company (NZ)", "dxc_connectionid": "conn-1"},
    )
    await client.create(
        schema.SETTINGS.entity_set,
        {
            "dxc_name": "Settings",
            "dxc_createcontacts": True,
            "dxc_defaultinvoicestatus": schema.DefaultInvoiceStatus.AUTHORISED,
            **schema.SETTINGS_CONNECTOR.bind(schema.CONNECTOR.entity_set, connector_id),
        },
    )
    [invoice] = await client.query(
        "invoices", select=["invoiceid"], filter="invoicenumber eq 'INV-1001'"
    )
    await client.update(
        "invoices",
        invoice["invoiceid"],
        {
            "dxc_exportstatus": schema.ExportStatus.NO,
            **schema.INVOICE_CONNECTOR.bind(schema.CONNECTOR.entity_set, connector_id),
        },
    )
    ready = await client.query(
        "invoices",
        select=["invoicenumber"],
        filter=f"{schema.INVOICE_CONNECTOR.value_property} eq {connector_id}",
    )
    assert [row["invoicenumber"] for row in ready] == ["INV-1001"]
    [settings] = await client.query(
        schema.SETTINGS.entity_set,
        select=["dxc_createcontacts", "dxc_defaultinvoicestatus"],
        filter=f"{schema.SETTINGS_CONNECTOR.value_property} eq {connector_id}",
    )
    assert settings["dxc_defaultinvoicestatus"] == schema.DefaultInvoiceStatus.AUTHORISED


async def test_missing_privileges_are_said_in_words(
    client: DataverseClient, dynamics: RunningDynamicsSandbox
) -> None:
    await install(client)
    assert await missing_privileges(client) == []

    denied = {"denied": ["prvWriteInvoice", "prvCreatedxc_SyncHistory"]}
    await asyncio.to_thread(
        dynamics.admin, "PUT", f"orgs/demo/privileges/{dynamics.settings.demo_user}", json=denied
    )
    assert await missing_privileges(client) == [
        "update invoices and their lines",
        "create sync history",
    ]


async def test_install_adds_the_choices_added_since_an_earlier_install(
    client: DataverseClient,
) -> None:
    """An organisation installed before "Update in Xero" existed gets the choice on the next
    install (InsertOptionValue), and only once."""
    column = next(c for c in schema.INVOICE.columns if c.logical_name == "dxc_exportstatus")
    earlier = column_metadata(column)
    earlier["OptionSet"]["Options"] = [
        option
        for option in earlier["OptionSet"]["Options"]
        if option["Value"] != schema.ExportStatus.UPDATE
    ]
    await client.request(
        "POST",
        "EntityDefinitions(LogicalName='invoice')/Attributes",
        operation="create_column",
        body=earlier,
    )
    [invoice] = await client.query(
        "invoices", select=["invoiceid"], filter="invoicenumber eq 'INV-1001'"
    )
    update_in_xero = {"dxc_exportstatus": schema.ExportStatus.UPDATE.value}
    with pytest.raises(DataverseError):
        await client.update("invoices", invoice["invoiceid"], update_in_xero)

    first = await install(client)
    again = await install(client)

    assert "invoice.dxc_exportstatus" not in first.created_columns
    assert first.created_options == [f"invoice.dxc_exportstatus={schema.ExportStatus.UPDATE}"]
    assert again.created_options == []
    assert not again.changed
    await client.update("invoices", invoice["invoiceid"], update_in_xero)
    [row] = await client.query(
        "invoices", select=["dxc_exportstatus"], filter="invoicenumber eq 'INV-1001'"
    )
    assert row["dxc_exportstatus"] == schema.ExportStatus.UPDATE
