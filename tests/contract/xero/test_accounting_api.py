"""What "faithful" means for the Xero Accounting API and Xero's identity service, as the
connector relies on them. Every assertion holds on a real organisation: the sources are
Xero's developer documentation and its published OpenAPI definition (xero_accounting.yaml),
named in sandboxes/xero/README.md."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from .conftest import Target, unique_name

RATE_LIMIT_HEADERS = ("X-DayLimit-Remaining", "X-MinLimit-Remaining", "X-AppMinLimit-Remaining")
ZERO_ID = "00000000-0000-0000-0000-000000000000"
_MS_DATE = re.compile(r"/Date\((\d+)([+-]\d{4})?\)/")


def _when(value: str) -> datetime:
    """A Xero JSON date, ``/Date(milliseconds+offset)/``."""
    match = _MS_DATE.fullmatch(value)
    assert match is not None, value
    return datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)


def _contact(xero: Target, **fields: Any) -> dict[str, Any]:
    response = xero.put("Contacts", {"Contacts": [{"Name": unique_name(), **fields}]})
    assert response.status_code == 200, response.text
    contact: dict[str, Any] = response.json()["Contacts"][0]
    return contact


def _sales_invoice(contact_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Date": "2025-03-01",
        "DueDate": "2025-03-31",
        "LineAmountTypes": "Exclusive",
        "LineItems": [
            {"Description": "Consulting", "Quantity": 2, "UnitAmount": 100, "AccountCode": "200"}
        ],
        **fields,
    }


def _authorised_invoice(xero: Target) -> dict[str, Any]:
    contact = _contact(xero)
    response = xero.put(
        "Invoices",
        {"Invoices": [_sales_invoice(contact["ContactID"], Status="AUTHORISED")]},
        params={"summarizeErrors": "false"},
    )
    assert response.status_code == 200, response.text
    invoice: dict[str, Any] = response.json()["Invoices"][0]
    assert invoice["Status"] == "AUTHORISED", invoice
    return invoice


def _bank_account_code(xero: Target) -> str:
    accounts = xero.get("Accounts", params={"where": 'Type=="BANK"'}).json()["Accounts"]
    assert accounts, "the organisation needs a bank account"
    return str(accounts[0]["Code"])


# -- identity -----------------------------------------------------------------------------------


def test_the_refresh_grant_answers_a_bearer_token_and_a_new_refresh_token(xero: Target) -> None:
    assert xero.grant["token_type"] == "Bearer"
    assert xero.grant["expires_in"] == 1800
    assert xero.grant["refresh_token"]
    assert xero.grant["access_token"]


def test_an_unknown_refresh_token_is_invalid_grant(xero: Target) -> None:
    response = xero.refresh(uuid.uuid4().hex)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_connections_list_the_organisation(xero: Target) -> None:
    response = xero.http.get(
        xero.connections_url, headers={"Authorization": xero.headers["Authorization"]}
    )
    assert response.status_code == 200
    tenants = {c["tenantId"]: c for c in response.json()}
    assert tenants[xero.tenant_id]["tenantType"] == "ORGANISATION"


def test_an_invalid_access_token_is_a_401_problem(xero: Target) -> None:
    response = xero.get("Organisation", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    body = response.json()
    assert (body["Title"], body["Status"], body["Detail"]) == (
        "Unauthorized",
        401,
        "AuthenticationUnsuccessful",
    )


# -- the Accounting API ------------------------------------------------------------------------


def test_answers_carry_the_rate_limit_headers(xero: Target) -> None:
    response = xero.get("Organisation")
    assert response.status_code == 200
    for name in RATE_LIMIT_HEADERS:
        assert int(response.headers[name]) >= 0


def test_an_invoice_batch_reports_each_element_with_summarize_errors_false(xero: Target) -> None:
    contact = _contact(xero)
    good = _sales_invoice(contact["ContactID"])
    bad = _sales_invoice(contact["ContactID"], Contact={})
    response = xero.put("Invoices", {"Invoices": [good, bad]}, params={"summarizeErrors": "false"})
    assert response.status_code == 200
    created, refused = response.json()["Invoices"]
    assert (created["StatusAttributeString"], created["HasErrors"]) == ("OK", False)
    assert created["InvoiceID"] != ZERO_ID
    assert refused["StatusAttributeString"] == "ERROR"
    assert refused["HasErrors"] is True
    assert [e["Message"] for e in refused["ValidationErrors"]]


def test_a_refused_element_without_summarize_errors_false_is_a_validation_exception(
    xero: Target,
) -> None:
    response = xero.put("Invoices", {"Invoices": [_sales_invoice(ZERO_ID, Contact={})]})
    assert response.status_code == 400
    body = response.json()
    assert (body["ErrorNumber"], body["Type"]) == (10, "ValidationException")
    [element] = body["Elements"]
    assert [e["Message"] for e in element["ValidationErrors"]]


def test_a_repeated_idempotency_key_replays_the_first_answer(xero: Target) -> None:
    key = str(uuid.uuid4())
    body = {"Contacts": [{"Name": unique_name()}]}
    first = xero.put("Contacts", body, headers={"Idempotency-Key": key})
    again = xero.put("Contacts", body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 200
    assert again.json()["Contacts"][0]["ContactID"] == first.json()["Contacts"][0]["ContactID"]
    name = body["Contacts"][0]["Name"]
    found = xero.get("Contacts", params={"where": f'Name=="{name}"'}).json()["Contacts"]
    assert len(found) == 1


def test_if_modified_since_returns_only_later_changes(xero: Target) -> None:
    contact = _contact(xero)
    updated = _when(contact["UpdatedDateUTC"])
    where = {"where": f'ContactID==Guid("{contact["ContactID"]}")'}
    before = format_datetime(updated - timedelta(hours=1), usegmt=True)
    after = format_datetime(updated + timedelta(hours=1), usegmt=True)
    earlier = xero.get("Contacts", params=where, headers={"If-Modified-Since": before})
    later = xero.get("Contacts", params=where, headers={"If-Modified-Since": after})
    assert [c["ContactID"] for c in earlier.json()["Contacts"]] == [contact["ContactID"]]
    assert later.status_code == 200
    assert later.json()["Contacts"] == []


def test_a_contact_is_found_by_its_account_number(xero: Target) -> None:
    number = uuid.uuid4().hex[:12].upper()
    contact = _contact(xero, AccountNumber=number)
    assert contact["AccountNumber"] == number
    found = xero.get("Contacts", params={"where": f'AccountNumber=="{number}"'}).json()
    assert [c["ContactID"] for c in found["Contacts"]] == [contact["ContactID"]]


def test_a_full_payment_makes_the_invoice_paid(xero: Target) -> None:
    invoice = _authorised_invoice(xero)
    payment = {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Account": {"Code": _bank_account_code(xero)},
        "Amount": invoice["AmountDue"],
        "Date": "2025-03-10",
        "Reference": "contract",
    }
    response = xero.put("Payments", {"Payments": [payment]})
    assert response.status_code == 200, response.text
    [read] = xero.get(f"Invoices/{invoice['InvoiceID']}").json()["Invoices"]
    assert read["Status"] == "PAID"
    assert read["AmountDue"] == 0
    assert read["AmountPaid"] == invoice["Total"]
    [paid] = read["Payments"]
    assert paid["Reference"] == "contract"


def test_a_credit_note_allocated_to_an_invoice_reduces_what_is_due(xero: Target) -> None:
    invoice = _authorised_invoice(xero)
    note = {
        "Type": "ACCRECCREDIT",
        "Contact": {"ContactID": invoice["Contact"]["ContactID"]},
        "Date": "2025-03-05",
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "Reference": f"Cancellation of {invoice['InvoiceNumber']}",
        "LineItems": [
            {"Description": "Consulting", "Quantity": 1, "UnitAmount": 50, "AccountCode": "200"}
        ],
    }
    created = xero.put("CreditNotes", {"CreditNotes": [note]}, params={"summarizeErrors": "false"})
    assert created.status_code == 200, created.text
    [credit_note] = created.json()["CreditNotes"]
    allocation = {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Amount": credit_note["Total"],
        "Date": "2025-03-05",
    }
    allocated = xero.put(
        f"CreditNotes/{credit_note['CreditNoteID']}/Allocations", {"Allocations": [allocation]}
    )
    assert allocated.status_code == 200, allocated.text
    [read] = xero.get(f"Invoices/{invoice['InvoiceID']}").json()["Invoices"]
    assert read["AmountCredited"] == credit_note["Total"]
    assert read["AmountDue"] == invoice["Total"] - credit_note["Total"]
    reference = note["Reference"]
    found = xero.get("CreditNotes", params={"where": f'Reference=="{reference}"'}).json()
    assert [c["CreditNoteID"] for c in found["CreditNotes"]] == [credit_note["CreditNoteID"]]


def test_an_unknown_document_is_404(xero: Target) -> None:
    response = xero.get(f"Invoices/{uuid.uuid4()}")
    assert response.status_code == 404
