"""What invoice-sync reads from and writes to Dynamics 365 about invoices, in as few requests
as it can: the ready invoices with their lines (one `$expand`ed query), their customers,
products, currencies and line overrides (bulk reads by id), and every outcome in one `$batch`
with a change set per invoice."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from dxc_shared.clients.dataverse import BatchOperation, DataverseClient
from dxc_shared.dynamics.schema import (
    ACCOUNT,
    ACCOUNTS,
    CONTACT,
    INVOICE,
    INVOICE_CONNECTOR,
    LINE_ACCOUNT,
    LINE_TAX_RATE,
    TAX_RATES,
    ExportStatus,
    SyncOutcome,
)

from invoice_sync.connector.dynamics import connector_synced_change_set
from invoice_sync.connector.records import Connector
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
from invoice_sync.kit.dataverse import column, history_operation, history_row, patch, rows_where_in

JSON = dict[str, Any]
_COLUMN = re.compile(r"^[a-z_][a-z0-9_]*$")
_XERO_CONTACT = column("dxc_XeroContactId")
_EXPORT_STATUS = column("dxc_ExportStatus")
_LINE_COLUMNS = [
    "invoicedetailid",
    "lineitemnumber",
    "_productid_value",
    "isproductoverridden",
    "productdescription",
    "description",
    "quantity",
    "priceperunit",
    LINE_TAX_RATE.value_property,
    LINE_ACCOUNT.value_property,
]
_INVOICE_COLUMNS = [
    "invoiceid",
    "invoicenumber",
    "name",
    "versionnumber",
    "_customerid_value",
    "_transactioncurrencyid_value",
    "_pricelevelid_value",
    "datedelivered",
    "duedate",
    "modifiedon",
]


def mapped_columns(field_mappings: dict[str, str]) -> list[str]:
    """The invoice columns a mapping template may read: plain logical names only, so a template
    can never smuggle OData into a query."""
    return sorted({c.lower() for c in field_mappings if _COLUMN.match(c.lower())})


async def ready_invoices(
    client: DataverseClient, connector: Connector, today: date, extra_columns: Sequence[str] = ()
) -> list[Invoice]:
    """Invoices handed to this connector, never exported, active, delivered by `today`, with a
    price list and a customer; lines expanded. (Lines are checked by the plan: an invoice
    without any is skipped until it has some.)"""
    conditions = [
        f"{INVOICE_CONNECTOR.value_property} eq {connector.id}",
        "statecode eq 0",
        f"({_EXPORT_STATUS} eq {ExportStatus.NO.value} or {_EXPORT_STATUS} eq null)",
        f"datedelivered le {today.isoformat()}",
        "_pricelevelid_value ne null",
        "_customerid_value ne null",
    ]
    rows = await client.query(
        INVOICE.entity_set,
        select=sorted({*_INVOICE_COLUMNS, *extra_columns}),
        filter=" and ".join(conditions),
        expand=f"invoice_details($select={','.join(_LINE_COLUMNS)})",
        orderby="createdon asc",
    )
    return [invoice_of(row) for row in rows]


async def reference_data(client: DataverseClient, invoices: Sequence[Invoice]) -> ReferenceData:
    """The customers, products, currencies, tax rates and accounts the invoices point at."""
    lines = [line for invoice in invoices for line in invoice.lines]

    def ids(values: Sequence[str | None]) -> list[str]:
        return sorted({value for value in values if value})

    accounts = ids([i.customer_id for i in invoices if i.customer_kind == "account"])
    contacts = ids([i.customer_id for i in invoices if i.customer_kind == "contact"])
    account_rows = await rows_where_in(
        client,
        ACCOUNT.entity_set,
        "accountid",
        accounts,
        ["accountid", "name", "accountnumber", "emailaddress1", _XERO_CONTACT],
    )
    contact_rows = await rows_where_in(
        client,
        CONTACT.entity_set,
        "contactid",
        contacts,
        ["contactid", "fullname", "firstname", "lastname", "emailaddress1", _XERO_CONTACT],
    )
    product_rows = await rows_where_in(
        client,
        "products",
        "productid",
        ids([line.product_id for line in lines]),
        ["productid", "productnumber", "name", "description", "price"],
    )
    customers = [*map(account_of, account_rows), *map(contact_of, contact_rows)]
    return ReferenceData(
        customers={customer.id: customer for customer in customers},
        products={product.id: product for product in map(product_of, product_rows)},
        currencies=await _currencies(client) if any(i.currency_id for i in invoices) else {},
        tax_types=await _codes(
            client,
            TAX_RATES.entity_set,
            TAX_RATES.primary_id,
            column("dxc_TaxType"),
            ids([line.tax_rate_id for line in lines]),
        ),
        account_codes=await _codes(
            client,
            ACCOUNTS.entity_set,
            ACCOUNTS.primary_id,
            column("dxc_Code"),
            ids([line.account_id for line in lines]),
        ),
    )


async def _currencies(client: DataverseClient) -> dict[str, str]:
    rows = await client.query(
        "transactioncurrencies", select=["transactioncurrencyid", "isocurrencycode"]
    )
    return {str(row["transactioncurrencyid"]): str(row["isocurrencycode"]) for row in rows}


async def _codes(
    client: DataverseClient, entity_set: str, key: str, code: str, ids: Sequence[str]
) -> dict[str, str]:
    """id -> code of the rows (of the connector's Xero tax rates or accounts) that have one."""
    rows = await rows_where_in(client, entity_set, key, ids, [key, code])
    return {str(row[key]): str(row[code]) for row in rows if row.get(code)}


# -- rows into records ------------------------------------------------------------------------


def _date(value: Any) -> date | None:
    if not value:
        return None
    return date.fromisoformat(str(value)[:10])


def _datetime(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def account_of(row: JSON) -> Customer:
    return Customer(
        id=str(row["accountid"]),
        kind="account",
        name=str(row.get("name") or "").strip(),
        account_number=row.get("accountnumber"),
        email=row.get("emailaddress1"),
        first_name=None,
        last_name=None,
        xero_contact_id=row.get(_XERO_CONTACT),
    )


def contact_of(row: JSON) -> Customer:
    first, last = row.get("firstname"), row.get("lastname")
    name = row.get("fullname") or " ".join(p for p in (first, last) if p)
    return Customer(
        id=str(row["contactid"]),
        kind="contact",
        name=str(name or "").strip(),
        account_number=None,
        email=row.get("emailaddress1"),
        first_name=first,
        last_name=last,
        xero_contact_id=row.get(_XERO_CONTACT),
    )


def product_of(row: JSON) -> Product:
    return Product(
        id=str(row["productid"]),
        number=str(row.get("productnumber") or "").strip(),
        name=str(row.get("name") or "").strip(),
        description=row.get("description"),
        price=row.get("price"),
    )


def line_of(row: JSON) -> Line:
    return Line(
        id=str(row["invoicedetailid"]),
        number=int(row.get("lineitemnumber") or 0),
        product_id=row.get("_productid_value"),
        written_in=bool(row.get("isproductoverridden")) or not row.get("_productid_value"),
        description=row.get("productdescription") or row.get("description"),
        quantity=float(row.get("quantity") or 0),
        price=float(row.get("priceperunit") or 0),
        tax_rate_id=row.get(LINE_TAX_RATE.value_property),
        account_id=row.get(LINE_ACCOUNT.value_property),
    )


def invoice_of(row: JSON) -> Invoice:
    return Invoice(
        id=str(row["invoiceid"]),
        number=row.get("invoicenumber"),
        name=row.get("name"),
        version=str(row.get("versionnumber") or ""),
        customer_id=row.get("_customerid_value"),
        customer_kind=row.get("_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"),
        currency_id=row.get("_transactioncurrencyid_value"),
        date_delivered=_date(row.get("datedelivered")),
        due_date=_date(row.get("duedate")),
        modified_on=_datetime(row.get("modifiedon")),
        lines=sorted(map(line_of, row.get("invoice_details") or []), key=lambda line: line.number),
        row=row,
    )


# -- outcomes into change sets ----------------------------------------------------------------


def exported_change_set(
    connector: Connector, exported: Exported, now: datetime
) -> list[BatchOperation]:
    columns = {
        _EXPORT_STATUS: ExportStatus.YES.value,
        column("dxc_ExportedOn"): now.isoformat(),
        column("dxc_XeroInvoiceId"): exported.xero_invoice_id,
        column("dxc_XeroInvoiceNumber"): exported.xero_number,
        column("dxc_XeroStatus"): exported.xero_status,
        column("dxc_XeroUrl"): exported.xero_url,
        column("dxc_XeroTotalTax"): exported.total_tax,
        column("dxc_AmountDue"): exported.amount_due,
    }
    invoice = exported.invoice
    return [
        patch(INVOICE.entity_set, invoice.id, columns),
        history_operation(
            history_row(
                connector.id,
                invoice.label,
                SyncOutcome.SUCCESS,
                exported.message,
                now,
                invoice_id=invoice.id,
            )
        ),
    ]


def failed_change_set(connector: Connector, failed: Failed, now: datetime) -> list[BatchOperation]:
    invoice = failed.invoice
    return [
        patch(INVOICE.entity_set, invoice.id, {_EXPORT_STATUS: ExportStatus.FAILED.value}),
        history_operation(
            history_row(
                connector.id,
                invoice.label,
                SyncOutcome.FAILED,
                failed.message,
                now,
                invoice_id=invoice.id,
            )
        ),
    ]


def contact_link_change_set(customer: Customer, xero_contact_id: str) -> list[BatchOperation]:
    return [patch(customer.entity_set, customer.id, {_XERO_CONTACT: xero_contact_id})]


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
    the customers' new Xero contact ids, then (when asked) the connector's last sync."""
    change_sets = [
        *(exported_change_set(connector, e, now) for e in exported),
        *(failed_change_set(connector, f, now) for f in failed),
        *(contact_link_change_set(link.customer, link.contact_id) for link in contact_links),
    ]
    if connector_synced:
        change_sets.append(connector_synced_change_set(connector, now))
    return change_sets
