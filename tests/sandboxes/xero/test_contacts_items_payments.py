"""Contacts (unique names, balances, search), items (unique codes), payments, credit notes and
their allocation, and the read-only settings."""

from __future__ import annotations

from typing import Any

from tests.support.xero_sandbox import XeroSandbox

Xero = tuple[XeroSandbox, dict[str, str]]


def _send(xero: Xero, method: str, path: str, body: dict[str, Any]) -> Any:
    sandbox, headers = xero
    response = sandbox.http.request(
        method, sandbox.api(path), headers=headers, params={"summarizeErrors": "false"}, json=body
    )
    assert response.status_code == 200, response.text
    return response.json()


def _authorised_invoice(
    xero: Xero, contact_id: str, amount: float = 100, due: str = "2025-03-31"
) -> Any:
    body = {
        "Invoices": [
            {
                "Type": "ACCREC",
                "Contact": {"ContactID": contact_id},
                "Status": "AUTHORISED",
                "Date": "2025-03-01",
                "DueDate": due,
                "LineItems": [
                    {"Description": "x", "Quantity": 1, "UnitAmount": amount, "AccountCode": "200"}
                ],
            }
        ]
    }
    return _send(xero, "PUT", "Invoices", body)["Invoices"][0]


def test_contacts(xero: Xero) -> None:
    sandbox, headers = xero
    made = _send(
        xero,
        "PUT",
        "Contacts",
        {
            "Contacts": [
                {"Name": "Acme", "EmailAddress": "ap@acme.example", "ContactNumber": "C-1"},
                {"Name": "Globex"},
                {"Name": "acme"},
                {"Name": ""},
            ]
        },
    )["Contacts"]
    assert [c["StatusAttributeString"] for c in made] == ["OK", "OK", "ERROR", "ERROR"]
    assert made[2]["ValidationErrors"][0]["Message"].startswith(
        "The contact name acme is already assigned"
    )
    # Xero's published example of a failed contact: the zero ContactID, HasValidationErrors.
    assert made[2]["ContactID"] == "00000000-0000-0000-0000-000000000000"
    assert [c["HasValidationErrors"] for c in made] == [False, False, True, True]
    acme = made[0]["ContactID"]
    updated = _send(
        xero, "POST", "Contacts", {"Contacts": [{"ContactID": acme, "FirstName": "Wile"}]}
    )["Contacts"][0]
    assert updated["FirstName"] == "Wile"
    assert updated["Name"] == "Acme"
    got = sandbox.http.get(sandbox.api(f"Contacts/{acme}"), headers=headers).json()["Contacts"][0]
    assert got["EmailAddress"] == "ap@acme.example"

    def names(**params: str) -> list[str]:
        return [
            c["Name"]
            for c in sandbox.http.get(
                sandbox.api("Contacts"), headers=headers, params=params
            ).json()["Contacts"]
        ]

    assert names(where='Name=="Acme"') == ["Acme"]
    assert names(searchTerm="glob") == ["Globex"]
    assert names(IDs=acme) == ["Acme"]
    assert names(where='Name.StartsWith("G")') == ["Globex"]
    page = sandbox.http.get(
        sandbox.api("Contacts"), headers=headers, params={"page": 1, "pageSize": 1}
    ).json()
    assert page["pagination"]["itemCount"] == 2
    assert len(page["Contacts"]) == 1
    missing = sandbox.http.get(
        sandbox.api("Contacts/00000000-0000-4000-8000-000000000000"), headers=headers
    )
    assert missing.status_code == 404


def test_contact_balances(xero: Xero) -> None:
    sandbox, headers = xero
    contact = _send(xero, "PUT", "Contacts", {"Name": "Debtor"})["Contacts"][0]["ContactID"]
    _authorised_invoice(xero, contact, 100, due="2025-03-01")  # overdue on 3 March
    _authorised_invoice(xero, contact, 50, due="2025-04-30")
    draft = {
        "Invoices": [
            {
                "Type": "ACCREC",
                "Contact": {"ContactID": contact},
                "LineItems": [
                    {"Description": "d", "Quantity": 1, "UnitAmount": 999, "AccountCode": "200"}
                ],
            }
        ]
    }
    _send(xero, "PUT", "Invoices", draft)
    balances = sandbox.http.get(sandbox.api(f"Contacts/{contact}"), headers=headers).json()[
        "Contacts"
    ][0]["Balances"]
    assert balances["AccountsReceivable"] == {"Outstanding": 172.5, "Overdue": 115.0}


def test_items(xero: Xero) -> None:
    sandbox, headers = xero
    made = _send(
        xero,
        "PUT",
        "Items",
        {
            "Items": [
                {
                    "Code": "GB1",
                    "Name": "Golf ball",
                    "SalesDetails": {"UnitPrice": 2.5, "AccountCode": "200", "TaxType": "OUTPUT2"},
                },
                {"Code": "gb1", "Name": "dup"},
                {"Code": "BAD", "SalesDetails": {"AccountCode": "999"}},
            ]
        },
    )["Items"]
    assert [i["StatusAttributeString"] for i in made] == ["OK", "ERROR", "ERROR"]
    assert made[1]["ValidationErrors"] == [{"Message": "Item code 'gb1' already exists"}]
    assert made[0]["SalesDetails"] == {"UnitPrice": 2.5, "AccountCode": "200", "TaxType": "OUTPUT2"}
    updated = _send(xero, "POST", "Items", {"Items": [{"Code": "GB1", "Description": "White"}]})[
        "Items"
    ][0]
    assert updated["ItemID"] == made[0]["ItemID"]
    assert updated["Description"] == "White"
    by_code = sandbox.http.get(sandbox.api("Items/GB1"), headers=headers).json()["Items"][0]
    assert by_code["ItemID"] == made[0]["ItemID"]
    listed = sandbox.http.get(
        sandbox.api("Items"), headers=headers, params={"where": 'Code=="GB1"'}
    ).json()["Items"]
    assert [i["Code"] for i in listed] == ["GB1"]


def test_payments(xero: Xero) -> None:
    sandbox, headers = xero
    contact = _send(xero, "PUT", "Contacts", {"Name": "Payer"})["Contacts"][0]["ContactID"]
    invoice = _authorised_invoice(xero, contact, 100)
    draft = _send(
        xero,
        "PUT",
        "Invoices",
        {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact},
            "LineItems": [
                {"Description": "d", "Quantity": 1, "UnitAmount": 5, "AccountCode": "200"}
            ],
        },
    )["Invoices"][0]

    def pay(invoice_id: str, amount: float, account: str = "090") -> Any:
        return _send(
            xero,
            "PUT",
            "Payments",
            {
                "Payments": [
                    {
                        "Invoice": {"InvoiceID": invoice_id},
                        "Account": {"Code": account},
                        "Amount": amount,
                        "Date": "2025-03-02",
                    }
                ]
            },
        )["Payments"][0]

    assert pay(draft["InvoiceID"], 1)["ValidationErrors"] == [
        {"Message": "Payments can only be made against Authorised documents"}
    ]
    assert pay(invoice["InvoiceID"], 200)["ValidationErrors"] == [
        {"Message": "Payment amount exceeds the amount outstanding on this document"}
    ]
    assert pay(invoice["InvoiceID"], 10, account="200")["StatusAttributeString"] == "ERROR"
    first = pay(invoice["InvoiceID"], 15)
    assert first["StatusAttributeString"] == "OK"
    assert first["Invoice"]["AmountDue"] == 100.0
    partly = sandbox.http.get(
        sandbox.api(f"Invoices/{invoice['InvoiceID']}"), headers=headers
    ).json()["Invoices"][0]
    assert (partly["Status"], partly["AmountPaid"], partly["AmountDue"]) == (
        "AUTHORISED",
        15.0,
        100.0,
    )
    # An invoice with a payment can be neither edited nor voided.
    void = _send(xero, "POST", "Invoices", {"InvoiceID": invoice["InvoiceID"], "Status": "VOIDED"})[
        "Invoices"
    ][0]
    assert void["ValidationErrors"][0]["Message"].startswith("This document cannot be edited")
    pay(invoice["InvoiceID"], 100)
    paid = sandbox.http.get(
        sandbox.api(f"Invoices/{invoice['InvoiceID']}"), headers=headers
    ).json()["Invoices"][0]
    assert (paid["Status"], paid["AmountDue"], paid["AmountPaid"]) == ("PAID", 0.0, 115.0)
    assert paid["FullyPaidOnDate"] == "/Date(1740873600000+0000)/"
    assert len(paid["Payments"]) == 2
    payments = sandbox.http.get(sandbox.api("Payments"), headers=headers).json()["Payments"]
    assert len(payments) == 2
    # Deleting a payment reopens the invoice.
    deleted = _send(xero, "POST", f"Payments/{first['PaymentID']}", {"Status": "DELETED"})[
        "Payments"
    ][0]
    assert deleted["Status"] == "DELETED"
    reopened = sandbox.http.get(
        sandbox.api(f"Invoices/{invoice['InvoiceID']}"), headers=headers
    ).json()["Invoices"][0]
    assert (reopened["Status"], reopened["AmountDue"]) == ("AUTHORISED", 15.0)


def test_credit_notes_and_allocations(xero: Xero) -> None:
    sandbox, headers = xero
    contact = _send(xero, "PUT", "Contacts", {"Name": "Credited"})["Contacts"][0]["ContactID"]
    invoice = _authorised_invoice(xero, contact, 100)  # total 115
    credit = _send(
        xero,
        "PUT",
        "CreditNotes",
        {
            "CreditNotes": [
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": {"ContactID": contact},
                    "Date": "2025-03-02",
                    "LineItems": [
                        {
                            "Description": "refund",
                            "Quantity": 1,
                            "UnitAmount": 200,
                            "AccountCode": "200",
                        }
                    ],
                }
            ]
        },
    )["CreditNotes"][0]
    assert credit["CreditNoteNumber"] == "CN-0001"
    assert credit["Status"] == "DRAFT"
    assert credit["Total"] == 230.0
    cid = credit["CreditNoteID"]

    def allocate(amount: float) -> Any:
        return _send(
            xero,
            "PUT",
            f"CreditNotes/{cid}/Allocations",
            {
                "Allocations": [
                    {
                        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                        "Amount": amount,
                        "Date": "2025-03-03",
                    }
                ]
            },
        )["Allocations"][0]

    assert allocate(10)["ValidationErrors"] == [
        {"Message": "Credit Note must be AUTHORISED before it can be allocated"}
    ]
    _send(
        xero,
        "POST",
        "CreditNotes",
        {"CreditNotes": [{"CreditNoteID": cid, "Status": "AUTHORISED"}]},
    )
    assert allocate(116)["StatusAttributeString"] == "ERROR"  # more than the invoice's 115 due
    assert allocate(15)["StatusAttributeString"] == "OK"
    partly = sandbox.http.get(
        sandbox.api(f"Invoices/{invoice['InvoiceID']}"), headers=headers
    ).json()["Invoices"][0]
    assert (partly["AmountCredited"], partly["AmountDue"], partly["Status"]) == (
        15.0,
        100.0,
        "AUTHORISED",
    )
    assert partly["CreditNotes"][0]["CreditNoteID"] == cid
    assert allocate(100)["StatusAttributeString"] == "OK"
    paid = sandbox.http.get(
        sandbox.api(f"Invoices/{invoice['InvoiceID']}"), headers=headers
    ).json()["Invoices"][0]
    assert (paid["AmountDue"], paid["Status"]) == (0.0, "PAID")
    note = sandbox.http.get(sandbox.api(f"CreditNotes/{cid}"), headers=headers).json()[
        "CreditNotes"
    ][0]
    assert note["RemainingCredit"] == 115.0
    assert len(note["Allocations"]) == 2


def test_settings_are_readable(xero: Xero) -> None:
    sandbox, headers = xero

    def get(path: str, **params: str) -> Any:
        response = sandbox.http.get(sandbox.api(path), headers=headers, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    org = get("Organisation")["Organisations"][0]
    assert org["BaseCurrency"] == "NZD"
    assert org["OrganisationID"] == sandbox.tenant
    rates = {r["TaxType"]: r["EffectiveRate"] for r in get("TaxRates")["TaxRates"]}
    assert rates["OUTPUT2"] == 15.0
    assert rates["NONE"] == 0.0
    assert "EXEMPTOUTPUT" in rates
    banks = get("Accounts", where='Type=="BANK"')["Accounts"]
    assert "090" in [a["Code"] for a in banks]
    codes = {a["Code"] for a in get("Accounts")["Accounts"]}
    assert {"200", "260", "400", "090"} <= codes
    assert "USD" in [c["Code"] for c in get("Currencies")["Currencies"]]
    assert get("BrandingThemes")["BrandingThemes"][0]["Name"] == "Standard"


def test_admin_seeds_an_organisation_with_its_own_currencies(sandbox: XeroSandbox) -> None:
    org = sandbox.admin(
        "POST",
        "organisations",
        json={
            "name": "UK Ltd",
            "base_currency": "GBP",
            "currencies": ["EUR"],
            "country_code": "GB",
        },
    ).json()
    sandbox.admin(
        "POST", "users", json={"email": "uk@example.com", "tenant_ids": [org["tenant_id"]]}
    )
    sandbox.admin("PUT", "auto-approve", json={"email": "uk@example.com"})
    headers = sandbox.headers(tenant=org["tenant_id"])
    contacts = sandbox.admin(
        "POST",
        f"organisations/{org['tenant_id']}/contacts",
        json={"Contacts": [{"Name": "Seeded"}]},
    )
    contact = contacts.json()["Contacts"][0]["ContactID"]
    seeded = sandbox.admin(
        "POST",
        f"organisations/{org['tenant_id']}/invoices",
        json={
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "Contact": {"ContactID": contact},
                    "CurrencyCode": "USD",
                    "LineItems": [],
                }
            ]
        },
    )
    assert seeded.status_code == 400
    assert seeded.json()["Elements"][0]["ValidationErrors"] == [
        {"Message": "Organisation is not subscribed to currency USD"}
    ]
    listed = sandbox.http.get(sandbox.api("Contacts"), headers=headers).json()["Contacts"]
    assert [c["Name"] for c in listed] == ["Seeded"]
