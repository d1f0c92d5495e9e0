"""Xero's money rules: due dates and payment terms, unique account numbers, line discounts,
LineAmountTypes, four-decimal unit prices and field length limits."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.xero_sandbox import XeroSandbox

Xero = tuple[XeroSandbox, dict[str, str]]


def _write(xero: Xero, plural: str, *elements: dict[str, Any], **params: str) -> list[Any]:
    sandbox, headers = xero
    response = sandbox.http.post(
        sandbox.api(plural),
        headers=headers,
        params={"summarizeErrors": "false", **params},
        json={plural: list(elements)},
    )
    assert response.status_code == 200, response.text
    written: list[Any] = response.json()[plural]
    return written


def _errors(element: dict[str, Any]) -> list[str]:
    return [e["Message"] for e in element.get("ValidationErrors", [])]


def _invoice(contact: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "Contact": contact,
        "Date": "2026-03-10",
        "Status": "AUTHORISED",
        "LineItems": [
            {"Description": "Consulting", "Quantity": 1, "UnitAmount": 100, "AccountCode": "200"}
        ],
        **fields,
    }


def test_approved_invoice_needs_a_due_date_unless_terms_give_one(xero: Xero) -> None:
    sandbox, _ = xero
    no_terms = _write(xero, "Invoices", _invoice({"Name": "Termless Ltd"}))[0]
    assert _errors(no_terms) == ["Due Date must be specified"]
    draft = _write(xero, "Invoices", _invoice({"Name": "Termless Ltd"}, Status="DRAFT"))[0]
    assert _errors(draft) == []
    assert "DueDate" not in draft

    org_terms = sandbox.admin(
        "PUT",
        f"/organisations/{sandbox.tenant}/payment-terms",
        json={"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}},
    )
    assert org_terms.status_code == 200, org_terms.text
    by_org = _write(xero, "Invoices", _invoice({"Name": "Termless Ltd"}))[0]
    assert by_org["DueDateString"].startswith("2026-04-20")

    contact = _write(
        xero,
        "Contacts",
        {
            "Name": "Prompt Payer",
            "PaymentTerms": {"Sales": {"Day": 7, "Type": "DAYSAFTERBILLDATE"}},
        },
    )[0]
    assert contact["PaymentTerms"] == {"Sales": {"Day": 7, "Type": "DAYSAFTERBILLDATE"}}
    by_contact = _write(xero, "Invoices", _invoice({"ContactID": contact["ContactID"]}))[0]
    assert by_contact["DueDateString"].startswith("2026-03-17")
    given = _write(xero, "Invoices", _invoice({"Name": "Termless Ltd"}, DueDate="2026-05-01"))[0]
    assert given["DueDateString"].startswith("2026-05-01")
    organisation = sandbox.http.get(sandbox.api("Organisation"), headers=xero[1]).json()
    assert organisation["Organisations"][0]["PaymentTerms"]["Sales"]["Type"] == ("OFFOLLOWINGMONTH")


@pytest.mark.parametrize(
    ("day", "kind", "due"),
    [
        (10, "DAYSAFTERBILLDATE", "2026-01-30"),
        (10, "DAYSAFTERBILLMONTH", "2026-02-10"),
        (31, "OFCURRENTMONTH", "2026-01-31"),
        (31, "OFFOLLOWINGMONTH", "2026-02-28"),
    ],
)
def test_payment_term_types(xero: Xero, day: int, kind: str, due: str) -> None:
    contact = _write(
        xero,
        "Contacts",
        {"Name": f"Terms {kind}", "PaymentTerms": {"Sales": {"Day": day, "Type": kind}}},
    )[0]
    invoice = _write(
        xero, "Invoices", _invoice({"ContactID": contact["ContactID"]}, Date="2026-01-20")
    )[0]
    assert invoice["DueDateString"].startswith(due)


def test_account_number_is_unique(xero: Xero) -> None:
    first = _write(xero, "Contacts", {"Name": "Acme Ltd", "AccountNumber": "ACC-1"})[0]
    assert _errors(first) == []
    second = _write(xero, "Contacts", {"Name": "Acme Holdings", "AccountNumber": "ACC-1"})[0]
    assert _errors(second) == [
        "The Account Number already exists. Please enter a different Account Number."
    ]
    again = _write(xero, "Contacts", {"ContactID": first["ContactID"], "AccountNumber": "ACC-1"})[0]
    assert _errors(again) == []


def test_line_discounts_inclusive_and_no_tax(xero: Xero) -> None:
    lines = [
        {
            "Description": "Rate",
            "Quantity": 3,
            "UnitAmount": 19.99,
            "DiscountRate": 12.5,
            "AccountCode": "200",
        },
        {
            "Description": "Amount",
            "Quantity": 2,
            "UnitAmount": 100,
            "DiscountAmount": 55,
            "AccountCode": "200",
        },
    ]
    exclusive = _write(
        xero, "Invoices", _invoice({"Name": "Acme Ltd"}, DueDate="2026-04-01", LineItems=lines)
    )[0]
    assert _errors(exclusive) == []
    rate, amount = exclusive["LineItems"]
    assert rate["LineAmount"] == 52.47  # 59.97 x 0.875 = 52.47375
    assert amount["LineAmount"] == 145.00
    assert amount["DiscountAmount"] == 55
    assert exclusive["SubTotal"] == 197.47
    assert exclusive["TotalTax"] == 29.62  # 7.87 + 21.75
    assert exclusive["IsDiscounted"] is True
    inclusive = _write(
        xero,
        "Invoices",
        _invoice(
            {"Name": "Acme Ltd"},
            DueDate="2026-04-01",
            LineItems=lines[1:],
            LineAmountTypes="Inclusive",
        ),
    )[0]
    assert inclusive["Total"] == 145.00
    assert inclusive["TotalTax"] == 18.91  # 145 x 15 / 115
    no_tax = _write(
        xero,
        "Invoices",
        _invoice(
            {"Name": "Acme Ltd"}, DueDate="2026-04-01", LineItems=lines[1:], LineAmountTypes="NoTax"
        ),
    )[0]
    assert no_tax["TotalTax"] == 0
    assert no_tax["Total"] == 145.00
    both = _write(
        xero,
        "Invoices",
        _invoice(
            {"Name": "Acme Ltd"},
            DueDate="2026-04-01",
            LineItems=[{**lines[0], "DiscountAmount": 1}],
        ),
    )[0]
    assert _errors(both) == ["A line item can have a DiscountRate or a DiscountAmount, not both"]


def test_four_decimal_unit_prices_with_unitdp(xero: Xero) -> None:
    line = {"Description": "Precise", "Quantity": 11, "UnitAmount": 2108.3923, "AccountCode": "200"}
    four = _write(
        xero,
        "Invoices",
        _invoice({"Name": "Acme Ltd"}, DueDate="2026-04-01", LineItems=[line]),
        unitdp="4",
    )[0]
    assert four["LineItems"][0]["UnitAmount"] == 2108.3923
    assert four["LineItems"][0]["LineAmount"] == 23192.32
    two = _write(
        xero, "Invoices", _invoice({"Name": "Acme Ltd"}, DueDate="2026-04-01", LineItems=[line])
    )[0]
    assert two["LineItems"][0]["LineAmount"] == 23192.29  # 2108.39 x 11


def test_values_over_xero_limits_are_refused_not_cut(xero: Xero) -> None:
    long_line = {"Description": "x" * 4001, "Quantity": 1, "UnitAmount": 1, "AccountCode": "200"}
    invoice = _write(
        xero,
        "Invoices",
        _invoice(
            {"Name": "Acme Ltd"}, DueDate="2026-04-01", Reference="r" * 256, LineItems=[long_line]
        ),
    )[0]
    assert set(_errors(invoice)) == {
        "Description must not exceed 4000 characters",
        "Reference must not exceed 255 characters",
    }
    item = _write(xero, "Items", {"Code": "C" * 31, "Name": "N" * 51})[0]
    assert set(_errors(item)) == {
        "Code must not exceed 30 characters",
        "Name must not exceed 50 characters",
    }
    contact = _write(
        xero,
        "Contacts",
        {
            "Name": "n" * 256,
            "AccountNumber": "a" * 51,
            "Addresses": [{"AddressType": "POBOX", "City": "c" * 256}],
            "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "1" * 51}],
        },
    )[0]
    assert set(_errors(contact)) == {
        "Name must not exceed 255 characters",
        "AccountNumber must not exceed 50 characters",
        "City must not exceed 255 characters",
        "PhoneNumber must not exceed 50 characters",
    }
