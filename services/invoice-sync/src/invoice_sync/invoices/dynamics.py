"""What invoice-sync reads from and writes to Dynamics 365 about invoices, in as few requests
as it can: the ready invoices with their lines (one `$expand`ed query), their customers,
products, currencies and line overrides (bulk reads by id), and every outcome in one `$batch`
with a change set per invoice."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dxc_shared.clients.dataverse import BatchOperation, DataverseClient
from dxc_shared.dynamics.columns import (
    AccountColumns,
    Common,
    ContactColumns,
    CurrencyColumns,
    InvoiceColumns,
    InvoiceLineColumns,
    ProductColumns,
    TaxRateColumns,
    XeroAccountColumns,
)
from dxc_shared.dynamics.history import history_operation, history_row
from dxc_shared.dynamics.schema import ExportStatus, SyncOutcome

from invoice_sync.connector.dynamics import connector_synced_change_set
from invoice_sync.connector.records import Connector
from invoice_sync.invoices.plan_reference import LinkContact
from invoice_sync.invoices.records import (
    Customer,
    Exported,
    Failed,
    Invoice,
    ReferenceData,
)
from invoice_sync.invoices.rows import (
    ACCOUNT_COLUMNS,
    CONTACT_COLUMNS,
    INVOICE_COLUMNS,
    LINE_COLUMNS,
    PRODUCT_COLUMNS,
    XERO_CONTACT,
    CustomerTable,
    account_of,
    contact_of,
    invoice_of,
    kind_of,
    product_of,
)
from invoice_sync.kit.pipeline import every, together

JSON = dict[str, Any]
_COLUMN = re.compile(r"^[a-z_][a-z0-9_]*$")


def mapped_columns(field_mappings: dict[str, str]) -> list[str]:
    """The invoice columns a mapping template may read: plain logical names only, so a template
    can never smuggle OData into a query."""
    return sorted({c.lower() for c in field_mappings if _COLUMN.match(c.lower())})


async def handed_over_invoices(
    client: DataverseClient,
    connector: Connector,
    extra_columns: Sequence[str] = (),
    *,
    zone: ZoneInfo,
) -> list[Invoice]:
    """Invoices handed to this connector and never exported, or exported and set to "Update
    in Xero", lines expanded, whatever their state: the plan sorts out those ready from those
    that wait or are not sent, and why."""
    export_status = InvoiceColumns.EXPORT_STATUS
    conditions = [
        f"{InvoiceColumns.CONNECTOR} eq {connector.id}",
        f"({export_status} eq {ExportStatus.NO.value} or {export_status} eq null"
        f" or {export_status} eq {ExportStatus.UPDATE.value})",
    ]
    rows = await client.query(
        InvoiceColumns.ENTITY_SET,
        select=sorted({*INVOICE_COLUMNS, *extra_columns}),
        filter=" and ".join(conditions),
        expand=f"{InvoiceColumns.LINES}($select={','.join(LINE_COLUMNS)})",
        orderby=f"{Common.CREATED_ON} asc",
    )
    return [invoice_of(row, zone) for row in rows]


async def reference_data(client: DataverseClient, invoices: Sequence[Invoice]) -> ReferenceData:
    """The customers, products, currencies, tax rates and accounts the invoices point at, read
    at the same time."""
    lines = [line for invoice in invoices for line in invoice.lines]
    rows, codes = await together(
        every(
            _customer_rows(client, invoices, AccountColumns, ACCOUNT_COLUMNS),
            _customer_rows(client, invoices, ContactColumns, CONTACT_COLUMNS),
            client.rows_where_in(
                ProductColumns.ENTITY_SET,
                ProductColumns.ID,
                [line.product_id or "" for line in lines],
                select=PRODUCT_COLUMNS,
                guid=True,
            ),
        ),
        every(
            _currencies(client, invoices),
            _codes(client, TaxRateColumns, [line.tax_rate_id or "" for line in lines]),
            _codes(client, XeroAccountColumns, [line.account_id or "" for line in lines]),
        ),
    )
    account_rows, contact_rows, product_rows = rows
    customers = [*map(account_of, account_rows), *map(contact_of, contact_rows)]
    currencies, tax_types, account_codes = codes
    return ReferenceData(
        customers={customer.id: customer for customer in customers},
        products={product.id: product for product in map(product_of, product_rows)},
        currencies=currencies,
        tax_types=tax_types,
        account_codes=account_codes,
    )


async def _customer_rows(
    client: DataverseClient,
    invoices: Sequence[Invoice],
    table: CustomerTable,
    select: Sequence[str],
) -> list[JSON]:
    """The rows of the invoices' customers in one table (accounts or contacts)."""
    ids = [i.customer_id or "" for i in invoices if i.customer_kind == kind_of(table)]
    return await client.rows_where_in(table.ENTITY_SET, table.ID, ids, select=select, guid=True)


async def _currencies(client: DataverseClient, invoices: Sequence[Invoice]) -> dict[str, str]:
    """id -> ISO code of every currency, when any invoice names one."""
    if not any(invoice.currency_id for invoice in invoices):
        return {}
    rows = await client.query(
        CurrencyColumns.ENTITY_SET, select=[CurrencyColumns.ID, CurrencyColumns.ISO_CODE]
    )
    return {str(row[CurrencyColumns.ID]): str(row[CurrencyColumns.ISO_CODE]) for row in rows}


async def _codes(
    client: DataverseClient, table: type[TaxRateColumns | XeroAccountColumns], ids: Sequence[str]
) -> dict[str, str]:
    """id -> code (Xero's tax type, or account code) of the connector's mirrors of Xero's tax
    rates or accounts that have one."""
    key, code = table.ID, table.TAX_TYPE if table is TaxRateColumns else XeroAccountColumns.CODE
    rows = await client.rows_where_in(table.ENTITY_SET, key, ids, select=[key, code], guid=True)
    return {str(row[key]): str(row[code]) for row in rows if row.get(code)}


# -- outcomes into change sets ----------------------------------------------------------------


def exported_change_set(
    connector: Connector, exported: Exported, now: datetime
) -> list[BatchOperation]:
    """The invoice's Xero columns and a sync history row; Failed when the amounts differ, for
    information when Dynamics already showed it in Xero."""
    status = ExportStatus.FAILED if exported.mismatch else ExportStatus.YES
    outcome = SyncOutcome.INFORMATION if exported.already_exported else SyncOutcome.SUCCESS
    columns = {
        InvoiceColumns.EXPORT_STATUS: status.value,
        InvoiceColumns.EXPORTED_ON: now.isoformat(),
        InvoiceColumns.XERO_INVOICE_ID: exported.xero_invoice_id,
        InvoiceColumns.XERO_INVOICE_NUMBER: exported.xero_number,
        InvoiceColumns.XERO_STATUS: exported.xero_status,
        InvoiceColumns.XERO_URL: exported.xero_url,
        InvoiceColumns.XERO_TOTAL_TAX: exported.total_tax,
        InvoiceColumns.AMOUNT_DUE: exported.amount_due,
    }
    invoice = exported.invoice
    return [
        BatchOperation.patch(InvoiceColumns.ENTITY_SET, invoice.id, columns),
        history_operation(
            history_row(
                connector_id=connector.id,
                label=invoice.label,
                outcome=SyncOutcome.FAILED if exported.mismatch else outcome,
                message=exported.mismatch or exported.message,
                occurred_on=now,
                invoice_id=invoice.id,
            )
        ),
    ]


def line_tax_change_set(exported: Exported) -> list[BatchOperation]:
    """Xero's tax on the invoice's lines, so Dynamics' own tax and total are Xero's."""
    return [
        BatchOperation.patch(
            InvoiceLineColumns.ENTITY_SET, line_id, {InvoiceLineColumns.TAX: float(tax)}
        )
        for line_id, tax in exported.line_taxes.items()
    ]


def failed_change_set(connector: Connector, failed: Failed, now: datetime) -> list[BatchOperation]:
    """Failed, with the reason in a sync history row; only over the version the run read: a
    person who changed the invoice meanwhile (set it back to No after a fix) is not overruled,
    and the next run decides on what they wrote."""
    invoice = failed.invoice
    return [
        BatchOperation.patch(
            InvoiceColumns.ENTITY_SET,
            invoice.id,
            {InvoiceColumns.EXPORT_STATUS: ExportStatus.FAILED.value},
            if_match=invoice.etag,
        ),
        history_operation(
            history_row(
                connector_id=connector.id,
                label=invoice.label,
                outcome=SyncOutcome.FAILED,
                message=failed.message,
                occurred_on=now,
                invoice_id=invoice.id,
            )
        ),
    ]


def skipped_change_set(
    connector: Connector, invoice: Invoice, reason: str, now: datetime
) -> list[BatchOperation]:
    """A Skipped sync history row on the invoice: why it is not sent (yet)."""
    return [
        history_operation(
            history_row(
                connector_id=connector.id,
                label=invoice.label,
                outcome=SyncOutcome.SKIPPED,
                message=reason,
                occurred_on=now,
                invoice_id=invoice.id,
            )
        )
    ]


def contact_link_change_set(customer: Customer, xero_contact_id: str) -> list[BatchOperation]:
    return [BatchOperation.patch(customer.entity_set, customer.id, {XERO_CONTACT: xero_contact_id})]


def write_back_change_sets(
    connector: Connector,
    exported: Sequence[Exported],
    failed: Sequence[Failed],
    contact_links: Sequence[LinkContact],
    now: datetime,
    *,
    connector_synced: bool,
) -> list[list[BatchOperation]]:
    """A change set per invoice (its Xero columns or its failure, and a sync history row), then
    one per exported invoice whose line taxes change (apart, so a refusal there does not undo
    the export's record), then the customers' new Xero contact ids, then (when asked) the
    connector's last sync."""
    change_sets = [
        *(exported_change_set(connector, e, now) for e in exported),
        *(failed_change_set(connector, f, now) for f in failed),
        *(line_tax_change_set(e) for e in exported if e.line_taxes),
        *(contact_link_change_set(link.customer, link.contact_id) for link in contact_links),
    ]
    if connector_synced:
        change_sets.append(connector_synced_change_set(connector, now))
    return change_sets
