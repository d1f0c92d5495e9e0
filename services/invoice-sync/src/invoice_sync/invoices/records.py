"""What a run reads from Dynamics 365 about invoices, and what it tells Dynamics back (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dxc_shared.dynamics.columns import AccountColumns, ContactColumns, InvoiceState

JSON = dict[str, Any]


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
    phone: str | None = None
    # The billing address (address 1): lines, city, region, postal code, country.
    address: tuple[str | None, ...] = ()

    @property
    def entity_set(self) -> str:
        return AccountColumns.ENTITY_SET if self.kind == "account" else ContactColumns.ENTITY_SET


@dataclass(frozen=True)
class Product:
    id: str
    number: str
    name: str
    description: str | None
    price: Decimal | None


@dataclass(frozen=True)
class Line:
    id: str
    number: int
    product_id: str | None
    written_in: bool
    description: str | None
    quantity: Decimal
    price: Decimal  # priceperunit, up to four decimals
    tax_rate_id: str | None
    account_id: str | None
    volume_discount: Decimal = Decimal(0)  # per unit
    manual_discount: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)  # baseamount - manualdiscountamount, as Dynamics computed it
    tax: Decimal | None = None

    @property
    def is_note(self) -> bool:
        """A write-in with no quantity and no price: a description-only line in Xero."""
        return self.written_in and not self.quantity and not self.price


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
    state: int = InvoiceState.ACTIVE  # Dynamics' statecode
    price_list_id: str | None = None
    discount: Decimal = Decimal(0)  # totaldiscountamount: the invoice-level discount
    freight: Decimal = Decimal(0)
    payment_terms_code: int | None = None
    etag: str = "*"  # the row's version as read: a failure is written only over that version
    export_status: int | None = None  # dxc_exportstatus (None: never exported)
    xero_invoice_id: str | None = None  # the Xero invoice Dynamics was told it became

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

    def customer_of(self, invoice: Invoice) -> Customer | None:
        return self.customers.get(invoice.customer_id or "")


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
    # Xero's tax of the Dynamics lines whose tax it changes (invoicedetail id -> tax), written back.
    line_taxes: dict[str, Decimal] = field(default_factory=dict)
    # Why Xero's amounts do not equal Dynamics': the invoice is linked but Failed.
    mismatch: str | None = None
    # Dynamics already showed it in Xero (set back to No): told so, not claimed as a success.
    already_exported: bool = False


@dataclass(frozen=True)
class Failed:
    invoice: Invoice
    message: str
