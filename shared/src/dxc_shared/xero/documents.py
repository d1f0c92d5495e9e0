"""Xero Accounting API documents as pydantic models, named as Xero names them.

Python names are snake_case; Xero's JSON names are their aliases (``invoice_id`` is
``InvoiceID``, ``updated_date_utc`` is ``UpdatedDateUTC``). The client parses Xero's answers with
``from_xero`` and the Xero sandbox writes its answers with ``to_xero``, so both stand on one
definition. Every field is optional, as in Xero's OpenAPI: which fields the connector relies on
is said by ``CONNECTOR_READS`` (Xero names, dotted through nested documents; fields the
connector only filters on with ``where`` count too, as the filter sees the written document), and
the sandbox's contract test checks that the sandbox writes each of them. Reading a new Xero field
in the connector means adding it here, so the contract test asks the sandbox for it.

Money is `Decimal` (a JSON number on the wire); dates are Xero's ``/Date(1700000000000+0000)/``
(ISO strings are accepted too).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
# Words Xero spells in capitals inside a name (InvoiceID, UpdatedDateUTC).
_CAPITALS = {"id": "ID", "utc": "UTC"}


def xero_name(field_name: str) -> str:
    """``branding_theme_id`` -> ``BrandingThemeID``."""
    return "".join(_CAPITALS.get(word, word.capitalize()) for word in field_name.split("_"))


def parse_xero_moment(value: object) -> datetime | None:
    """``/Date(1700000000000+0000)/`` (milliseconds since the epoch, UTC; the offset only says
    where the author was) or an ISO 8601 string, naive meaning UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a Xero date: {value!r}")
    match = _MS_DATE.match(value.strip())
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC)
    moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _to_date(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    moment = parse_xero_moment(value)
    return None if moment is None else moment.date()


def ms_date(value: date | datetime) -> str:
    """A date (midnight UTC) or a moment as Xero writes it: ``/Date(1552262400000+0000)/``."""
    moment = value if isinstance(value, datetime) else datetime.combine(value, time(tzinfo=UTC))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    # Integer arithmetic: a float timestamp times 1000 can land a millisecond short.
    milliseconds = (moment - _EPOCH) // timedelta(milliseconds=1)
    return f"/Date({milliseconds}+0000)/"


Money = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
XeroDate = Annotated[
    date, BeforeValidator(_to_date), PlainSerializer(ms_date, return_type=str, when_used="json")
]
XeroDateTime = Annotated[
    datetime,
    BeforeValidator(parse_xero_moment),
    PlainSerializer(ms_date, return_type=str, when_used="json"),
]


class InvoiceType(StrEnum):
    ACCREC = "ACCREC"
    ACCPAY = "ACCPAY"


class CreditNoteType(StrEnum):
    ACCRECCREDIT = "ACCRECCREDIT"
    ACCPAYCREDIT = "ACCPAYCREDIT"


class InvoiceStatus(StrEnum):
    """Also a credit note's status: Xero gives both the same life."""

    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    AUTHORISED = "AUTHORISED"
    PAID = "PAID"
    VOIDED = "VOIDED"
    DELETED = "DELETED"


class LineAmountTypes(StrEnum):
    EXCLUSIVE = "Exclusive"
    INCLUSIVE = "Inclusive"
    NO_TAX = "NoTax"


class PaymentTermType(StrEnum):
    """How a payment term's ``Day`` sets a due date from the document's date."""

    DAYSAFTERBILLDATE = "DAYSAFTERBILLDATE"
    DAYSAFTERBILLMONTH = "DAYSAFTERBILLMONTH"
    OFCURRENTMONTH = "OFCURRENTMONTH"
    OFFOLLOWINGMONTH = "OFFOLLOWINGMONTH"


class ContactStatus(StrEnum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"
    GDPR_REQUEST = "GDPRREQUEST"


class PaymentStatus(StrEnum):
    AUTHORISED = "AUTHORISED"
    DELETED = "DELETED"


class PaymentType(StrEnum):
    ACCRECPAYMENT = "ACCRECPAYMENT"
    ACCPAYPAYMENT = "ACCPAYPAYMENT"
    ARCREDITPAYMENT = "ARCREDITPAYMENT"
    APCREDITPAYMENT = "APCREDITPAYMENT"
    AROVERPAYMENTPAYMENT = "AROVERPAYMENTPAYMENT"
    ARPREPAYMENTPAYMENT = "ARPREPAYMENTPAYMENT"
    APPREPAYMENTPAYMENT = "APPREPAYMENTPAYMENT"
    APOVERPAYMENTPAYMENT = "APOVERPAYMENTPAYMENT"


class TaxRateStatus(StrEnum):
    ACTIVE = "ACTIVE"
    DELETED = "DELETED"
    ARCHIVED = "ARCHIVED"
    PENDING = "PENDING"


class AccountStatus(StrEnum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"
    DELETED = "DELETED"


class AccountType(StrEnum):
    BANK = "BANK"
    CURRENT = "CURRENT"
    CURRLIAB = "CURRLIAB"
    DEPRECIATN = "DEPRECIATN"
    DIRECTCOSTS = "DIRECTCOSTS"
    EQUITY = "EQUITY"
    EXPENSE = "EXPENSE"
    FIXED = "FIXED"
    INVENTORY = "INVENTORY"
    LIABILITY = "LIABILITY"
    NONCURRENT = "NONCURRENT"
    OTHERINCOME = "OTHERINCOME"
    OVERHEADS = "OVERHEADS"
    PREPAYMENT = "PREPAYMENT"
    REVENUE = "REVENUE"
    SALES = "SALES"
    TERMLIAB = "TERMLIAB"
    PAYG = "PAYG"


class AccountClass(StrEnum):
    ASSET = "ASSET"
    EQUITY = "EQUITY"
    EXPENSE = "EXPENSE"
    LIABILITY = "LIABILITY"
    REVENUE = "REVENUE"


class XeroDocument(BaseModel):
    """Built by Python name or parsed by Xero name; written by Xero name, absent fields left
    out. Fields Xero adds that are not declared here are ignored."""

    model_config = ConfigDict(
        alias_generator=xero_name,
        populate_by_name=True,
        coerce_numbers_to_str=True,
        extra="ignore",
    )

    CONNECTOR_READS: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_xero(cls, data: Mapping[str, Any]) -> Self:
        return cls.model_validate(data)

    def to_xero(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class EchoedDocument(XeroDocument):
    """A part Xero stores as the caller sent it (addresses, phones, tracking): undeclared
    fields are kept, and written back."""

    model_config = ConfigDict(extra="allow")


class ValidationMessage(XeroDocument):
    """One of Xero's ``ValidationErrors`` (or ``Warnings``)."""

    message: str | None = None


class Written(XeroDocument):
    """What Xero adds to each element of a batch write's answer."""

    status_attribute_string: str | None = None
    validation_errors: list[ValidationMessage] | None = None
    has_errors: bool | None = None


class Address(EchoedDocument):
    address_type: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    address_line3: str | None = None
    address_line4: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    attention_to: str | None = None


class Phone(EchoedDocument):
    phone_type: str | None = None
    phone_number: str | None = None
    phone_area_code: str | None = None
    phone_country_code: str | None = None


class TrackingOption(XeroDocument):
    tracking_option_id: str | None = None
    name: str | None = None
    status: str | None = None
    tracking_category_id: str | None = None
    has_validation_errors: bool | None = None
    is_deleted: bool | None = None
    is_archived: bool | None = None
    is_active: bool | None = None


class TrackingCategory(EchoedDocument):
    """A tracking category with its options (``TrackingCategories``), or the category and
    option a line item is tracked by (``LineItems[].Tracking``)."""

    tracking_category_id: str | None = None
    tracking_option_id: str | None = None
    name: str | None = None
    option: str | None = None
    status: str | None = None
    options: list[TrackingOption] | None = None


class PaymentTerm(XeroDocument):
    day: int | None = None
    type: PaymentTermType | None = None


class PaymentTerms(XeroDocument):
    """A contact's or the organisation's default terms: ``Sales`` for invoices, ``Bills`` for
    bills."""

    bills: PaymentTerm | None = None
    sales: PaymentTerm | None = None


class ContactGroup(XeroDocument):
    contact_group_id: str | None = None
    name: str | None = None
    status: str | None = None


class ContactPerson(XeroDocument):
    first_name: str | None = None
    last_name: str | None = None
    email_address: str | None = None
    include_in_emails: bool | None = None


class Balance(XeroDocument):
    outstanding: Money | None = None
    overdue: Money | None = None


class ContactBalances(XeroDocument):
    accounts_receivable: Balance | None = None
    accounts_payable: Balance | None = None


class Contact(Written):
    CONNECTOR_READS = (
        "ContactID",
        "ContactNumber",
        "AccountNumber",
        "Name",
        "Balances.AccountsReceivable.Outstanding",
        "Balances.AccountsReceivable.Overdue",
    )

    contact_id: str | None = None
    contact_number: str | None = None
    account_number: str | None = None
    contact_status: ContactStatus | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email_address: str | None = None
    tax_number: str | None = None
    default_currency: str | None = None
    addresses: list[Address] | None = None
    phones: list[Phone] | None = None
    payment_terms: PaymentTerms | None = None
    contact_groups: list[ContactGroup] | None = None
    contact_persons: list[ContactPerson] | None = None
    is_supplier: bool | None = None
    is_customer: bool | None = None
    balances: ContactBalances | None = None
    updated_date_utc: XeroDateTime | None = None
    has_attachments: bool | None = None
    has_validation_errors: bool | None = None


class ItemDetails(XeroDocument):
    """An item's ``SalesDetails`` or ``PurchaseDetails`` (Xero's ``Purchase`` schema)."""

    unit_price: Money | None = None
    account_code: str | None = None
    tax_type: str | None = None


class Item(Written):
    CONNECTOR_READS = ("Code",)

    item_id: str | None = None
    code: str | None = None
    name: str | None = None
    description: str | None = None
    purchase_description: str | None = None
    is_sold: bool | None = None
    is_purchased: bool | None = None
    is_tracked_as_inventory: bool | None = None
    sales_details: ItemDetails | None = None
    purchase_details: ItemDetails | None = None
    updated_date_utc: XeroDateTime | None = None


class LineItem(XeroDocument):
    line_item_id: str | None = None
    description: str | None = None
    quantity: Money | None = None
    unit_amount: Money | None = None
    item_code: str | None = None
    account_code: str | None = None
    tax_type: str | None = None
    tax_amount: Money | None = None
    line_amount: Money | None = None
    discount_rate: Money | None = None
    discount_amount: Money | None = None
    tracking: list[TrackingCategory] | None = None


class TaxComponent(XeroDocument):
    name: str | None = None
    rate: Money | None = None
    is_compound: bool | None = None
    is_non_recoverable: bool | None = None


class TaxRate(XeroDocument):
    CONNECTOR_READS = ("Name", "TaxType", "EffectiveRate", "DisplayTaxRate", "Status")

    name: str | None = None
    tax_type: str | None = None
    report_tax_type: str | None = None
    can_apply_to_assets: bool | None = None
    can_apply_to_equity: bool | None = None
    can_apply_to_expenses: bool | None = None
    can_apply_to_liabilities: bool | None = None
    can_apply_to_revenue: bool | None = None
    display_tax_rate: Money | None = None
    effective_rate: Money | None = None
    status: TaxRateStatus | None = None
    tax_components: list[TaxComponent] | None = None


class Account(XeroDocument):
    CONNECTOR_READS = ("Code", "Name", "Type", "TaxType", "Status")

    account_id: str | None = None
    code: str | None = None
    name: str | None = None
    status: AccountStatus | None = None
    type: AccountType | None = None
    tax_type: str | None = None
    account_class: AccountClass | None = Field(default=None, alias="Class")
    enable_payments_to_account: bool | None = None
    show_in_expense_claims: bool | None = None
    bank_account_number: str | None = None
    bank_account_type: str | None = None
    currency_code: str | None = None
    reporting_code: str | None = None
    has_attachments: bool | None = None
    updated_date_utc: XeroDateTime | None = None
    add_to_watchlist: bool | None = None


class BrandingTheme(XeroDocument):
    CONNECTOR_READS = ("BrandingThemeID", "Name")

    branding_theme_id: str | None = None
    name: str | None = None
    sort_order: int | None = None
    type: str | None = None
    created_date_utc: XeroDateTime | None = None


class Currency(XeroDocument):
    CONNECTOR_READS = ("Code",)

    code: str | None = None
    description: str | None = None


class Organisation(XeroDocument):
    CONNECTOR_READS = ("ShortCode",)

    organisation_id: str | None = None
    api_key: str | None = Field(default=None, alias="APIKey")
    name: str | None = None
    legal_name: str | None = None
    pays_tax: bool | None = None
    version: str | None = None
    organisation_type: str | None = None
    base_currency: str | None = None
    country_code: str | None = None
    is_demo_company: bool | None = None
    organisation_status: str | None = None
    financial_year_end_day: int | None = None
    financial_year_end_month: int | None = None
    sales_tax_basis: str | None = None
    sales_tax_period: str | None = None
    default_sales_tax: str | None = None
    default_purchases_tax: str | None = None
    created_date_utc: XeroDateTime | None = None
    organisation_entity_type: str | None = None
    timezone: str | None = None
    short_code: str | None = None
    payment_terms: PaymentTerms | None = None
    organisation_class: str | None = Field(default=None, alias="Class")
    edition: str | None = None


class Prepayment(XeroDocument):
    """As listed on an invoice it was applied to."""

    prepayment_id: str | None = None
    applied_amount: Money | None = None
    date: XeroDate | None = None
    total: Money | None = None


class Overpayment(XeroDocument):
    """As listed on an invoice it was applied to."""

    overpayment_id: str | None = None
    applied_amount: Money | None = None
    date: XeroDate | None = None
    total: Money | None = None


class _Transaction(Written):
    """What invoices and credit notes share."""

    contact: Contact | None = None
    date_string: str | None = None
    date: XeroDate | None = None
    due_date_string: str | None = None
    due_date: XeroDate | None = None
    status: InvoiceStatus | None = None
    line_amount_types: LineAmountTypes | None = None
    line_items: list[LineItem] | None = None
    sub_total: Money | None = None
    total_tax: Money | None = None
    total: Money | None = None
    updated_date_utc: XeroDateTime | None = None
    currency_code: str | None = None
    currency_rate: Money | None = None
    reference: str | None = None
    branding_theme_id: str | None = None
    fully_paid_on_date: XeroDate | None = None
    has_attachments: bool | None = None
    payments: list[Payment] | None = None


class Invoice(_Transaction):
    CONNECTOR_READS = (
        "InvoiceID",
        "InvoiceNumber",
        "Type",
        "Status",
        "Reference",
        "Contact.ContactID",
        "Contact.ContactNumber",
        "LineAmountTypes",
        "CurrencyCode",
        "SubTotal",
        "TotalTax",
        "Total",
        "AmountDue",
        "AmountPaid",
        "AmountCredited",
        "UpdatedDateUTC",
        "LineItems.Description",
        "LineItems.Quantity",
        "LineItems.UnitAmount",
        "LineItems.ItemCode",
        "LineItems.AccountCode",
        "LineItems.TaxType",
        "LineItems.DiscountRate",
        "LineItems.DiscountAmount",
        "LineItems.LineAmount",
        "LineItems.TaxAmount",
    )

    type: InvoiceType | None = None
    invoice_id: str | None = None
    invoice_number: str | None = None
    amount_due: Money | None = None
    amount_paid: Money | None = None
    amount_credited: Money | None = None
    sent_to_contact: bool | None = None
    is_discounted: bool | None = None
    credit_notes: list[CreditNote] | None = None
    prepayments: list[Prepayment] | None = None
    overpayments: list[Overpayment] | None = None


class CreditNote(_Transaction):
    CONNECTOR_READS = ("CreditNoteID", "Status", "Reference")

    type: CreditNoteType | None = None
    credit_note_id: str | None = None
    credit_note_number: str | None = None
    remaining_credit: Money | None = None
    applied_amount: Money | None = None
    allocations: list[Allocation] | None = None


class OnlineInvoice(XeroDocument):
    online_invoice_url: str | None = None


class Allocation(Written):
    allocation_id: str | None = None
    amount: Money | None = None
    date: XeroDate | None = None
    invoice: Invoice | None = None
    credit_note: CreditNote | None = None
    is_deleted: bool | None = None


class Payment(Written):
    payment_id: str | None = None
    date: XeroDate | None = None
    amount: Money | None = None
    bank_amount: Money | None = None
    currency_rate: Money | None = None
    reference: str | None = None
    is_reconciled: bool | None = None
    status: PaymentStatus | None = None
    payment_type: PaymentType | None = None
    updated_date_utc: XeroDateTime | None = None
    has_account: bool | None = None
    has_validation_errors: bool | None = None
    account: Account | None = None
    invoice: Invoice | None = None


for _document in (Invoice, CreditNote, Allocation, Payment):
    _document.model_rebuild()


def unwritten_reads(document: XeroDocument) -> list[str]:
    """The connector's reads (``CONNECTOR_READS``) that this parsed document does not carry.

    A dotted read goes through nested documents; through a list it is carried when any element
    carries it. Only fields present in the parsed JSON count, so parse what was written."""
    return [path for path in document.CONNECTOR_READS if not _carries(document, path.split("."))]


def _carries(value: object, path: list[str]) -> bool:
    if not path:
        return value is not None
    if isinstance(value, list):
        return any(_carries(element, path) for element in value)
    if not isinstance(value, XeroDocument):
        return False
    name = next(
        (
            field_name
            for field_name, field in type(value).model_fields.items()
            if field.alias == path[0]
        ),
        None,
    )
    if name is None:
        raise KeyError(f"{type(value).__name__} declares no field {path[0]}")
    if name not in value.model_fields_set:
        return False
    return _carries(getattr(value, name), path[1:])
