"""Invoices: batches with per-element errors, numbering, tax per line, items, currencies,
status rules, reads and list filters."""

from __future__ import annotations

from typing import Any

from tests.support.xero_sandbox import XeroSandbox

Xero = tuple[XeroSandbox, dict[str, str]]


def _contact(xero: Xero, name: str = "Acme Ltd") -> str:
    sandbox, headers = xero
    response = sandbox.http.put(
        sandbox.api("Contacts"), headers=headers, json={"Contacts": [{"Name": name}]}
    )
    assert response.status_code == 200, response.text
    contact_id: str = response.json()["Contacts"][0]["ContactID"]
    return contact_id


def _invoice(contact_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Date": "2025-03-01",
        "DueDate": "2025-03-31",
        "LineItems": [
            {"Description": "Consulting", "Quantity": 2, "UnitAmount": 100, "AccountCode": "200"}
        ],
        **fields,
    }


def _put(xero: Xero, *invoices: dict[str, Any], summarize: bool = False) -> Any:
    sandbox, headers = xero
    params = {} if summarize else {"summarizeErrors": "false"}
    return sandbox.http.put(
        sandbox.api("Invoices"), headers=headers, params=params, json={"Invoices": list(invoices)}
    )


def _post(xero: Xero, invoice: dict[str, Any]) -> Any:
    sandbox, headers = xero
    return sandbox.http.post(
        sandbox.api("Invoices"),
        headers=headers,
        params={"summarizeErrors": "false"},
        json={"Invoices": [invoice]},
    )


def test_batch_with_per_element_errors(xero: Xero) -> None:
    contact = _contact(xero)
    response = _put(
        xero,
        _invoice(contact),
        _invoice(
            contact,
            LineItems=[
                {
                    "Description": "x",
                    "Quantity": 1,
                    "UnitAmount": 5,
                    "AccountCode": "999",
                    "TaxType": "NOPE",
                }
            ],
        ),
        _invoice(contact, Contact={}),
        _invoice(contact, CurrencyCode="JPY"),
    )
    assert response.status_code == 200
    good, bad_lines, no_contact, bad_currency = response.json()["Invoices"]
    assert good["StatusAttributeString"] == "OK"
    assert good["HasErrors"] is False
    assert good["InvoiceNumber"] == "INV-0001"
    assert bad_lines["StatusAttributeString"] == "ERROR"
    assert bad_lines["HasErrors"] is True
    assert [e["Message"] for e in bad_lines["ValidationErrors"]] == [
        "Account code '999' is not a valid code for this document.",
        "The TaxType code 'NOPE' does not exist or cannot be used for this type of transaction.",
    ]
    assert no_contact["ValidationErrors"] == [
        {"Message": "A Contact must be specified for this type of transaction"}
    ]
    assert bad_currency["ValidationErrors"] == [
        {"Message": "Organisation is not subscribed to currency JPY"}
    ]


def test_summarized_errors_give_400_but_save_the_good_ones(xero: Xero) -> None:
    sandbox, headers = xero
    contact = _contact(xero)
    response = _put(
        xero, _invoice(contact, Reference="good-one"), _invoice(contact, Contact={}), summarize=True
    )
    assert response.status_code == 400
    body = response.json()
    assert body["ErrorNumber"] == 10
    assert body["Type"] == "ValidationException"
    assert body["Message"] == "A validation exception occurred"
    assert body["Elements"][0]["ValidationErrors"][0]["Message"].startswith("A Contact must be")
    saved = sandbox.http.get(
        sandbox.api("Invoices"), headers=headers, params={"where": 'Reference=="good-one"'}
    )
    assert len(saved.json()["Invoices"]) == 1


def test_numbering_and_uniqueness(xero: Xero) -> None:
    contact = _contact(xero)
    first, custom, duplicate = _put(
        xero,
        _invoice(contact),
        _invoice(contact, InvoiceNumber="CUSTOM-7"),
        _invoice(contact, InvoiceNumber="CUSTOM-7"),
    ).json()["Invoices"]
    assert first["InvoiceNumber"] == "INV-0001"
    assert custom["InvoiceNumber"] == "CUSTOM-7"
    assert duplicate["ValidationErrors"] == [{"Message": "Invoice # must be unique."}]
    second = _put(xero, _invoice(contact)).json()["Invoices"][0]
    assert second["InvoiceNumber"] == "INV-0002"
    # Bill numbers are the supplier's and need not be unique: a repeated PUT duplicates the bill.
    bills = _put(
        xero,
        _invoice(contact, Type="ACCPAY", InvoiceNumber="SUP-1", LineItems=[]),
        _invoice(contact, Type="ACCPAY", InvoiceNumber="SUP-1", LineItems=[]),
    ).json()["Invoices"]
    assert [b["StatusAttributeString"] for b in bills] == ["OK", "OK"]
    assert bills[0]["InvoiceID"] != bills[1]["InvoiceID"]


def test_tax_is_computed_and_rounded_per_line(xero: Xero) -> None:
    contact = _contact(xero)
    lines = [
        {
            "Description": "a",
            "Quantity": 1,
            "UnitAmount": 10.03,
            "AccountCode": "200",
            "TaxType": "OUTPUT2",
        },
        {
            "Description": "b",
            "Quantity": 1,
            "UnitAmount": 10.03,
            "AccountCode": "200",
            "TaxType": "OUTPUT2",
        },
        {
            "Description": "c",
            "Quantity": 3,
            "UnitAmount": 9.99,
            "DiscountRate": 10,
            "AccountCode": "200",
        },
        {"Description": "free text only"},
    ]
    exclusive, inclusive, no_tax = _put(
        xero,
        _invoice(contact, LineItems=lines),
        _invoice(contact, LineItems=lines[:2], LineAmountTypes="Inclusive"),
        _invoice(contact, LineItems=lines[:2], LineAmountTypes="NoTax"),
    ).json()["Invoices"]
    # 10.03 * 15% = 1.5045 -> 1.50 per line (not 3.009 -> 3.01 on the sum).
    assert [line["TaxAmount"] for line in exclusive["LineItems"]] == [1.5, 1.5, 4.05, 0.0]
    assert exclusive["LineItems"][2]["LineAmount"] == 26.97
    assert exclusive["LineItems"][2]["TaxType"] == "OUTPUT2"  # the account's default
    assert (exclusive["SubTotal"], exclusive["TotalTax"], exclusive["Total"]) == (
        47.03,
        7.05,
        54.08,
    )
    # Inclusive: 10.03 * 15/115 = 1.3083 -> 1.31
    assert [line["TaxAmount"] for line in inclusive["LineItems"]] == [1.31, 1.31]
    assert (inclusive["SubTotal"], inclusive["TotalTax"], inclusive["Total"]) == (
        17.44,
        2.62,
        20.06,
    )
    assert (no_tax["TotalTax"], no_tax["Total"]) == (0.0, 20.06)
    assert exclusive["AmountDue"] == 54.08
    assert exclusive["AmountPaid"] == 0.0


def test_item_code_fills_the_line(xero: Xero) -> None:
    sandbox, headers = xero
    item = {
        "Code": "WIDGET",
        "Name": "Widget",
        "Description": "Blue widget",
        "SalesDetails": {"UnitPrice": 12.5, "AccountCode": "260", "TaxType": "OUTPUT2"},
    }
    assert (
        sandbox.http.put(sandbox.api("Items"), headers=headers, json={"Items": [item]}).status_code
        == 200
    )
    contact = _contact(xero)
    invoice = _put(
        xero, _invoice(contact, LineItems=[{"ItemCode": "WIDGET", "Quantity": 2}])
    ).json()["Invoices"][0]
    line = invoice["LineItems"][0]
    assert (line["Description"], line["UnitAmount"], line["AccountCode"], line["TaxType"]) == (
        "Blue widget",
        12.5,
        "260",
        "OUTPUT2",
    )
    assert (line["LineAmount"], line["TaxAmount"]) == (25.0, 3.75)
    unknown = _put(xero, _invoice(contact, LineItems=[{"ItemCode": "NOPE", "Quantity": 1}])).json()[
        "Invoices"
    ][0]
    assert unknown["ValidationErrors"][0]["Message"] == "Item code 'NOPE' is not valid"


def test_other_fields_and_validation(xero: Xero) -> None:
    sandbox, headers = xero
    contact = _contact(xero)
    theme = sandbox.http.get(sandbox.api("BrandingThemes"), headers=headers).json()[
        "BrandingThemes"
    ][0]
    invoice = _put(
        xero,
        _invoice(
            contact, CurrencyCode="USD", Reference="PO-1", BrandingThemeID=theme["BrandingThemeID"]
        ),
    ).json()["Invoices"][0]
    assert (invoice["CurrencyCode"], invoice["Reference"]) == ("USD", "PO-1")
    assert invoice["BrandingThemeID"] == theme["BrandingThemeID"]
    assert invoice["Date"] == "/Date(1740787200000+0000)/"
    assert invoice["DateString"] == "2025-03-01T00:00:00"
    assert invoice["DueDate"] == "/Date(1743379200000+0000)/"
    assert invoice["UpdatedDateUTC"].startswith("/Date(")
    assert invoice["UpdatedDateUTC"].endswith("+0000)/")
    no_account = _put(
        xero,
        _invoice(
            contact,
            Status="AUTHORISED",
            LineItems=[{"Description": "x", "Quantity": 1, "UnitAmount": 3}],
        ),
    ).json()["Invoices"][0]
    assert no_account["ValidationErrors"] == [{"Message": "Account code must be specified"}]
    by_name = _put(xero, _invoice(contact, Contact={"Name": "Brand New Customer"})).json()[
        "Invoices"
    ][0]
    assert by_name["Contact"]["Name"] == "Brand New Customer"
    assert by_name["StatusAttributeString"] == "OK"


def test_status_rules(xero: Xero) -> None:
    contact = _contact(xero)
    draft = _put(xero, _invoice(contact)).json()["Invoices"][0]
    iid = draft["InvoiceID"]
    submitted = _post(xero, {"InvoiceID": iid, "Status": "SUBMITTED"}).json()["Invoices"][0]
    assert submitted["Status"] == "SUBMITTED"
    authorised = _post(xero, {"InvoiceID": iid, "Status": "AUTHORISED"}).json()["Invoices"][0]
    assert authorised["Status"] == "AUTHORISED"
    back = _post(xero, {"InvoiceID": iid, "Status": "DRAFT"}).json()["Invoices"][0]
    assert back["ValidationErrors"] == [{"Message": "Invoice not of valid status for modification"}]
    deleted = _post(xero, {"InvoiceID": iid, "Status": "DELETED"}).json()["Invoices"][0]
    assert deleted["StatusAttributeString"] == "ERROR"
    voided = _post(xero, {"InvoiceID": iid, "Status": "VOIDED"}).json()["Invoices"][0]
    assert voided["Status"] == "VOIDED"
    edit_void = _post(xero, {"InvoiceID": iid, "Reference": "late"}).json()["Invoices"][0]
    assert edit_void["ValidationErrors"] == [
        {"Message": "Invoice not of valid status for modification"}
    ]

    other = _put(xero, _invoice(contact, Status="SUBMITTED")).json()["Invoices"][0]
    assert (
        _post(xero, {"InvoiceID": other["InvoiceID"], "Status": "DELETED"}).json()["Invoices"][0][
            "Status"
        ]
        == "DELETED"
    )
    draft2 = _put(xero, _invoice(contact)).json()["Invoices"][0]
    assert (
        _post(xero, {"InvoiceID": draft2["InvoiceID"], "Status": "VOIDED"}).json()["Invoices"][0][
            "StatusAttributeString"
        ]
        == "ERROR"
    )
    bad_create = _put(xero, _invoice(contact, Status="PAID")).json()["Invoices"][0]
    assert bad_create["ValidationErrors"] == [
        {"Message": "Invoice not of valid status for creation"}
    ]


def test_update_changes_only_given_fields(xero: Xero) -> None:
    contact = _contact(xero)
    invoice = _put(xero, _invoice(contact, Reference="one")).json()["Invoices"][0]
    updated = _post(xero, {"InvoiceID": invoice["InvoiceID"], "Reference": "two"}).json()[
        "Invoices"
    ][0]
    assert updated["Reference"] == "two"
    assert updated["Total"] == invoice["Total"]
    relined = _post(
        xero,
        {
            "InvoiceNumber": invoice["InvoiceNumber"],
            "LineItems": [
                {"Description": "y", "Quantity": 1, "UnitAmount": 50, "AccountCode": "200"}
            ],
        },
    ).json()["Invoices"][0]
    assert relined["InvoiceID"] == invoice["InvoiceID"]
    assert relined["Total"] == 57.5


def test_get_by_id_or_number_and_plain_404(xero: Xero) -> None:
    sandbox, headers = xero
    contact = _contact(xero)
    invoice = _put(xero, _invoice(contact)).json()["Invoices"][0]
    for key in (invoice["InvoiceID"], invoice["InvoiceNumber"]):
        got = sandbox.http.get(sandbox.api(f"Invoices/{key}"), headers=headers)
        assert got.status_code == 200
        assert got.json()["Invoices"][0]["InvoiceID"] == invoice["InvoiceID"]
    missing = sandbox.http.get(
        sandbox.api("Invoices/7d3a0e0c-0000-4000-8000-000000000000"), headers=headers
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/plain")


def test_list_filters(xero: Xero) -> None:
    sandbox, headers = xero
    acme, globex = _contact(xero, "Acme"), _contact(xero, "Globex")
    made = _put(
        xero,
        _invoice(acme, Reference="r1", Date="2023-12-31"),
        _invoice(acme, Reference="r2", Status="AUTHORISED", Date="2024-02-01"),
        _invoice(globex, Reference="r3", Status="AUTHORISED", Date="2024-03-01"),
        _invoice(
            globex,
            Type="ACCPAY",
            Reference="r4",
            Date="2024-04-01",
            LineItems=[
                {"Description": "Bill", "Quantity": 1, "UnitAmount": 9, "AccountCode": "429"}
            ],
        ),
    ).json()["Invoices"]

    def refs(**params: str) -> list[str]:
        response = sandbox.http.get(sandbox.api("Invoices"), headers=headers, params=params)
        assert response.status_code == 200, response.text
        return [i["Reference"] for i in response.json()["Invoices"]]

    assert refs(where='Status=="AUTHORISED"') == ["r2", "r3"]
    assert refs(where='Type=="ACCPAY"') == ["r4"]
    assert refs(where=f'Contact.ContactID==guid("{acme}")') == ["r1", "r2"]
    assert refs(where='Date>=DateTime(2024,1,1) AND Type=="ACCREC"') == ["r2", "r3"]
    assert refs(where='Reference=="r1" OR Reference=="r4"') == ["r1", "r4"]
    assert refs(where=f'InvoiceNumber=="{made[0]["InvoiceNumber"]}"') == ["r1"]
    assert refs(Statuses="DRAFT") == ["r1", "r4"]
    assert refs(IDs=f"{made[1]['InvoiceID']},{made[2]['InvoiceID']}") == ["r2", "r3"]
    assert refs(InvoiceNumbers=made[2]["InvoiceNumber"]) == ["r3"]
    assert refs(ContactIDs=globex) == ["r3", "r4"]
    assert refs(order="Date DESC") == ["r4", "r3", "r2", "r1"]
    bad = sandbox.http.get(sandbox.api("Invoices"), headers=headers, params={"where": 'Status=="'})
    assert bad.status_code == 400
    assert bad.json()["Type"] == "QueryParseException"


def test_paging(xero: Xero) -> None:
    sandbox, headers = xero
    contact = _contact(xero)
    _put(xero, *[_invoice(contact, Reference=f"p{i}") for i in range(105)])
    page1 = sandbox.http.get(sandbox.api("Invoices"), headers=headers, params={"page": 1}).json()
    assert len(page1["Invoices"]) == 100
    assert page1["pagination"] == {"page": 1, "pageSize": 100, "pageCount": 2, "itemCount": 105}
    page2 = sandbox.http.get(sandbox.api("Invoices"), headers=headers, params={"page": 2}).json()
    assert [i["Reference"] for i in page2["Invoices"]] == [f"p{i}" for i in range(100, 105)]
    small = sandbox.http.get(
        sandbox.api("Invoices"), headers=headers, params={"page": 3, "pageSize": 10}
    ).json()
    assert [i["Reference"] for i in small["Invoices"]] == [f"p{i}" for i in range(20, 30)]


def test_if_modified_since(xero: Xero) -> None:
    sandbox, headers = xero
    contact = _contact(xero)
    old = _put(xero, _invoice(contact, Reference="old")).json()["Invoices"][0]
    sandbox.clock.advance(600)
    _put(xero, _invoice(contact, Reference="new"))
    since = {**headers, "If-Modified-Since": "2025-03-03T09:05:00"}
    assert [
        i["Reference"]
        for i in sandbox.http.get(sandbox.api("Invoices"), headers=since).json()["Invoices"]
    ] == ["new"]
    sandbox.clock.advance(600)
    _post(xero, {"InvoiceID": old["InvoiceID"], "Reference": "old-touched"})
    since = {**headers, "If-Modified-Since": "Mon, 03 Mar 2025 09:15:00 GMT"}
    assert [
        i["Reference"]
        for i in sandbox.http.get(sandbox.api("Invoices"), headers=since).json()["Invoices"]
    ] == ["old-touched"]


def test_online_invoice_link(xero: Xero) -> None:
    sandbox, headers = xero
    contact = _contact(xero)
    draft, approved = _put(xero, _invoice(contact), _invoice(contact, Status="AUTHORISED")).json()[
        "Invoices"
    ]
    refused = sandbox.http.get(
        sandbox.api(f"Invoices/{draft['InvoiceID']}/OnlineInvoice"), headers=headers
    )
    assert refused.status_code == 400
    link = sandbox.http.get(
        sandbox.api(f"Invoices/{approved['InvoiceID']}/OnlineInvoice"), headers=headers
    )
    url = link.json()["OnlineInvoices"][0]["OnlineInvoiceUrl"]
    page = sandbox.http.get(url)
    assert page.status_code == 200
    assert approved["InvoiceNumber"] in page.text


def test_an_approved_invoice_takes_edits_until_something_is_allocated(xero: Xero) -> None:
    """Xero's Invoices page: an AUTHORISED invoice's lines, dates and reference may change while
    no payment or credit note is allocated; then, and once PAID, it takes no edit."""
    sandbox, headers = xero
    contact = _contact(xero)
    iid = _put(xero, _invoice(contact, Status="AUTHORISED")).json()["Invoices"][0]["InvoiceID"]
    edited = _post(
        xero,
        {
            "InvoiceID": iid,
            "Reference": "PO-7",
            "Date": "2025-03-05",
            "DueDate": "2025-04-05",
            "LineItems": [
                {"Description": "More", "Quantity": 3, "UnitAmount": 100, "AccountCode": "200"}
            ],
        },
    ).json()["Invoices"][0]
    assert (edited["Status"], edited["Reference"], edited["Total"]) == ("AUTHORISED", "PO-7", 345)
    assert edited["DateString"].startswith("2025-03-05")

    def pay(amount: float) -> None:
        response = sandbox.http.put(
            sandbox.api("Payments"),
            headers=headers,
            json={
                "Payments": [
                    {
                        "Invoice": {"InvoiceID": iid},
                        "Account": {"Code": "090"},
                        "Amount": amount,
                        "Date": "2025-03-06",
                    }
                ]
            },
        )
        assert response.status_code == 200, response.text

    pay(45)
    refused = _post(xero, {"InvoiceID": iid, "Reference": "PO-8"}).json()["Invoices"][0]
    assert refused["ValidationErrors"] == [
        {
            "Message": "This document cannot be edited as it has a payment or credit note "
            "allocated to it."
        }
    ]
    pay(300)
    paid = _post(xero, {"InvoiceID": iid, "Reference": "PO-9"}).json()["Invoices"][0]
    assert paid["ValidationErrors"] == [{"Message": "Invoice not of valid status for modification"}]
