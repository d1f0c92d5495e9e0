"""Invoices and credit notes alike: contact, lines (items, accounts, tax), totals, currency,
dates, and which status changes are allowed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dxc_shared.xero import documents as xero

from .. import lengths
from ..errors import ValidationFailure
from ..formats import date_string, new_id, parse_date, parse_guid, to_decimal
from ..models import Contact, Document, Item, LineItem, Organisation
from ..tax import line_amount, line_tax, totals
from ..terms import due_date, term_for
from .common import ApiContext, Json, number
from .tracking import line_tracking

LINE_AMOUNT_TYPES = {"Exclusive", "Inclusive", "NoTax"}
SALES_TYPES = {"ACCREC", "ACCRECCREDIT"}
EDITABLE = {"DRAFT", "SUBMITTED"}
# Which statuses a document may move to from each status, and which may be edited: DRAFT and
# SUBMITTED freely, AUTHORISED (lines, amounts, dates, reference) only while no payment or credit
# note is allocated; PAID, VOIDED and DELETED never ("Invoice not of valid status for
# modification"). Source: https://developer.xero.com/documentation/api/accounting/invoices
# (Invoice status codes; updating an approved invoice); HAS_ALLOCATIONS is Xero's validation
# message for an edit of an allocated document, as integrators quote it (e.g.
# https://payhawk.com/help/failed-to-export-into-xero-this-document-cannot-be-edited-as-it-has-a-payment-or-credit-note-allocated-to-it).
TRANSITIONS = {
    "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "SUBMITTED": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "AUTHORISED": {"AUTHORISED", "VOIDED"},
}
CREATABLE = {"DRAFT", "SUBMITTED", "AUTHORISED"}
INVOICE_TYPES = {"ACCREC", "ACCPAY"}
DUE_DATE_REQUIRED = "Due Date must be specified"
HAS_ALLOCATIONS = (
    "This document cannot be edited as it has a payment or credit note allocated to it."
)


def contact_summary(contact: Contact) -> xero.Contact:
    return xero.Contact(
        contact_id=contact.contact_id,
        contact_status=xero.ContactStatus(contact.status),
        name=contact.name,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email_address=contact.email_address,
        contact_number=contact.contact_number,
        account_number=contact.account_number,
        has_validation_errors=False,
    )


def resolve_contact(context: ApiContext, raw: Any, errors: list[str]) -> Contact | None:
    """By ContactID, ContactNumber or Name; an unknown Name creates the contact, as in Xero."""
    org = context.org
    if not isinstance(raw, dict) or not any(
        raw.get(k) for k in ("ContactID", "ContactNumber", "Name")
    ):
        errors.append("A Contact must be specified for this type of transaction")
        return None
    if raw.get("ContactID"):
        contact_id = parse_guid(raw["ContactID"])
        contact = org.contacts.get(contact_id or "")
        if contact is None:
            errors.append(f"Contact with ContactID '{raw['ContactID']}' does not exist")
        return contact
    if raw.get("ContactNumber"):
        found = next(
            (c for c in org.contacts.values() if c.contact_number == raw["ContactNumber"]), None
        )
        if found is not None or not raw.get("Name"):
            if found is None:
                errors.append(f"Contact with ContactNumber '{raw['ContactNumber']}' does not exist")
            return found
    name = str(raw["Name"]).strip()
    found = next(
        (
            c
            for c in org.contacts.values()
            if c.status == "ACTIVE" and c.name.lower() == name.lower()
        ),
        None,
    )
    if found is not None:
        return found
    now = context.now
    contact = Contact(new_id(), name, now, now, contact_number=raw.get("ContactNumber"))
    org.contacts[contact.contact_id] = contact
    context.emit("CONTACT", "CREATE", contact.contact_id, "Contacts")
    return contact


def _item_for(org: Organisation, code: str) -> Item | None:
    return next((i for i in org.items.values() if i.code.lower() == code.lower()), None)


def build_lines(
    org: Organisation,
    raw_lines: list[Any],
    document_type: str,
    line_amount_types: str,
    status: str,
    unitdp: int,
    errors: list[str],
) -> list[LineItem]:
    """Lines as Xero completes them: item defaults, account and tax defaults, amounts rounded
    to cents line by line."""
    sales = document_type in SALES_TYPES
    lines: list[LineItem] = []
    for raw in raw_lines:
        if not isinstance(raw, dict):
            errors.append("Line items must be objects")
            continue
        lengths.check(raw, lengths.LINE_ITEM, errors)
        description = raw.get("Description")
        item_code = raw.get("ItemCode")
        account_code = raw.get("AccountCode")
        tax_type = raw.get("TaxType")
        unit = to_decimal(raw.get("UnitAmount"))
        if item_code:
            item = _item_for(org, str(item_code))
            if item is None:
                errors.append(f"Item code '{item_code}' is not valid")
            else:
                item_code = item.code
                details = item.sales if sales else item.purchase
                description = description or (
                    item.description if sales else item.purchase_description or item.description
                )
                unit = unit if unit is not None else details.unit_price
                account_code = account_code or details.account_code
                tax_type = tax_type or details.tax_type
        quantity = to_decimal(raw.get("Quantity"))
        discount = to_decimal(raw.get("DiscountRate"))
        discount_amount = to_decimal(raw.get("DiscountAmount"))
        if discount is not None and discount_amount is not None:
            errors.append("A line item can have a DiscountRate or a DiscountAmount, not both")
        if discount is not None and not 0 <= discount <= 100:
            errors.append("DiscountRate must be between 0 and 100")
        if discount_amount is not None and discount_amount < 0:
            errors.append("DiscountAmount must not be negative")
        given_amount = to_decimal(raw.get("LineAmount"))
        if unit is not None:
            unit = round(unit, unitdp)
        if quantity is None and (unit is not None or given_amount is not None):
            quantity = Decimal(1)
        if unit is None and given_amount is not None and quantity:
            unit = round(given_amount / quantity, unitdp)
        amount = (
            line_amount(quantity, unit, discount, discount_amount)
            if quantity is not None and unit is not None
            else Decimal(0)
        )
        if given_amount is not None and abs(given_amount - amount) >= Decimal("0.01"):
            errors.append(
                f"The line amount {given_amount} does not match Quantity x UnitAmount "
                f"less discount ({amount})."
            )
        account = org.account_by_code(str(account_code)) if account_code else None
        if account_code and (account is None or account.status != "ACTIVE"):
            errors.append(f"Account code '{account_code}' is not a valid code for this document.")
        elif account_code is None and amount and status not in {"DRAFT", "DELETED"}:
            errors.append("Account code must be specified")
        if line_amount_types == "NoTax":
            tax_type = tax_type or "NONE"
        elif tax_type is None and (amount or account is not None):
            tax_type = (
                account.tax_type
                if account
                else (org.default_sales_tax if sales else org.default_purchases_tax)
            )
        rate = Decimal(0)
        if tax_type is not None:
            tax_rate = org.tax_rates.get(str(tax_type))
            usable = (
                tax_rate is not None
                and tax_rate.status == "ACTIVE"
                and (tax_rate.can_apply_to_revenue if sales else tax_rate.can_apply_to_expenses)
            )
            if tax_rate is None or not usable:
                errors.append(
                    f"The TaxType code '{tax_type}' does not exist or cannot be used for this "
                    "type of transaction."
                )
            else:
                rate = tax_rate.rate
        lines.append(
            LineItem(
                line_item_id=parse_guid(raw.get("LineItemID")) or new_id(),
                description=description,
                quantity=quantity,
                unit_amount=unit,
                item_code=item_code,
                account_code=account.code if account else account_code,
                tax_type=tax_type,
                discount_rate=discount,
                line_amount=amount,
                tax_amount=line_tax(amount, rate, line_amount_types),
                tracking=line_tracking(org, raw.get("Tracking"), errors),
                discount_amount=discount_amount,
            )
        )
    return lines


def apply_fields(
    context: ApiContext,
    document: Document,
    raw: Json,
    *,
    creating: bool,
    unitdp: int,
    errors: list[str],
) -> None:
    """Validate and copy the fields shared by invoices and credit notes (a POST only changes
    the fields it carries)."""
    org = context.org
    if creating or "Contact" in raw:
        contact = resolve_contact(context, raw.get("Contact"), errors)
        if contact is not None:
            document.contact_id = contact.contact_id
    for key, attribute in (("Date", "date"), ("DueDate", "due_date")):
        if key in raw:
            parsed = parse_date(raw[key])
            if raw[key] and parsed is None:
                errors.append(f"{key} is not a valid date")
            setattr(document, attribute, parsed)
    if creating and document.date is None:
        document.date = context.now.date()
    if document.type in INVOICE_TYPES and document.due_date is None and document.date:
        term = term_for(org, org.contacts.get(document.contact_id), document.type)
        if term is not None:
            document.due_date = due_date(term, document.date)
    if (
        document.type in INVOICE_TYPES
        and document.due_date is None
        and document.status in {"SUBMITTED", "AUTHORISED"}
    ):
        errors.append(DUE_DATE_REQUIRED)
    lengths.check(raw, lengths.INVOICE, errors)
    if "Reference" in raw:
        document.reference = raw["Reference"]
    if raw.get("CurrencyCode"):
        code = str(raw["CurrencyCode"]).upper()
        if code not in org.currencies:
            errors.append(f"Organisation is not subscribed to currency {code}")
        document.currency_code = code
    if raw.get("BrandingThemeID"):
        theme_id = parse_guid(raw["BrandingThemeID"])
        if theme_id not in org.branding_themes:
            errors.append("Invalid BrandingThemeID")
        document.branding_theme_id = theme_id or raw["BrandingThemeID"]
    if "LineAmountTypes" in raw:
        if raw["LineAmountTypes"] not in LINE_AMOUNT_TYPES:
            errors.append(f"'{raw['LineAmountTypes']}' is not a valid LineAmountTypes value")
        else:
            document.line_amount_types = raw["LineAmountTypes"]
    # A status change re-validates the lines too (an approved document needs account codes).
    if creating or {"LineItems", "LineAmountTypes", "Status"} & raw.keys():
        raw_lines = raw.get("LineItems")
        if raw_lines is None:
            raw_lines = [line_document(line, unitdp).to_xero() for line in document.line_items]
        if not isinstance(raw_lines, list):
            errors.append("LineItems must be a list")
            raw_lines = []
        document.line_items = build_lines(
            org,
            raw_lines,
            document.type,
            document.line_amount_types,
            document.status,
            unitdp,
            errors,
        )
    if document.status in {"SUBMITTED", "AUTHORISED"} and not document.line_items:
        errors.append("At least one line item must be specified")
    computed = totals(document.line_items, document.line_amount_types)
    document.sub_total, document.total_tax, document.total = (
        computed.sub_total,
        computed.total_tax,
        computed.total,
    )
    if document.amount_due < 0:
        errors.append("The document total cannot be less than the amount already paid or credited")


def check_status_change(document: Document, new_status: str, label: str, changes: bool) -> None:
    """Raise when the requested status (or any edit) is not allowed from the current one."""
    allocated = document.amount_paid > 0 or document.amount_credited > 0
    if document.status == "AUTHORISED" and allocated and (changes or new_status != "AUTHORISED"):
        raise ValidationFailure(HAS_ALLOCATIONS)
    allowed = TRANSITIONS.get(document.status, set())
    if new_status not in allowed or (changes and document.status not in EDITABLE | {"AUTHORISED"}):
        raise ValidationFailure(f"{label} not of valid status for modification")


def line_document(line: LineItem, unitdp: int) -> xero.LineItem:
    return xero.LineItem(
        line_item_id=line.line_item_id,
        description=line.description,
        quantity=number(line.quantity, 4),
        unit_amount=number(line.unit_amount, unitdp),
        item_code=line.item_code,
        account_code=line.account_code,
        tax_type=line.tax_type,
        tax_amount=number(line.tax_amount),
        line_amount=number(line.line_amount),
        discount_rate=number(line.discount_rate),
        discount_amount=number(line.discount_amount),
        tracking=[xero.TrackingCategory.from_xero(category) for category in line.tracking],
    )


def document_fields(context: ApiContext, document: Document, unitdp: int) -> dict[str, Any]:
    """The fields invoices and credit notes share, by their Python names in the shared
    documents."""
    contact = context.org.contacts.get(document.contact_id)
    return {
        "contact": contact_summary(contact)
        if contact
        else xero.Contact(contact_id=document.contact_id),
        "reference": document.reference,
        "status": xero.InvoiceStatus(document.status),
        "line_amount_types": xero.LineAmountTypes(document.line_amount_types),
        "line_items": [line_document(line, unitdp) for line in document.line_items],
        "sub_total": number(document.sub_total),
        "total_tax": number(document.total_tax),
        "total": number(document.total),
        "updated_date_utc": document.updated,
        "currency_code": document.currency_code,
        "currency_rate": Decimal(1),
        "branding_theme_id": document.branding_theme_id,
        "has_attachments": False,
        "has_errors": False,
        "date_string": date_string(document.date) if document.date else None,
        "date": document.date,
        "due_date_string": date_string(document.due_date) if document.due_date else None,
        "due_date": document.due_date,
        "fully_paid_on_date": document.fully_paid_on,
    }
