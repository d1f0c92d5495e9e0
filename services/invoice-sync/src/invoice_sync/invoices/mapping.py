"""Dynamics records into Xero's JSON, and Xero's refusals into words a finance user acts on.
Pure functions: no I/O, nothing stored."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dxc_shared.messages import MAPPABLE_XERO_INVOICE_FIELDS

from invoice_sync.connector.records import ConnectorSettings
from invoice_sync.due_dates import due_date
from invoice_sync.invoices import amounts
from invoice_sync.invoices.records import Customer, Invoice, Line, Product, ReferenceData
from invoice_sync.metrics import FailureReason

JSON = dict[str, Any]
# Xero's field length limits (see the Xero sandbox's README): a longer value fails the
# invoice with the field and the limit named, rather than being cut or refused.
ITEM_CODE_MAX = 30
ITEM_NAME_MAX = 50
REFERENCE_MAX = 255
DESCRIPTION_MAX = 4000
CONTACT_NAME_MAX = 255
RETRY_HINT = "Fix it, then set the invoice's Xero export status back to No to try again."
FREIGHT_DESCRIPTION = "Freight"


def contact_json(customer: Customer) -> JSON:
    """A one-time copy of the Dynamics account or contact, with its billing address and phone.
    ContactNumber (set only through the API, meant for the id in another system) carries the
    Dynamics id, so the contact is found again however often it is looked for."""
    body: JSON = {
        "Name": customer.name,
        "ContactNumber": customer.id,
        "AccountNumber": customer.account_number,
        "EmailAddress": customer.email,
        "FirstName": customer.first_name,
        "LastName": customer.last_name,
    }
    line1, line2, city, region, postcode, country = (*customer.address, *([None] * 6))[:6]
    address = {
        "AddressLine1": line1,
        "AddressLine2": line2,
        "City": city,
        "Region": region,
        "PostalCode": postcode,
        "Country": country,
    }
    if any(address.values()):
        body["Addresses"] = [{"AddressType": "POBOX", **{k: v for k, v in address.items() if v}}]
    if customer.phone:
        body["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": customer.phone}]
    return {key: value for key, value in body.items() if value}


def contact_too_long(customer: Customer) -> Failure | None:
    name = customer.name
    return _too_long(
        f"The customer's name '{name[:40]}...'", "contact name", name, CONTACT_NAME_MAX
    )


def item_code(product: Product) -> str | None:
    """The Xero Item code of a Dynamics product: its product number, if Xero can take it (a
    longer one fails its invoices, see `invoice_json`)."""
    code = product.number
    return code if code and len(code) <= ITEM_CODE_MAX else None


def item_json(product: Product) -> JSON:
    body: JSON = {
        "Code": product.number,
        "Name": (product.name or product.number)[:ITEM_NAME_MAX],
        "Description": product.description or product.name or product.number,
        "IsSold": True,
    }
    if product.price is not None:
        body["SalesDetails"] = {"UnitPrice": float(product.price)}
    return body


def recovery_key(invoice: Invoice, settings: ConnectorSettings, mappings: Mapping[str, str]) -> str:
    """What identifies this invoice in Xero before we know its Xero id: the InvoiceNumber when
    Dynamics numbers it, else the Reference it is sent with."""
    if not settings.use_xero_invoice_number:
        return invoice.number or invoice.id
    return _reference(invoice, mappings)


def _reference(invoice: Invoice, mappings: Mapping[str, str]) -> str:
    for column, target in mappings.items():
        value = invoice.row.get(column.lower())
        if target == "Reference" and value not in (None, ""):
            return str(value)
    return invoice.number or invoice.id


def _too_long(what: str, field: str, value: str, limit: int) -> Failure | None:
    """The failure of a `value` longer than Xero's `field` takes, or None if it fits."""
    if len(value) <= limit:
        return None
    return Failure(
        "value_too_long",
        f"{what} is {len(value):,} characters long; Xero's {field} takes at most {limit:,}. "
        + RETRY_HINT,
    )


def _description_too_long(label: str, description: str) -> Failure | None:
    return _too_long(f"{label}'s description", "line description", description, DESCRIPTION_MAX)


def amounts_of(invoice: Invoice) -> amounts.DynamicsAmounts:
    """The Dynamics invoice's amounts, for `amounts.reconcile`."""
    return amounts.DynamicsAmounts(
        lines=[amounts.DynamicsLine(line.amount, line.manual_discount) for line in invoice.lines],
        invoice_discount=invoice.discount,
        freight=invoice.freight,
    )


def _line_json(
    line: Line,
    share: Decimal,
    settings: ConnectorSettings,
    data: ReferenceData,
    item_codes: Mapping[str, str],
) -> JSON | Failure:
    label = f"Line {line.number}"
    description = line.description
    if line.is_note:
        if description and (failure := _description_too_long(label, description)):
            return failure
        return {"Description": description or "-"}  # a note line
    body: JSON = {
        "Quantity": float(line.quantity),
        # Dynamics' volume discount is per unit: the unit price Xero sees is net of it.
        "UnitAmount": float(line.price - line.volume_discount),
        "AccountCode": data.account_codes.get(line.account_id or "") or settings.sales_account_code,
    }
    discount = line.manual_discount + share
    if discount:
        body["DiscountAmount"] = float(discount)
    if not line.written_in and line.product_id:
        product = data.products.get(line.product_id)
        if product is None and not description:
            return Failure(
                "product_deleted",
                f"{label}'s product no longer exists in Dynamics 365 and the line has no "
                "description. Give the line a description or another product. " + RETRY_HINT,
            )
        if product is not None:
            number = product.number
            if failure := _too_long(
                f"{label}'s product number '{number}'", "item code", number, ITEM_CODE_MAX
            ):
                return failure
            code = item_codes.get(line.product_id)
            if code:
                body["ItemCode"] = code
            description = description or product.name
    if description:
        if failure := _description_too_long(label, description):
            return failure
        body["Description"] = description
    tax_type = data.tax_types.get(line.tax_rate_id or "")
    if tax_type:
        body["TaxType"] = tax_type
    return body


def _freight_json(invoice: Invoice, settings: ConnectorSettings) -> JSON:
    return {
        "Description": FREIGHT_DESCRIPTION,
        "Quantity": 1,
        "UnitAmount": float(invoice.freight),
        "AccountCode": settings.freight_account_code or settings.sales_account_code,
        "TaxType": settings.freight_tax_type,
    }


def invoice_json(
    invoice: Invoice,
    *,
    contact_id: str,
    settings: ConnectorSettings,
    data: ReferenceData,
    item_codes: Mapping[str, str],
    mappings: Mapping[str, str],
) -> JSON | Failure:
    """The Xero invoice, or why Xero could not take it as it is: a line for each Dynamics line
    (its discount and its share of the invoice discount as DiscountAmount), then freight."""
    shares = amounts.spread(invoice.discount, [line.amount for line in invoice.lines])
    if shares is None:
        return Failure(
            "amounts_differ",
            f"The invoice discount of {invoice.discount:,.2f} cannot be spread over lines "
            "without amounts. " + RETRY_HINT,
        )
    lines: list[JSON] = []
    for line, share in zip(invoice.lines, shares, strict=True):
        line_body = _line_json(line, share, settings, data, item_codes)
        if isinstance(line_body, Failure):
            return line_body
        lines.append(line_body)
    if invoice.freight:
        lines.append(_freight_json(invoice, settings))
    reference = _reference(invoice, mappings)
    if failure := _too_long("The invoice's reference", "Reference", reference, REFERENCE_MAX):
        return failure
    body: JSON = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "LineAmountTypes": settings.line_amount_types,
        "Status": settings.default_status,
        "LineItems": lines,
        "Reference": reference,
    }
    if invoice.date_delivered:
        body["Date"] = invoice.date_delivered.isoformat()
    due = due_date(
        invoice.date_delivered,
        invoice.due_date,
        invoice.payment_terms_code,
        settings.default_payment_days,
    )
    if due:
        body["DueDate"] = due.isoformat()
    currency = data.currencies.get(invoice.currency_id or "")
    if currency:
        body["CurrencyCode"] = currency
    if not settings.use_xero_invoice_number and invoice.number:
        body["InvoiceNumber"] = invoice.number
    for column, target in mappings.items():
        value = invoice.row.get(column.lower())
        if (
            target in MAPPABLE_XERO_INVOICE_FIELDS
            and target != "Reference"
            and value not in (None, "")
        ):
            body[target] = str(value)
    return body


# -- failures in words --------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    reason: FailureReason
    message: str


_ACCOUNT = re.compile(r"Account code '([^']*)'", re.IGNORECASE)
_TAX = re.compile(r"TaxType code '([^']*)'", re.IGNORECASE)
_CURRENCY = re.compile(r"not subscribed to currency\s+([A-Z]{3})", re.IGNORECASE)


def contact_missing(customer_name: str) -> Failure:
    return Failure(
        "contact_missing",
        f"Contact '{customer_name}' does not exist in Xero and creating contacts is switched "
        f"off. Create the contact in Xero or switch on 'Create new contacts in Xero'; then set "
        f"the invoice's Xero export status back to No.",
    )


def contact_not_created(customer_name: str, errors: Sequence[str]) -> Failure:
    return Failure(
        "xero_validation",
        f"Xero would not create the contact '{customer_name}': {'; '.join(errors)}. " + RETRY_HINT,
    )


def explain(errors: Sequence[str]) -> Failure:
    """Xero's validation messages for one invoice, as a reason code and a sentence."""
    for error in errors:
        if match := _CURRENCY.search(error):
            return Failure(
                "currency_not_enabled",
                f"The currency {match.group(1)} is not enabled in Xero. Add it in Xero "
                f"(Settings, Currencies); then set the invoice's Xero export status back to No.",
            )
        if match := _ACCOUNT.search(error):
            return Failure(
                "account_code_unknown",
                f"The account code '{match.group(1)}' is not in Xero's chart of accounts (or is "
                f"archived). Check the line's Xero account or the connector's default sales "
                f"account code. " + RETRY_HINT,
            )
        if match := _TAX.search(error):
            return Failure(
                "tax_type_invalid",
                f"The tax type '{match.group(1)}' does not exist in Xero or cannot be used on "
                f"sales invoices. Check the line's Xero tax rate. " + RETRY_HINT,
            )
    return Failure(
        "xero_validation", f"Xero did not accept the invoice: {'; '.join(errors)}. " + RETRY_HINT
    )
