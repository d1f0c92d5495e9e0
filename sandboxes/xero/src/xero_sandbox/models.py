"""The sandbox's records: one organisation's accounting data, and the identity server's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

ZERO = Decimal("0")


@dataclass
class TaxRate:
    name: str
    tax_type: str
    rate: Decimal
    status: str = "ACTIVE"
    report_tax_type: str = "OUTPUT"
    can_apply_to_revenue: bool = True
    can_apply_to_expenses: bool = True


@dataclass
class Account:
    account_id: str
    code: str
    name: str
    type: str
    tax_type: str
    updated: datetime
    status: str = "ACTIVE"
    enable_payments: bool = False
    bank_account_number: str | None = None
    currency_code: str | None = None

    @property
    def account_class(self) -> str:
        return {
            "BANK": "ASSET",
            "CURRENT": "ASSET",
            "FIXED": "ASSET",
            "REVENUE": "REVENUE",
            "SALES": "REVENUE",
            "OTHERINCOME": "REVENUE",
            "DIRECTCOSTS": "EXPENSE",
            "EXPENSE": "EXPENSE",
            "OVERHEADS": "EXPENSE",
            "CURRLIAB": "LIABILITY",
            "LIABILITY": "LIABILITY",
            "EQUITY": "EQUITY",
        }.get(self.type, "ASSET")


@dataclass
class BrandingTheme:
    branding_theme_id: str
    name: str
    sort_order: int
    created: datetime


@dataclass(frozen=True)
class PaymentTerm:
    """``Day`` and ``Type`` of a default payment term (see `terms.due_date`)."""

    day: int
    type: str


@dataclass
class PaymentTerms:
    sales: PaymentTerm | None = None
    bills: PaymentTerm | None = None


@dataclass
class Contact:
    contact_id: str
    name: str
    created: datetime
    updated: datetime
    status: str = "ACTIVE"
    first_name: str | None = None
    last_name: str | None = None
    email_address: str | None = None
    account_number: str | None = None
    contact_number: str | None = None
    tax_number: str | None = None
    default_currency: str | None = None
    is_customer: bool = False
    is_supplier: bool = False
    addresses: list[dict[str, Any]] = field(default_factory=list)
    phones: list[dict[str, Any]] = field(default_factory=list)
    payment_terms: PaymentTerms = field(default_factory=PaymentTerms)


@dataclass
class ItemDetails:
    unit_price: Decimal | None = None
    account_code: str | None = None
    tax_type: str | None = None


@dataclass
class Item:
    item_id: str
    code: str
    updated: datetime
    name: str | None = None
    description: str | None = None
    purchase_description: str | None = None
    sales: ItemDetails = field(default_factory=ItemDetails)
    purchase: ItemDetails = field(default_factory=ItemDetails)

    @property
    def is_sold(self) -> bool:
        return self.sales.unit_price is not None or self.sales.account_code is not None

    @property
    def is_purchased(self) -> bool:
        return self.purchase.unit_price is not None or self.purchase.account_code is not None


@dataclass
class LineItem:
    line_item_id: str
    description: str | None
    quantity: Decimal | None
    unit_amount: Decimal | None
    item_code: str | None
    account_code: str | None
    tax_type: str | None
    discount_rate: Decimal | None
    line_amount: Decimal
    tax_amount: Decimal
    tracking: list[dict[str, Any]] = field(default_factory=list)
    discount_amount: Decimal | None = None


@dataclass
class Document:
    """What invoices and credit notes share: contact, lines, totals, status, currency."""

    type: str
    contact_id: str
    number: str | None
    status: str
    line_amount_types: str
    currency_code: str
    created: datetime
    updated: datetime
    date: dt.date | None = None
    due_date: dt.date | None = None
    reference: str | None = None
    branding_theme_id: str | None = None
    line_items: list[LineItem] = field(default_factory=list)
    sub_total: Decimal = ZERO
    total_tax: Decimal = ZERO
    total: Decimal = ZERO
    amount_paid: Decimal = ZERO
    amount_credited: Decimal = ZERO
    fully_paid_on: dt.date | None = None
    payment_ids: list[str] = field(default_factory=list)
    allocation_ids: list[str] = field(default_factory=list)

    @property
    def amount_due(self) -> Decimal:
        return self.total - self.amount_paid - self.amount_credited


@dataclass
class Invoice(Document):
    invoice_id: str = ""
    sent_to_contact: bool = False


@dataclass
class CreditNote(Document):
    credit_note_id: str = ""


@dataclass
class Payment:
    payment_id: str
    invoice_id: str
    account_id: str
    date: dt.date
    amount: Decimal
    updated: datetime
    reference: str | None = None
    status: str = "AUTHORISED"
    payment_type: str = "ACCRECPAYMENT"


@dataclass
class Allocation:
    allocation_id: str
    credit_note_id: str
    invoice_id: str
    amount: Decimal
    date: dt.date


@dataclass
class TrackingOption:
    tracking_option_id: str
    name: str
    status: str = "ACTIVE"  # ACTIVE | ARCHIVED | DELETED


@dataclass
class TrackingCategory:
    tracking_category_id: str
    name: str
    status: str = "ACTIVE"  # ACTIVE | ARCHIVED | DELETED
    options: dict[str, TrackingOption] = field(default_factory=dict)


@dataclass
class Organisation:
    tenant_id: str
    name: str
    short_code: str
    base_currency: str
    currencies: list[str]
    country_code: str
    created: datetime
    default_sales_tax: str = "OUTPUT2"
    default_purchases_tax: str = "INPUT2"
    # Organisation settings → Invoice settings: default due dates for bills and sales invoices.
    payment_terms: PaymentTerms = field(default_factory=PaymentTerms)
    accounts: dict[str, Account] = field(default_factory=dict)
    tax_rates: dict[str, TaxRate] = field(default_factory=dict)
    branding_themes: dict[str, BrandingTheme] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    credit_notes: dict[str, CreditNote] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    allocations: dict[str, Allocation] = field(default_factory=dict)
    tracking_categories: dict[str, TrackingCategory] = field(default_factory=dict)
    next_invoice_number: int = 1
    next_credit_note_number: int = 1

    def account_by_code(self, code: str) -> Account | None:
        return next((a for a in self.accounts.values() if a.code == code), None)


# --- identity ---------------------------------------------------------------------------------


@dataclass
class User:
    user_id: str
    email: str
    password: str
    first_name: str
    last_name: str
    tenant_ids: list[str]


@dataclass
class OAuthClient:
    client_id: str
    client_secret: str | None  # None: a public (PKCE-only) client
    redirect_uris: list[str]
    name: str = "Sandbox app"


@dataclass
class Grant:
    """One consent of a user to a client; tokens issued from it share its fate."""

    grant_id: str
    client_id: str
    user_id: str
    scopes: list[str]
    auth_event_id: str
    created: datetime
    revoked: bool = False


@dataclass
class Connection:
    id: str
    client_id: str
    user_id: str
    tenant_id: str
    auth_event_id: str
    created: datetime
    updated: datetime


@dataclass
class AuthorizationCode:
    code: str
    grant_id: str
    client_id: str
    redirect_uri: str
    code_challenge: str | None
    expires_at: datetime
    used: bool = False


@dataclass
class AccessToken:
    jti: str
    grant_id: str
    expires_at: datetime


@dataclass
class RefreshToken:
    token: str
    grant_id: str
    expires_at: datetime
    spent_at: datetime | None = None
