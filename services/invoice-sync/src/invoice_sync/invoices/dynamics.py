"""What invoice-sync reads from and writes to Dynamics 365 about invoices, in as few requests
as it can: the ready invoices with their lines (one `$expand`ed query), their customers,
products, currencies and line overrides (bulk reads by id), and every outcome in one `$batch`
with a change set per invoice."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
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
    InvoiceState,
    ProductColumns,
    TaxRateColumns,
    XeroAccountColumns,
)
from dxc_shared.dynamics.history import history_operation, history_row
from dxc_shared.dynamics.schema import ExportStatus, SyncOutcome

from invoice_sync.connector.dynamics import connector_synced_change_set
from invoice_sync.connector.records import Connector
from invoice_sync.due_dates import local_date
from invoice_sync.invoices.plan_reference import LinkContact
from invoice_sync.invoices.records import (
    Customer,
    Exported,
    Failed,
    Invoice,
    Line,
    Product,
    ReferenceData,
)

JSON = dict[str, Any]
_COLUMN = re.compile(r"^[a-z_][a-z0-9_]*$")
_CUSTOMER_KIND = f"{InvoiceColumns.CUSTOMER}@Microsoft.Dynamics.CRM.lookuplogicalname"
_XERO_CONTACT = AccountColumns.XERO_CONTACT_ID  # the same column on contacts
_LINE_COLUMNS = [
    InvoiceLineColumns.ID,
    InvoiceLineColumns.LINE_NUMBER,
    InvoiceLineColumns.PRODUCT,
    InvoiceLineColumns.WRITE_IN,
    InvoiceLineColumns.PRODUCT_DESCRIPTION,
    InvoiceLineColumns.DESCRIPTION,
    InvoiceLineColumns.QUANTITY,
    InvoiceLineColumns.PRICE_PER_UNIT,
    InvoiceLineColumns.VOLUME_DISCOUNT,
    InvoiceLineColumns.MANUAL_DISCOUNT,
    InvoiceLineColumns.BASE_AMOUNT,
    InvoiceLineColumns.TAX,
    InvoiceLineColumns.TAX_RATE,
    InvoiceLineColumns.ACCOUNT,
]
_INVOICE_COLUMNS = [
    InvoiceColumns.ID,
    InvoiceColumns.NUMBER,
    InvoiceColumns.NAME,
    Common.VERSION_NUMBER,
    InvoiceColumns.CUSTOMER,
    InvoiceColumns.CURRENCY,
    InvoiceColumns.PRICE_LIST,
    InvoiceColumns.DATE_DELIVERED,
    InvoiceColumns.DUE_DATE,
    InvoiceColumns.PAYMENT_TERMS,
    InvoiceColumns.TOTAL_DISCOUNT,
    InvoiceColumns.FREIGHT,
    Common.MODIFIED_ON,
    Common.STATE,
    InvoiceColumns.EXPORT_STATUS,
    InvoiceColumns.XERO_INVOICE_ID,
]


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
        select=sorted({*_INVOICE_COLUMNS, *extra_columns}),
        filter=" and ".join(conditions),
        expand=f"{InvoiceColumns.LINES}($select={','.join(_LINE_COLUMNS)})",
        orderby=f"{Common.CREATED_ON} asc",
    )
    return [invoice_of(row, zone) for row in rows]


async def reference_data(client: DataverseClient, invoices: Sequence[Invoice]) -> ReferenceData:
    """The customers, products, currencies, tax rates and accounts the invoices point at."""
    lines = [line for invoice in invoices for line in invoice.lines]
    account_rows = await client.rows_where_in(
        AccountColumns.ENTITY_SET,
        AccountColumns.ID,
        [i.customer_id or "" for i in invoices if i.customer_kind == "account"],
        select=[
            AccountColumns.ID,
            AccountColumns.NAME,
            AccountColumns.ACCOUNT_NUMBER,
            AccountColumns.EMAIL,
            AccountColumns.PHONE,
            *AccountColumns.ADDRESS,
            _XERO_CONTACT,
        ],
        guid=True,
    )
    contact_rows = await client.rows_where_in(
        ContactColumns.ENTITY_SET,
        ContactColumns.ID,
        [i.customer_id or "" for i in invoices if i.customer_kind == "contact"],
        select=[
            ContactColumns.ID,
            ContactColumns.FULL_NAME,
            ContactColumns.FIRST_NAME,
            ContactColumns.LAST_NAME,
            ContactColumns.EMAIL,
            ContactColumns.PHONE,
            *ContactColumns.ADDRESS,
            _XERO_CONTACT,
        ],
        guid=True,
    )
    product_rows = await client.rows_where_in(
        ProductColumns.ENTITY_SET,
        ProductColumns.ID,
        [line.product_id or "" for line in lines],
        select=[
            ProductColumns.ID,
            ProductColumns.NUMBER,
            ProductColumns.NAME,
            ProductColumns.DESCRIPTION,
            ProductColumns.PRICE,
        ],
        guid=True,
    )
    customers = [*map(account_of, account_rows), *map(contact_of, contact_rows)]
    return ReferenceData(
        customers={customer.id: customer for customer in customers},
        products={product.id: product for product in map(product_of, product_rows)},
        currencies=await _currencies(client) if any(i.currency_id for i in invoices) else {},
        tax_types=await _codes(
            client,
            TaxRateColumns.ENTITY_SET,
            TaxRateColumns.ID,
            TaxRateColumns.TAX_TYPE,
            [line.tax_rate_id or "" for line in lines],
        ),
        account_codes=await _codes(
            client,
            XeroAccountColumns.ENTITY_SET,
            XeroAccountColumns.ID,
            XeroAccountColumns.CODE,
            [line.account_id or "" for line in lines],
        ),
    )


async def _currencies(client: DataverseClient) -> dict[str, str]:
    rows = await client.query(
        CurrencyColumns.ENTITY_SET, select=[CurrencyColumns.ID, CurrencyColumns.ISO_CODE]
    )
    return {str(row[CurrencyColumns.ID]): str(row[CurrencyColumns.ISO_CODE]) for row in rows}


async def _codes(
    client: DataverseClient, entity_set: str, key: str, code: str, ids: Sequence[str]
) -> dict[str, str]:
    """id -> code of the rows (of the connector's Xero tax rates or accounts) that have one."""
    rows = await client.rows_where_in(entity_set, key, ids, select=[key, code], guid=True)
    return {str(row[key]): str(row[code]) for row in rows if row.get(code)}


# -- rows into records ------------------------------------------------------------------------


def _money(value: Any) -> Decimal:
    """A Web API number as an exact decimal (through its shortest text, not the float's binary
    expansion)."""
    return Decimal(str(value)) if value is not None else Decimal(0)


def _datetime(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def account_of(row: JSON) -> Customer:
    return Customer(
        id=str(row[AccountColumns.ID]),
        kind="account",
        name=str(row.get(AccountColumns.NAME) or "").strip(),
        account_number=row.get(AccountColumns.ACCOUNT_NUMBER),
        email=row.get(AccountColumns.EMAIL),
        first_name=None,
        last_name=None,
        xero_contact_id=row.get(_XERO_CONTACT),
        phone=row.get(AccountColumns.PHONE),
        address=tuple(row.get(name) for name in AccountColumns.ADDRESS),
    )


def contact_of(row: JSON) -> Customer:
    first, last = row.get(ContactColumns.FIRST_NAME), row.get(ContactColumns.LAST_NAME)
    name = row.get(ContactColumns.FULL_NAME) or " ".join(p for p in (first, last) if p)
    return Customer(
        id=str(row[ContactColumns.ID]),
        kind="contact",
        name=str(name or "").strip(),
        account_number=None,
        email=row.get(ContactColumns.EMAIL),
        first_name=first,
        last_name=last,
        xero_contact_id=row.get(_XERO_CONTACT),
        phone=row.get(ContactColumns.PHONE),
        address=tuple(row.get(name) for name in ContactColumns.ADDRESS),
    )


def product_of(row: JSON) -> Product:
    return Product(
        id=str(row[ProductColumns.ID]),
        number=str(row.get(ProductColumns.NUMBER) or "").strip(),
        name=str(row.get(ProductColumns.NAME) or "").strip(),
        description=row.get(ProductColumns.DESCRIPTION),
        price=_money(row[ProductColumns.PRICE])
        if row.get(ProductColumns.PRICE) is not None
        else None,
    )


def line_of(row: JSON) -> Line:
    product_id = row.get(InvoiceLineColumns.PRODUCT)
    return Line(
        id=str(row[InvoiceLineColumns.ID]),
        number=int(row.get(InvoiceLineColumns.LINE_NUMBER) or 0),
        product_id=product_id,
        written_in=bool(row.get(InvoiceLineColumns.WRITE_IN)) or not product_id,
        description=row.get(InvoiceLineColumns.PRODUCT_DESCRIPTION)
        or row.get(InvoiceLineColumns.DESCRIPTION),
        quantity=_money(row.get(InvoiceLineColumns.QUANTITY)),
        price=_money(row.get(InvoiceLineColumns.PRICE_PER_UNIT)),
        tax_rate_id=row.get(InvoiceLineColumns.TAX_RATE),
        account_id=row.get(InvoiceLineColumns.ACCOUNT),
        volume_discount=_money(row.get(InvoiceLineColumns.VOLUME_DISCOUNT)),
        manual_discount=_money(row.get(InvoiceLineColumns.MANUAL_DISCOUNT)),
        amount=_money(row.get(InvoiceLineColumns.BASE_AMOUNT))
        - _money(row.get(InvoiceLineColumns.MANUAL_DISCOUNT)),
        tax=_money(tax) if (tax := row.get(InvoiceLineColumns.TAX)) is not None else None,
    )


def invoice_of(row: JSON, zone: ZoneInfo) -> Invoice:
    lines = map(line_of, row.get(InvoiceColumns.LINES) or [])
    return Invoice(
        id=str(row[InvoiceColumns.ID]),
        number=row.get(InvoiceColumns.NUMBER),
        name=row.get(InvoiceColumns.NAME),
        version=str(row.get(Common.VERSION_NUMBER) or ""),
        customer_id=row.get(InvoiceColumns.CUSTOMER),
        customer_kind=row.get(_CUSTOMER_KIND),
        currency_id=row.get(InvoiceColumns.CURRENCY),
        date_delivered=local_date(row.get(InvoiceColumns.DATE_DELIVERED), zone),
        due_date=local_date(row.get(InvoiceColumns.DUE_DATE), zone),
        modified_on=_datetime(row.get(Common.MODIFIED_ON)),
        lines=sorted(lines, key=lambda line: line.number),
        row=row,
        state=int(row.get(Common.STATE) or InvoiceState.ACTIVE),
        price_list_id=row.get(InvoiceColumns.PRICE_LIST),
        discount=_money(row.get(InvoiceColumns.TOTAL_DISCOUNT)),
        freight=_money(row.get(InvoiceColumns.FREIGHT)),
        payment_terms_code=row.get(InvoiceColumns.PAYMENT_TERMS),
        etag=str(row.get(Common.ETAG) or "*"),
        export_status=row.get(InvoiceColumns.EXPORT_STATUS),
        xero_invoice_id=row.get(InvoiceColumns.XERO_INVOICE_ID),
    )


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
    return [
        BatchOperation.patch(customer.entity_set, customer.id, {_XERO_CONTACT: xero_contact_id})
    ]


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
