"""The shared Xero documents: Xero's names, dates, money and statuses, parsed and written back."""

from __future__ import annotations

import types
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from dxc_shared.clients.xero_accounting import parse_xero_date
from dxc_shared.xero import documents
from dxc_shared.xero.documents import (
    Account,
    Address,
    Allocation,
    BrandingTheme,
    Contact,
    ContactStatus,
    CreditNote,
    Currency,
    Invoice,
    InvoiceStatus,
    Item,
    LineAmountTypes,
    LineItem,
    Organisation,
    Payment,
    TaxRate,
    XeroDocument,
    ms_date,
    parse_xero_moment,
    unwritten_reads,
    xero_name,
)
from pydantic import BaseModel, ValidationError

pytestmark = pytest.mark.unit

Json = dict[str, Any]

CONTACT: Json = {
    "ContactID": "bd2270c3-8706-4c11-9cfb-000b551c3f51",
    "ContactNumber": "C-1",
    "AccountNumber": "ABC-1",
    "ContactStatus": "ACTIVE",
    "Name": "ABC Limited",
    "EmailAddress": "ap@abc.example",
    "Addresses": [{"AddressType": "POBOX", "City": "Wellington", "PostalCode": "6011"}],
    "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "555 0100"}],
    "IsCustomer": True,
    "Balances": {
        "AccountsReceivable": {"Outstanding": 760.0, "Overdue": 920.5},
        "AccountsPayable": {"Outstanding": 0.0, "Overdue": 0.0},
    },
    "UpdatedDateUTC": "/Date(1552262400123+0000)/",
}
LINE: Json = {
    "LineItemID": "52208ff9-528a-4985-a9ad-b2b1d4210e38",
    "Description": "Two widgets",
    "Quantity": 2.0,
    "UnitAmount": 12.5,
    "ItemCode": "WIDGET",
    "AccountCode": "200",
    "TaxType": "OUTPUT2",
    "TaxAmount": 3.38,
    "LineAmount": 22.5,
    "DiscountRate": 10.0,
    "Tracking": [{"Name": "Region", "Option": "North", "TrackingCategoryID": "t-1"}],
}
# A line discounted by an amount instead of a rate (Xero takes one or the other).
AMOUNT_OFF_LINE: Json = {
    "Description": "Setup, less a discount",
    "Quantity": 1.0,
    "UnitAmount": 40.0,
    "AccountCode": "200",
    "DiscountAmount": 5.0,
    "LineAmount": 35.0,
}
INVOICE: Json = {
    "Type": "ACCREC",
    "InvoiceID": "243216c5-369e-4056-ac67-05388f86dc81",
    "InvoiceNumber": "INV-0001",
    "Reference": "DXC-1",
    "Contact": {"ContactID": CONTACT["ContactID"], "ContactNumber": "C-1", "Name": "ABC Limited"},
    "DateString": "2019-03-11T00:00:00",
    "Date": "/Date(1552262400000+0000)/",
    "DueDateString": "2019-03-31T00:00:00",
    "DueDate": "/Date(1553990400000+0000)/",
    "Status": "AUTHORISED",
    "LineAmountTypes": "Exclusive",
    "LineItems": [LINE, AMOUNT_OFF_LINE],
    "SubTotal": 57.5,
    "TotalTax": 3.38,
    "Total": 60.88,
    "AmountDue": 55.13,
    "AmountPaid": 0.0,
    "AmountCredited": 5.75,
    "CurrencyCode": "NZD",
    "CurrencyRate": 1.0,
    "UpdatedDateUTC": "/Date(1552357736850+0000)/",
    "CreditNotes": [{"CreditNoteID": "c-1", "CreditNoteNumber": "CN-0001", "AppliedAmount": 5.75}],
    "Payments": [],
    "Prepayments": [],
    "Overpayments": [],
    "HasErrors": False,
}
CREDIT_NOTE: Json = {
    "Type": "ACCRECCREDIT",
    "CreditNoteID": "c-1",
    "CreditNoteNumber": "CN-0001",
    "Reference": "DXC-CREDIT-1",
    "Status": "PAID",
    "Total": 5.75,
    "RemainingCredit": 0.0,
    "Allocations": [
        {
            "AllocationID": "a-1",
            "Amount": 5.75,
            "Date": "/Date(1552348800000+0000)/",
            "Invoice": {"InvoiceID": INVOICE["InvoiceID"], "InvoiceNumber": "INV-0001"},
        }
    ],
}
PAYMENT: Json = {
    "PaymentID": "p-1",
    "Date": "/Date(1552348800000+0000)/",
    "Amount": 20.13,
    "Reference": "",
    "Status": "AUTHORISED",
    "PaymentType": "ACCRECPAYMENT",
    "Account": {"AccountID": "acc-1", "Code": "090"},
    "Invoice": {"InvoiceID": INVOICE["InvoiceID"], "Type": "ACCREC", "Status": "PAID"},
}

ROUND_TRIPS: list[tuple[type[XeroDocument], Json]] = [
    (Invoice, INVOICE),
    (CreditNote, CREDIT_NOTE),
    (Contact, CONTACT),
    (LineItem, LINE),
    (Payment, PAYMENT),
    (Allocation, CREDIT_NOTE["Allocations"][0]),
    (
        Item,
        {
            "ItemID": "i-1",
            "Code": "WIDGET",
            "Name": "Widget",
            "IsSold": True,
            "SalesDetails": {"UnitPrice": 12.5, "AccountCode": "200", "TaxType": "OUTPUT2"},
            "UpdatedDateUTC": "/Date(1552262400000+0000)/",
        },
    ),
    (
        TaxRate,
        {
            "Name": "15% GST on Income",
            "TaxType": "OUTPUT2",
            "DisplayTaxRate": 15.0,
            "EffectiveRate": 15.0,
            "Status": "ACTIVE",
            "TaxComponents": [{"Name": "GST", "Rate": 15.0, "IsCompound": False}],
        },
    ),
    (
        Account,
        {
            "AccountID": "acc-1",
            "Code": "200",
            "Name": "Sales",
            "Type": "REVENUE",
            "Class": "REVENUE",
            "Status": "ACTIVE",
            "TaxType": "OUTPUT2",
        },
    ),
    (BrandingTheme, {"BrandingThemeID": "b-1", "Name": "Standard", "SortOrder": 0}),
    (Currency, {"Code": "NZD", "Description": "New Zealand Dollar"}),
    (
        Organisation,
        {"OrganisationID": "o-1", "APIKey": "", "ShortCode": "!k1Lm", "Class": "STANDARD"},
    ),
]


@pytest.mark.parametrize(
    ("document", "xero_json"), ROUND_TRIPS, ids=[d.__name__ for d, _ in ROUND_TRIPS]
)
def test_xero_json_survives_a_round_trip(document: type[XeroDocument], xero_json: Json) -> None:
    assert document.from_xero(xero_json).to_xero() == xero_json


@pytest.mark.parametrize(
    ("field_name", "expected"),
    [
        ("invoice_id", "InvoiceID"),
        ("updated_date_utc", "UpdatedDateUTC"),
        ("branding_theme_id", "BrandingThemeID"),
        ("line_amount_types", "LineAmountTypes"),
        ("address_line1", "AddressLine1"),
        ("name", "Name"),
    ],
)
def test_python_names_become_xero_names(field_name: str, expected: str) -> None:
    assert xero_name(field_name) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/Date(1552262400000+0000)/", datetime(2019, 3, 11, tzinfo=UTC)),
        ("/Date(1552262400000)/", datetime(2019, 3, 11, tzinfo=UTC)),
        # The offset says where the author was; the milliseconds are UTC already.
        ("/Date(1552262400000+1300)/", datetime(2019, 3, 11, tzinfo=UTC)),
        ("/Date(-86400000+0000)/", datetime(1969, 12, 31, tzinfo=UTC)),
        ("/Date(1552262400123+0000)/", datetime(2019, 3, 11, 0, 0, 0, 123000, tzinfo=UTC)),
        ("2019-03-11T00:00:00", datetime(2019, 3, 11, tzinfo=UTC)),
        ("2019-03-11T13:00:00+13:00", datetime(2019, 3, 11, tzinfo=UTC)),
        ("2019-03-11T00:00:00Z", datetime(2019, 3, 11, tzinfo=UTC)),
        (None, None),
        ("", None),
    ],
)
def test_xero_dates_are_read_as_utc_moments(text: str | None, expected: datetime | None) -> None:
    assert parse_xero_moment(text) == expected
    assert parse_xero_date(text) == expected


@pytest.mark.parametrize("text", ["/Date(soon)/", "yesterday", "2019-13-01"])
def test_a_date_that_is_no_date_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        Invoice.from_xero({"Date": text})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2019, 3, 11), "/Date(1552262400000+0000)/"),
        (datetime(2019, 3, 11, 0, 0, 0, 123000, tzinfo=UTC), "/Date(1552262400123+0000)/"),
        (
            datetime(2019, 3, 11, 13, tzinfo=timezone(timedelta(hours=13))),
            "/Date(1552262400000+0000)/",
        ),
        (datetime(2019, 3, 11), "/Date(1552262400000+0000)/"),
    ],
)
def test_dates_are_written_as_xero_writes_them(value: date, expected: str) -> None:
    assert ms_date(value) == expected


def test_a_document_date_is_a_date_and_an_update_a_moment() -> None:
    invoice = Invoice.from_xero(INVOICE)
    assert invoice.date == date(2019, 3, 11)
    assert invoice.updated_date_utc == datetime(2019, 3, 12, 2, 28, 56, 850000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0.1, Decimal("0.1")),
        (20.13, Decimal("20.13")),
        ("12.345", Decimal("12.345")),
        (7, Decimal(7)),
    ],
)
def test_money_is_read_as_exact_decimals(amount: object, expected: Decimal) -> None:
    assert Invoice.from_xero({"AmountDue": amount}).amount_due == expected


def test_money_is_written_as_a_json_number() -> None:
    assert Invoice(amount_due=Decimal("20.13")).to_xero() == {"AmountDue": 20.13}


@pytest.mark.parametrize("status", list(InvoiceStatus))
def test_every_invoice_status_is_read(status: InvoiceStatus) -> None:
    assert Invoice.from_xero({"Status": status.value}).status is status


@pytest.mark.parametrize(
    ("document", "xero_json"),
    [
        (Invoice, {"Status": "PENDING"}),
        (Invoice, {"Status": "paid"}),
        (Invoice, {"Type": "ACCRECCREDIT"}),
        (CreditNote, {"Type": "ACCREC"}),
        (Payment, {"Status": "VOIDED"}),
        (Contact, {"ContactStatus": "DELETED"}),
        (Invoice, {"LineAmountTypes": "NOTAX"}),
        (Account, {"Type": "SAVINGS"}),
        (TaxRate, {"Status": "GONE"}),
    ],
)
def test_an_unknown_status_or_type_is_refused(
    document: type[XeroDocument], xero_json: Json
) -> None:
    with pytest.raises(ValidationError):
        document.from_xero(xero_json)


def test_enums_carry_xero_spellings() -> None:
    assert Invoice.from_xero({"LineAmountTypes": "NoTax"}).line_amount_types is (
        LineAmountTypes.NO_TAX
    )
    assert Contact.from_xero({"ContactStatus": "GDPRREQUEST"}).contact_status is (
        ContactStatus.GDPR_REQUEST
    )


def test_fields_xero_adds_are_ignored_but_echoed_parts_keep_theirs() -> None:
    contact = Contact.from_xero(
        {"Name": "ABC", "Website": "https://abc.example", "Addresses": [{"Custom": "kept"}]}
    )
    assert contact.to_xero() == {"Name": "ABC", "Addresses": [{"Custom": "kept"}]}


def test_documents_are_built_by_python_name_and_written_by_xero_name() -> None:
    invoice = Invoice(
        invoice_id="i-1",
        status=InvoiceStatus.DRAFT,
        contact=Contact(contact_id="c-1"),
        line_items=[LineItem(quantity=Decimal(1), unit_amount=Decimal("9.99"))],
        reference=None,
    )
    assert invoice.to_xero() == {
        "InvoiceID": "i-1",
        "Status": "DRAFT",
        "Contact": {"ContactID": "c-1"},
        "LineItems": [{"Quantity": 1.0, "UnitAmount": 9.99}],
    }


def test_a_number_sent_for_text_is_read_as_text() -> None:
    assert Address.from_xero({"PostalCode": 6011}).postal_code == "6011"


def test_a_complete_invoice_carries_every_read() -> None:
    assert unwritten_reads(Invoice.from_xero(INVOICE)) == []


def test_a_read_left_out_is_reported_with_its_path() -> None:
    written = {
        **INVOICE,
        "Contact": {"ContactID": "c-1"},
        "LineItems": [_without(LINE, "DiscountRate")],
    }
    del written["AmountDue"]
    assert unwritten_reads(Invoice.from_xero(written)) == [
        "Contact.ContactNumber",
        "AmountDue",
        "LineItems.DiscountRate",
        "LineItems.DiscountAmount",
    ]


def test_a_read_through_a_list_is_carried_when_any_element_carries_it() -> None:
    written = {**INVOICE, "LineItems": [_without(LINE, "DiscountRate"), LINE, AMOUNT_OFF_LINE]}
    assert unwritten_reads(Invoice.from_xero(written)) == []


def test_a_nested_read_needs_every_level() -> None:
    contact = Contact.from_xero({**CONTACT, "Balances": {"AccountsPayable": {"Outstanding": 1}}})
    assert unwritten_reads(contact) == [
        "Balances.AccountsReceivable.Outstanding",
        "Balances.AccountsReceivable.Overdue",
    ]


def _without(xero_json: Json, key: str) -> Json:
    return {k: v for k, v in xero_json.items() if k != key}


def _document_type(annotation: Any) -> type[BaseModel] | None:
    """The document a field holds, through Optional and list."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) in (
        typing.Union,
        list,
    ):
        found = [_document_type(arg) for arg in typing.get_args(annotation)]
        return next((d for d in found if d is not None), None)
    return None


DOCUMENTS = [
    value
    for value in vars(documents).values()
    if isinstance(value, type) and issubclass(value, XeroDocument) and value.CONNECTOR_READS
]


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.__name__ for d in DOCUMENTS])
def test_every_declared_read_names_declared_fields(document: type[XeroDocument]) -> None:
    for path in document.CONNECTOR_READS:
        current: type[BaseModel] | None = document
        for name in path.split("."):
            assert current is not None, f"{path}: {name} is inside a field that is no document"
            fields = {f.alias: f for f in current.model_fields.values()}
            assert name in fields, f"{document.__name__}: {path}: no field {name}"
            current = _document_type(fields[name].annotation)
