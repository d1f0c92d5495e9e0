"""Dynamics records into Xero's JSON, and Xero's refusals into words a finance user acts on.
Pure functions: no I/O, nothing stored."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dxc_shared.messages import MAPPABLE_XERO_INVOICE_FIELDS

from invoice_sync.connector.records import ConnectorSettings
from invoice_sync.invoices.records import Customer, Invoice, Line, Product, ReferenceData
from invoice_sync.metrics import FailureReason

JSON = dict[str, Any]
ITEM_CODE_MAX = 30
ITEM_NAME_MAX = 50
REFERENCE_MAX = 255
RETRY_HINT = "Fix it, then set the invoice's Xero export status back to No to try again."


def contact_json(customer: Customer) -> JSON:
    """A one-time copy of the Dynamics account or contact. ContactNumber (set only through the
    API, meant for the id in another system) carries the Dynamics id, so the contact is found
    again however often it is looked for."""
    body: JSON = {
        "Name": customer.name,
        "ContactNumber": customer.id,
        "AccountNumber": customer.account_number,
        "EmailAddress": customer.email,
        "FirstName": customer.first_name,
        "LastName": customer.last_name,
    }
    return {key: value for key, value in body.items() if value}


def item_code(product: Product) -> str | None:
    """The Xero Item code of a Dynamics product: its product number, if Xero can take it."""
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
        body["SalesDetails"] = {"UnitPrice": product.price}
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
            return str(value)[:REFERENCE_MAX]
    return invoice.number or invoice.id


def _line_json(
    line: Line,
    settings: ConnectorSettings,
    data: ReferenceData,
    item_codes: Mapping[str, str],
) -> JSON:
    if line.written_in and line.quantity == 0 and line.price == 0:
        return {"Description": line.description or "-"}  # a note line
    body: JSON = {
        "Quantity": line.quantity,
        "UnitAmount": line.price,
        "AccountCode": data.account_codes.get(line.account_id or "") or settings.sales_account_code,
    }
    description = line.description
    if not line.written_in and line.product_id:
        product = data.products.get(line.product_id)
        code = item_codes.get(line.product_id)
        if code:
            body["ItemCode"] = code
        if product is not None:
            description = description or product.name
    if description:
        body["Description"] = description
    tax_type = data.tax_types.get(line.tax_rate_id or "")
    if tax_type:
        body["TaxType"] = tax_type
    return body


def invoice_json(
    invoice: Invoice,
    *,
    contact_id: str,
    settings: ConnectorSettings,
    data: ReferenceData,
    item_codes: Mapping[str, str],
    mappings: Mapping[str, str],
) -> JSON:
    body: JSON = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "LineAmountTypes": "Exclusive",
        "Status": settings.default_status,
        "LineItems": [_line_json(line, settings, data, item_codes) for line in invoice.lines],
        "Reference": _reference(invoice, mappings),
    }
    if invoice.date_delivered:
        body["Date"] = invoice.date_delivered.isoformat()
    if invoice.due_date:
        body["DueDate"] = invoice.due_date.isoformat()
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
