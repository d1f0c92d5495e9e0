"""Dynamics records into Xero's JSON; Xero's refusals into words; the connector's settings."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from dxc_shared.dynamics.columns import SettingsColumns
from dxc_shared.dynamics.schema import DefaultInvoiceStatus
from invoice_sync.connector.records import ConnectorSettings
from invoice_sync.invoices import mapping
from invoice_sync.invoices.records import ReferenceData

from tests.unit.invoice_sync.records import PRODUCT_ID, customer, invoice, line, product

pytestmark = pytest.mark.unit


def _body(subject: Any = None, **kwargs: Any) -> Any:
    """The invoice's Xero JSON, or the `mapping.Failure` saying why there is none."""
    arguments: dict[str, Any] = {
        "contact_id": "x-contact",
        "settings": ConnectorSettings(),
        "data": ReferenceData(products={PRODUCT_ID: product()}),
        "item_codes": {},
        "mappings": {},
    } | kwargs
    return mapping.invoice_json(subject or invoice(), **arguments)


def test_an_invoice_with_the_defaults() -> None:
    assert _body() == {
        "Type": "ACCREC",
        "Contact": {"ContactID": "x-contact"},
        "LineAmountTypes": "Exclusive",
        "Status": "DRAFT",
        "LineItems": [
            {"Quantity": 2.0, "UnitAmount": 10.0, "AccountCode": "200", "Description": "Widget"}
        ],
        "Reference": "INV-inv-1",
        "Date": "2026-03-01",
    }


@pytest.mark.parametrize(
    ("overrides", "key", "value"),
    [
        ({"due_date": date(2026, 4, 1)}, "DueDate", "2026-04-01"),
        ({"due_date": None}, "DueDate", None),
        ({"date_delivered": None}, "Date", None),
        ({"currency_id": "cur-1"}, "CurrencyCode", "NZD"),
        ({"currency_id": "cur-unknown"}, "CurrencyCode", None),
        ({"number": None}, "Reference", "inv-1"),
    ],
    ids=["due date", "no due date", "no date", "currency", "unknown currency", "no number"],
)
def test_invoice_fields(overrides: dict[str, Any], key: str, value: Any) -> None:
    reference = ReferenceData(products={PRODUCT_ID: product()}, currencies={"cur-1": "NZD"})
    body = _body(invoice(**overrides), data=reference)
    assert body.get(key) == value


@pytest.mark.parametrize(
    ("settings", "key", "value"),
    [
        (ConnectorSettings(default_status="AUTHORISED"), "Status", "AUTHORISED"),
        (ConnectorSettings(use_xero_invoice_number=False), "InvoiceNumber", "INV-inv-1"),
        (ConnectorSettings(use_xero_invoice_number=True), "InvoiceNumber", None),
    ],
    ids=["status", "dynamics numbers", "xero numbers"],
)
def test_settings_shape_the_invoice(settings: ConnectorSettings, key: str, value: Any) -> None:
    assert _body(settings=settings).get(key) == value


@pytest.mark.parametrize(
    ("mappings", "row", "expected"),
    [
        ({"new_po": "Reference"}, {"new_po": "PO-1"}, {"Reference": "PO-1"}),
        ({"new_po": "Reference"}, {"new_po": None}, {"Reference": "INV-inv-1"}),
        ({"new_theme": "BrandingThemeID"}, {"new_theme": "t-1"}, {"BrandingThemeID": "t-1"}),
        ({"new_theme": "BrandingThemeID"}, {"new_theme": ""}, {"BrandingThemeID": None}),
        ({"new_x": "Url"}, {"new_x": "u"}, {"Url": None}),
    ],
    ids=["reference", "empty reference", "theme", "empty theme", "unmappable"],
)
def test_field_mappings(
    mappings: dict[str, str], row: dict[str, Any], expected: dict[str, Any]
) -> None:
    body = _body(invoice(row=row), mappings=mappings)
    assert {key: body.get(key) for key in expected} == expected


@pytest.mark.parametrize(
    ("subject", "reference", "codes", "expected"),
    [
        (
            line(written_in=True, quantity=0, price=0, description=None),
            {},
            {},
            {"Description": "-"},
        ),
        (
            line(written_in=True, quantity=0, price=0, description="Note"),
            {},
            {},
            {"Description": "Note"},
        ),
        (
            line(written_in=True, product_id=None, description="Labour"),
            {},
            {},
            {"Quantity": 2.0, "UnitAmount": 10.0, "AccountCode": "200", "Description": "Labour"},
        ),
        (
            line(),
            {},
            {PRODUCT_ID: "WIDGET"},
            {
                "Quantity": 2.0,
                "UnitAmount": 10.0,
                "AccountCode": "200",
                "ItemCode": "WIDGET",
                "Description": "Widget",
            },
        ),
        (
            line(description="Own words", tax_rate_id="t-1", account_id="a-1"),
            {"tax_types": {"t-1": "OUTPUT2"}, "account_codes": {"a-1": "210"}},
            {},
            {
                "Quantity": 2.0,
                "UnitAmount": 10.0,
                "AccountCode": "210",
                "Description": "Own words",
                "TaxType": "OUTPUT2",
            },
        ),
        (
            line(tax_rate_id="t-unknown", account_id="a-unknown"),
            {},
            {},
            {"Quantity": 2.0, "UnitAmount": 10.0, "AccountCode": "200", "Description": "Widget"},
        ),
    ],
    ids=[
        "empty note",
        "note",
        "written in",
        "catalogue with item",
        "overrides",
        "unknown overrides",
    ],
)
def test_lines(
    subject: Any, reference: dict[str, Any], codes: dict[str, str], expected: dict[str, Any]
) -> None:
    data = ReferenceData(products={PRODUCT_ID: product()}, **reference)
    [body] = _body(invoice(lines=[subject]), data=data, item_codes=codes)["LineItems"]
    assert body == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (
            customer(name="Fabrikam Ltd", account_number="A-1", email="ap@fabrikam.test"),
            {
                "Name": "Fabrikam Ltd",
                "ContactNumber": "00000000-0000-0000-0000-0000000000c1",
                "AccountNumber": "A-1",
                "EmailAddress": "ap@fabrikam.test",
            },
        ),
        (
            customer("c-2", kind="contact", name="Ann Lee", first_name="Ann", last_name="Lee"),
            {"Name": "Ann Lee", "ContactNumber": "c-2", "FirstName": "Ann", "LastName": "Lee"},
        ),
    ],
    ids=["account", "person"],
)
def test_contact_json_carries_the_dynamics_id(subject: Any, expected: dict[str, Any]) -> None:
    assert mapping.contact_json(subject) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (
            product(price=4.5, description="A widget"),
            {
                "Code": "WIDGET",
                "Name": "Widget",
                "Description": "A widget",
                "IsSold": True,
                "SalesDetails": {"UnitPrice": 4.5},
            },
        ),
        (
            product(name="", number="W-1"),
            {"Code": "W-1", "Name": "W-1", "Description": "W-1", "IsSold": True},
        ),
        (
            product(name="N" * 60),
            {"Code": "WIDGET", "Name": "N" * 50, "Description": "N" * 60, "IsSold": True},
        ),
    ],
    ids=["priced", "nameless", "long name"],
)
def test_item_json(subject: Any, expected: dict[str, Any]) -> None:
    assert mapping.item_json(subject) == expected


@pytest.mark.parametrize(
    ("errors", "reason", "words"),
    [
        (["Organisation is not subscribed to currency EUR"], "currency_not_enabled", "EUR"),
        (["Account code '999' is not a valid code"], "account_code_unknown", "'999'"),
        (["TaxType code 'BAD' is not valid"], "tax_type_invalid", "'BAD'"),
        (["Something else", "Account code '1' x"], "account_code_unknown", "'1'"),
        (["Contact name missing"], "xero_validation", "Contact name missing"),
        ([], "xero_validation", "Xero did not accept the invoice"),
    ],
    ids=["currency", "account", "tax", "second error", "other", "no words"],
)
def test_xero_refusals_in_words(errors: list[str], reason: str, words: str) -> None:
    failure = mapping.explain(errors)
    assert failure.reason == reason
    assert words in failure.message


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (None, ConnectorSettings()),
        ({}, ConnectorSettings()),
        ({SettingsColumns.CREATE_CONTACTS: False}, ConnectorSettings(create_contacts=False)),
        ({SettingsColumns.CREATE_PRODUCTS: None}, ConnectorSettings()),
        ({SettingsColumns.CREATE_CREDIT_NOTES: True}, ConnectorSettings(create_credit_notes=True)),
        (
            {SettingsColumns.USE_XERO_INVOICE_NUMBER: False},
            ConnectorSettings(use_xero_invoice_number=False),
        ),
        (
            {SettingsColumns.DEFAULT_INVOICE_STATUS: DefaultInvoiceStatus.AUTHORISED.value},
            ConnectorSettings(default_status="AUTHORISED"),
        ),
        ({SettingsColumns.DEFAULT_INVOICE_STATUS: 12345}, ConnectorSettings()),
        ({SettingsColumns.DEFAULT_INVOICE_STATUS: "AUTHORISED"}, ConnectorSettings()),
        (
            {SettingsColumns.DEFAULT_SALES_ACCOUNT_CODE: " 210 "},
            ConnectorSettings(sales_account_code="210"),
        ),
        ({SettingsColumns.DEFAULT_SALES_ACCOUNT_CODE: "  "}, ConnectorSettings()),
    ],
    ids=[
        "no row",
        "empty row",
        "flag off",
        "flag null",
        "credit notes on",
        "dynamics numbers",
        "status",
        "unknown status",
        "status as text",
        "account code",
        "blank account code",
    ],
)
def test_connector_settings_from_the_row(
    row: dict[str, Any] | None, expected: ConnectorSettings
) -> None:
    assert ConnectorSettings.from_row(row) == expected


# -- money ----------------------------------------------------------------------------------------

D = Decimal


def _lines(body: Any) -> list[dict[str, Any]]:
    assert not isinstance(body, mapping.Failure), body
    lines: list[dict[str, Any]] = body["LineItems"]
    return lines


def test_line_and_invoice_discounts_become_discount_amounts() -> None:
    subject = invoice(
        lines=[
            line(1, quantity=1, price=100),
            line(2, quantity=4, price=100, manual_discount=D(55), amount=D(345)),
            line(3, written_in=True, product_id=None, description="Note", quantity=0, price=0),
        ],
        discount=D("20.00"),
    )
    assert [(x.get("UnitAmount"), x.get("DiscountAmount")) for x in _lines(_body(subject))] == [
        (100.0, 4.49),
        (100.0, 70.51),
        (None, None),
    ]  # 55, plus 20 x 345/445


def test_volume_discount_lowers_the_unit_price_and_four_decimals_stay() -> None:
    subject = invoice(lines=[line(quantity=11, price="2108.3923", volume_discount=D("0.5"))])
    [sent] = _lines(_body(subject))
    assert sent["UnitAmount"] == 2107.8923


@pytest.mark.parametrize(
    ("settings", "freight_line"),
    [
        (
            ConnectorSettings(),
            {
                "Description": "Freight",
                "Quantity": 1,
                "UnitAmount": 25.0,
                "AccountCode": "200",
                "TaxType": "NONE",
            },
        ),
        (
            ConnectorSettings(freight_account_code="425", freight_tax_type="OUTPUT2"),
            {
                "Description": "Freight",
                "Quantity": 1,
                "UnitAmount": 25.0,
                "AccountCode": "425",
                "TaxType": "OUTPUT2",
            },
        ),
    ],
    ids=["defaults", "settings"],
)
def test_freight_is_a_line_after_the_invoices(
    settings: ConnectorSettings, freight_line: dict[str, Any]
) -> None:
    lines = _lines(_body(invoice(freight=D(25)), settings=settings))
    assert lines[-1] == freight_line


def test_line_amount_types_come_from_the_setting() -> None:
    body = _body(settings=ConnectorSettings(line_amount_types="NoTax"))
    assert body["LineAmountTypes"] == "NoTax"


@pytest.mark.parametrize(
    ("due", "terms", "days", "expected"),
    [
        (date(2026, 4, 1), 1, 14, "2026-04-01"),
        (None, 3, 14, "2026-04-15"),
        (None, None, 14, "2026-03-15"),
        (None, None, None, None),
    ],
    ids=["dynamics' due date", "payment terms", "default days", "xero's terms"],
)
def test_due_date(due: date | None, terms: int | None, days: int | None, expected: str) -> None:
    body = _body(
        invoice(due_date=due, payment_terms_code=terms),
        settings=ConnectorSettings(default_payment_days=days),
    )
    assert body.get("DueDate") == expected


@pytest.mark.parametrize(
    ("subject", "data", "message"),
    [
        (
            invoice(lines=[line(description="d" * 4001, written_in=True, product_id=None)]),
            ReferenceData(),
            "Line 1's description is 4,001 characters long; Xero's line description takes at "
            "most 4,000.",
        ),
        (
            invoice(),
            ReferenceData(products={PRODUCT_ID: product(number="P" * 31)}),
            f"Line 1's product number '{'P' * 31}' is 31 characters long; Xero's item code "
            "takes at most 30.",
        ),
        (
            invoice(number="N" * 256),
            ReferenceData(products={PRODUCT_ID: product()}),
            "The invoice's reference is 256 characters long; Xero's Reference takes at most 255.",
        ),
        (
            invoice(),
            ReferenceData(),
            "Line 1's product no longer exists in Dynamics 365 and the line has no description.",
        ),
    ],
    ids=["description", "product number", "reference", "deleted product"],
)
def test_what_xero_would_refuse_or_cut_fails_the_invoice(
    subject: Any, data: ReferenceData, message: str
) -> None:
    failure = _body(subject, data=data)
    assert isinstance(failure, mapping.Failure)
    assert failure.message.startswith(message)


def test_a_deleted_products_line_keeps_its_description() -> None:
    [sent] = _lines(_body(invoice(lines=[line(description="Old widget")]), data=ReferenceData()))
    assert sent["Description"] == "Old widget"
    assert "ItemCode" not in sent


def test_new_contacts_carry_the_billing_address_and_phone() -> None:
    body = mapping.contact_json(
        customer(
            account_number="ACC-1",
            phone="+64 4 555 0102",
            address=("88 Lambton Quay", None, "Wellington", None, "6011", "New Zealand"),
        )
    )
    assert body["AccountNumber"] == "ACC-1"
    assert body["Addresses"] == [
        {
            "AddressType": "POBOX",
            "AddressLine1": "88 Lambton Quay",
            "City": "Wellington",
            "PostalCode": "6011",
            "Country": "New Zealand",
        }
    ]
    assert body["Phones"] == [{"PhoneType": "DEFAULT", "PhoneNumber": "+64 4 555 0102"}]
