"""What invoice-sync reads from and writes to Dynamics 365, in as few requests as it can: the
connector and its settings, the ready invoices with their lines (one `$expand`ed query), their
customers, products, currencies and line overrides (bulk `or` filters), and every outcome in one
`$batch` with a change set per invoice."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from dxc_shared.clients.dataverse import BatchOperation, DataverseClient, odata_literal
from dxc_shared.dynamics.schema import (
    ACCOUNT,
    ACCOUNTS,
    CONNECTOR,
    CONTACT,
    HISTORY_CONNECTOR,
    HISTORY_INVOICE,
    INVOICE,
    INVOICE_CONNECTOR,
    LINE_ACCOUNT,
    LINE_TAX_RATE,
    SETTINGS,
    SETTINGS_CONNECTOR,
    SYNC_HISTORY,
    TAX_RATES,
    ConnectorStatus,
    DefaultInvoiceStatus,
    ExportStatus,
    SyncOutcome,
)

JSON = dict[str, Any]
_OR_CHUNK = 50  # ids per `or` filter: keeps the query string well under URL limits
_COLUMN = re.compile(r"^[a-z_][a-z0-9_]*$")
_STATUS_NAMES: dict[int, str] = {status.value: status.name for status in DefaultInvoiceStatus}


@dataclass(frozen=True)
class ConnectorSettings:
    """The connector's settings row; an absent row or column means the documented default."""

    use_xero_invoice_number: bool = True
    create_contacts: bool = True
    create_products: bool = True
    default_status: str = "DRAFT"
    sales_account_code: str = "200"
    create_credit_notes: bool = False

    @classmethod
    def from_row(cls, row: JSON | None) -> ConnectorSettings:
        if row is None:
            return cls()
        defaults = cls()

        def flag(column: str, default: bool) -> bool:
            value = row.get(column)
            return default if value is None else bool(value)

        status = row.get(SETTINGS_COLUMN["status"])
        account = (row.get(SETTINGS_COLUMN["sales_account"]) or "").strip()
        return cls(
            use_xero_invoice_number=flag(
                SETTINGS_COLUMN["xero_number"], defaults.use_xero_invoice_number
            ),
            create_contacts=flag(SETTINGS_COLUMN["contacts"], defaults.create_contacts),
            create_products=flag(SETTINGS_COLUMN["products"], defaults.create_products),
            create_credit_notes=flag(SETTINGS_COLUMN["credit_notes"], defaults.create_credit_notes),
            default_status=_STATUS_NAMES.get(status, defaults.default_status)
            if isinstance(status, int)
            else defaults.default_status,
            sales_account_code=account or defaults.sales_account_code,
        )


def _column(schema_name: str) -> str:
    return schema_name.lower()


SETTINGS_COLUMN = {
    "xero_number": _column("dxc_UseXeroInvoiceNumber"),
    "contacts": _column("dxc_CreateContacts"),
    "products": _column("dxc_CreateProducts"),
    "status": _column("dxc_DefaultInvoiceStatus"),
    "sales_account": _column("dxc_DefaultSalesAccountCode"),
    "credit_notes": _column("dxc_CreateCreditNotes"),
}


@dataclass(frozen=True)
class Connector:
    id: str
    status: int | None


@dataclass(frozen=True)
class Customer:
    id: str
    kind: str  # "account" | "contact"
    name: str
    account_number: str | None
    email: str | None
    first_name: str | None
    last_name: str | None
    xero_contact_id: str | None

    @property
    def entity_set(self) -> str:
        return ACCOUNT.entity_set if self.kind == "account" else CONTACT.entity_set


@dataclass(frozen=True)
class Product:
    id: str
    number: str
    name: str
    description: str | None
    price: float | None


@dataclass(frozen=True)
class Line:
    id: str
    number: int
    product_id: str | None
    written_in: bool
    description: str | None
    quantity: float
    price: float
    tax_rate_id: str | None
    account_id: str | None


@dataclass
class Invoice:
    id: str
    number: str | None
    name: str | None
    version: str
    customer_id: str | None
    customer_kind: str | None
    currency_id: str | None
    date_delivered: date | None
    due_date: date | None
    modified_on: datetime | None
    lines: list[Line]
    row: JSON = field(repr=False)  # for the custom field mappings

    @property
    def label(self) -> str:
        return self.number or self.name or self.id


@dataclass
class ReferenceData:
    """Everything the ready invoices point at, read in bulk."""

    customers: dict[str, Customer] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    currencies: dict[str, str] = field(default_factory=dict)  # id -> ISO code
    tax_types: dict[str, str] = field(default_factory=dict)  # dxc_xerotaxrate id -> TaxType
    account_codes: dict[str, str] = field(default_factory=dict)  # dxc_xeroaccount id -> Code


def _date(value: Any) -> date | None:
    if not value:
        return None
    return date.fromisoformat(str(value)[:10])


def _datetime(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _or_filter(column: str, ids: Sequence[str]) -> str:
    return " or ".join(f"{column} eq {uuid.UUID(value)}" for value in ids)


def _chunks(values: Sequence[str], size: int = _OR_CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def mapped_columns(field_mappings: dict[str, str]) -> list[str]:
    """The invoice columns a mapping template may read: plain logical names only, so a template
    can never smuggle OData into a query."""
    return sorted({c.lower() for c in field_mappings if _COLUMN.match(c.lower())})


class DynamicsGateway:
    def __init__(self, client: DataverseClient) -> None:
        self.client = client

    async def connector(self, connection_id: uuid.UUID) -> Connector | None:
        rows = await self.client.query(
            CONNECTOR.entity_set,
            select=[CONNECTOR.primary_id, _column("dxc_Status")],
            filter=f"{_column('dxc_ConnectionId')} eq {odata_literal(str(connection_id))}",
            top=1,
        )
        if not rows:
            return None
        return Connector(str(rows[0][CONNECTOR.primary_id]), rows[0].get(_column("dxc_Status")))

    async def settings(self, connector: Connector) -> ConnectorSettings:
        rows = await self.client.query(
            SETTINGS.entity_set,
            select=list(SETTINGS_COLUMN.values()),
            filter=f"{SETTINGS_CONNECTOR.value_property} eq {connector.id}",
            top=1,
        )
        return ConnectorSettings.from_row(rows[0] if rows else None)

    async def ready_invoices(
        self, connector: Connector, today: date, extra_columns: Sequence[str] = ()
    ) -> list[Invoice]:
        """Invoices handed to this connector, never exported, active, delivered by `today`, with
        a price list and a customer; lines expanded. (Lines are checked by the caller: an
        invoice without any is skipped until it has some.)"""
        export_status = _column("dxc_ExportStatus")
        conditions = [
            f"{INVOICE_CONNECTOR.value_property} eq {connector.id}",
            "statecode eq 0",
            f"({export_status} eq {ExportStatus.NO.value} or {export_status} eq null)",
            f"datedelivered le {today.isoformat()}",
            "_pricelevelid_value ne null",
            "_customerid_value ne null",
        ]
        line_columns = [
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
        base_columns = [
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
        rows = await self.client.query(
            INVOICE.entity_set,
            select=sorted({*base_columns, *extra_columns}),
            filter=" and ".join(conditions),
            expand=f"invoice_details($select={','.join(line_columns)})",
            orderby="createdon asc",
        )
        return [_invoice(row) for row in rows]

    async def reference_data(self, invoices: Sequence[Invoice]) -> ReferenceData:
        data = ReferenceData()
        accounts = sorted(
            {i.customer_id for i in invoices if i.customer_kind == "account" and i.customer_id}
        )
        contacts = sorted(
            {i.customer_id for i in invoices if i.customer_kind == "contact" and i.customer_id}
        )
        products = sorted(
            {line.product_id for i in invoices for line in i.lines if line.product_id}
        )
        tax_rates = sorted(
            {line.tax_rate_id for i in invoices for line in i.lines if line.tax_rate_id}
        )
        xero_accounts = sorted(
            {line.account_id for i in invoices for line in i.lines if line.account_id}
        )
        xero_contact = _column("dxc_XeroContactId")
        for chunk in _chunks(accounts):
            for row in await self.client.query(
                ACCOUNT.entity_set,
                select=["accountid", "name", "accountnumber", "emailaddress1", xero_contact],
                filter=_or_filter("accountid", chunk),
            ):
                customer = Customer(
                    id=str(row["accountid"]),
                    kind="account",
                    name=str(row.get("name") or "").strip(),
                    account_number=row.get("accountnumber"),
                    email=row.get("emailaddress1"),
                    first_name=None,
                    last_name=None,
                    xero_contact_id=row.get(xero_contact),
                )
                data.customers[customer.id] = customer
        for chunk in _chunks(contacts):
            for row in await self.client.query(
                CONTACT.entity_set,
                select=[
                    "contactid",
                    "fullname",
                    "firstname",
                    "lastname",
                    "emailaddress1",
                    xero_contact,
                ],
                filter=_or_filter("contactid", chunk),
            ):
                first, last = row.get("firstname"), row.get("lastname")
                name = row.get("fullname") or " ".join(p for p in (first, last) if p)
                customer = Customer(
                    id=str(row["contactid"]),
                    kind="contact",
                    name=str(name or "").strip(),
                    account_number=None,
                    email=row.get("emailaddress1"),
                    first_name=first,
                    last_name=last,
                    xero_contact_id=row.get(xero_contact),
                )
                data.customers[customer.id] = customer
        for chunk in _chunks(products):
            for row in await self.client.query(
                "products",
                select=["productid", "productnumber", "name", "description", "price"],
                filter=_or_filter("productid", chunk),
            ):
                product = Product(
                    id=str(row["productid"]),
                    number=str(row.get("productnumber") or "").strip(),
                    name=str(row.get("name") or "").strip(),
                    description=row.get("description"),
                    price=row.get("price"),
                )
                data.products[product.id] = product
        if any(i.currency_id for i in invoices):
            for row in await self.client.query(
                "transactioncurrencies", select=["transactioncurrencyid", "isocurrencycode"]
            ):
                data.currencies[str(row["transactioncurrencyid"])] = str(row["isocurrencycode"])
        for chunk in _chunks(tax_rates):
            for row in await self.client.query(
                TAX_RATES.entity_set,
                select=[TAX_RATES.primary_id, _column("dxc_TaxType")],
                filter=_or_filter(TAX_RATES.primary_id, chunk),
            ):
                if row.get(_column("dxc_TaxType")):
                    data.tax_types[str(row[TAX_RATES.primary_id])] = str(
                        row[_column("dxc_TaxType")]
                    )
        for chunk in _chunks(xero_accounts):
            for row in await self.client.query(
                ACCOUNTS.entity_set,
                select=[ACCOUNTS.primary_id, _column("dxc_Code")],
                filter=_or_filter(ACCOUNTS.primary_id, chunk),
            ):
                if row.get(_column("dxc_Code")):
                    data.account_codes[str(row[ACCOUNTS.primary_id])] = str(
                        row[_column("dxc_Code")]
                    )
        return data

    async def set_connector_status(
        self, connector: Connector, status: ConnectorStatus, message: str | None
    ) -> None:
        await self.client.update(
            CONNECTOR.entity_set,
            connector.id,
            {_column("dxc_Status"): status.value, _column("dxc_StatusMessage"): message},
        )


def _invoice(row: JSON) -> Invoice:
    lines = [
        Line(
            id=str(line["invoicedetailid"]),
            number=int(line.get("lineitemnumber") or 0),
            product_id=line.get("_productid_value"),
            written_in=bool(line.get("isproductoverridden")) or not line.get("_productid_value"),
            description=line.get("productdescription") or line.get("description"),
            quantity=float(line.get("quantity") or 0),
            price=float(line.get("priceperunit") or 0),
            tax_rate_id=line.get(LINE_TAX_RATE.value_property),
            account_id=line.get(LINE_ACCOUNT.value_property),
        )
        for line in row.get("invoice_details") or []
    ]
    lines.sort(key=lambda line: line.number)
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
        lines=lines,
        row=row,
    )


# -- writing outcomes back ------------------------------------------------------------------


@dataclass(frozen=True)
class Exported:
    """An invoice that is in Xero: what Dynamics is told about it."""

    invoice: Invoice
    xero_invoice_id: str
    xero_number: str | None
    xero_status: str | None
    xero_url: str
    total_tax: float | None
    amount_due: float | None
    message: str


@dataclass(frozen=True)
class Failed:
    invoice: Invoice
    message: str


def history_row(
    connector: Connector,
    invoice: Invoice,
    outcome: SyncOutcome,
    message: str,
    now: datetime,
) -> JSON:
    return {
        SYNC_HISTORY.primary_name.logical_name: f"{invoice.label}: {message}"[:200],
        _column("dxc_OccurredOn"): now.isoformat(),
        _column("dxc_Outcome"): outcome.value,
        _column("dxc_Message"): message[:4000],
        **HISTORY_INVOICE.bind(INVOICE.entity_set, invoice.id),
        **HISTORY_CONNECTOR.bind(CONNECTOR.entity_set, connector.id),
    }


def exported_change_set(
    connector: Connector, exported: Exported, now: datetime
) -> list[BatchOperation]:
    columns = {
        _column("dxc_ExportStatus"): ExportStatus.YES.value,
        _column("dxc_ExportedOn"): now.isoformat(),
        _column("dxc_XeroInvoiceId"): exported.xero_invoice_id,
        _column("dxc_XeroInvoiceNumber"): exported.xero_number,
        _column("dxc_XeroStatus"): exported.xero_status,
        _column("dxc_XeroUrl"): exported.xero_url,
        _column("dxc_XeroTotalTax"): exported.total_tax,
        _column("dxc_AmountDue"): exported.amount_due,
    }
    return [
        BatchOperation(
            "PATCH",
            f"{INVOICE.entity_set}({exported.invoice.id})",
            columns,
            headers={"If-Match": "*"},
        ),
        BatchOperation(
            "POST",
            SYNC_HISTORY.entity_set,
            history_row(connector, exported.invoice, SyncOutcome.SUCCESS, exported.message, now),
        ),
    ]


def failed_change_set(connector: Connector, failed: Failed, now: datetime) -> list[BatchOperation]:
    return [
        BatchOperation(
            "PATCH",
            f"{INVOICE.entity_set}({failed.invoice.id})",
            {_column("dxc_ExportStatus"): ExportStatus.FAILED.value},
            headers={"If-Match": "*"},
        ),
        BatchOperation(
            "POST",
            SYNC_HISTORY.entity_set,
            history_row(connector, failed.invoice, SyncOutcome.FAILED, failed.message, now),
        ),
    ]


def contact_link_change_set(customer: Customer, xero_contact_id: str) -> list[BatchOperation]:
    return [
        BatchOperation(
            "PATCH",
            f"{customer.entity_set}({customer.id})",
            {_column("dxc_XeroContactId"): xero_contact_id},
            headers={"If-Match": "*"},
        )
    ]


def connector_synced_change_set(connector: Connector, now: datetime) -> list[BatchOperation]:
    return [
        BatchOperation(
            "PATCH",
            f"{CONNECTOR.entity_set}({connector.id})",
            {
                _column("dxc_LastSyncOn"): now.isoformat(),
                _column("dxc_Status"): ConnectorStatus.ACTIVE.value,
                _column("dxc_StatusMessage"): None,
            },
            headers={"If-Match": "*"},
        )
    ]
