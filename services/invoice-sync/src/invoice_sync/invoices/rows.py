"""The Dynamics rows invoice-sync reads about invoices, and the records made of them: the
columns each query selects, and each row's parse."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from dxc_shared.clients.dataverse import JSON
from dxc_shared.dynamics.columns import (
    AccountColumns,
    Common,
    ContactColumns,
    InvoiceColumns,
    InvoiceLineColumns,
    InvoiceState,
    ProductColumns,
)

from invoice_sync.due_dates import local_date
from invoice_sync.invoices.records import Customer, Invoice, Line, Product

_CUSTOMER_KIND = f"{InvoiceColumns.CUSTOMER}@Microsoft.Dynamics.CRM.lookuplogicalname"
XERO_CONTACT = AccountColumns.XERO_CONTACT_ID  # the same column on contacts
LINE_COLUMNS = [
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
INVOICE_COLUMNS = [
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

ACCOUNT_COLUMNS = [
    AccountColumns.ID,
    AccountColumns.NAME,
    AccountColumns.ACCOUNT_NUMBER,
    AccountColumns.EMAIL,
    AccountColumns.PHONE,
    *AccountColumns.ADDRESS,
    XERO_CONTACT,
]
CONTACT_COLUMNS = [
    ContactColumns.ID,
    ContactColumns.FULL_NAME,
    ContactColumns.FIRST_NAME,
    ContactColumns.LAST_NAME,
    ContactColumns.EMAIL,
    ContactColumns.PHONE,
    *ContactColumns.ADDRESS,
    XERO_CONTACT,
]
PRODUCT_COLUMNS = [
    ProductColumns.ID,
    ProductColumns.NUMBER,
    ProductColumns.NAME,
    ProductColumns.DESCRIPTION,
    ProductColumns.PRICE,
]


def _money(value: Any) -> Decimal:
    """A Web API number as an exact decimal (through its shortest text, not the float's binary
    expansion)."""
    return Decimal(str(value)) if value is not None else Decimal(0)


def _datetime(value: Any) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


CustomerTable = type[AccountColumns | ContactColumns]


def kind_of(table: CustomerTable) -> str:
    return "account" if table is AccountColumns else "contact"


def account_of(row: JSON) -> Customer:
    number = row.get(AccountColumns.ACCOUNT_NUMBER)
    return _customer_of(row, AccountColumns, row.get(AccountColumns.NAME), account_number=number)


def contact_of(row: JSON) -> Customer:
    first, last = row.get(ContactColumns.FIRST_NAME), row.get(ContactColumns.LAST_NAME)
    name = row.get(ContactColumns.FULL_NAME) or " ".join(p for p in (first, last) if p)
    return _customer_of(row, ContactColumns, name, first_name=first, last_name=last)


def _customer_of(
    row: JSON,
    table: CustomerTable,
    name: str | None,
    *,
    account_number: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
) -> Customer:
    return Customer(
        id=str(row[table.ID]),
        kind=kind_of(table),
        name=str(name or "").strip(),
        account_number=account_number,
        email=row.get(table.EMAIL),
        first_name=first_name,
        last_name=last_name,
        xero_contact_id=row.get(XERO_CONTACT),
        phone=row.get(table.PHONE),
        address=tuple(row.get(column) for column in table.ADDRESS),
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
