"""Xero's field length limits (the API reference of each endpoint gives them): a longer value
is refused with a validation error, never cut."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

INVOICE = {"InvoiceNumber": 255, "Reference": 255}
LINE_ITEM = {"Description": 4000}
ITEM = {"Code": 30, "Name": 50, "Description": 4000, "PurchaseDescription": 4000}
CONTACT = {
    "Name": 255,
    "ContactNumber": 50,
    "AccountNumber": 50,
    "FirstName": 255,
    "LastName": 255,
    "EmailAddress": 255,
    "TaxNumber": 50,
}
ADDRESS = {
    "AddressLine1": 500,
    "AddressLine2": 500,
    "AddressLine3": 500,
    "AddressLine4": 500,
    "City": 255,
    "Region": 255,
    "PostalCode": 50,
    "Country": 50,
    "AttentionTo": 255,
}
PHONE = {"PhoneNumber": 50, "PhoneAreaCode": 10, "PhoneCountryCode": 20}


def too_long(field: str, limit: int) -> str:
    return f"{field} must not exceed {limit} characters"


def check(raw: Mapping[str, Any], limits: Mapping[str, int], errors: list[str]) -> None:
    for field, limit in limits.items():
        value = raw.get(field)
        if isinstance(value, str) and len(value) > limit:
            errors.append(too_long(field, limit))
