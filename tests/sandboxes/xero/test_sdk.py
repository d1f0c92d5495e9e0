"""Xero's own Python SDK (xero-python) works against the sandbox, pointed only at its URLs."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from xero_python.accounting import Account as XeroAccount
from xero_python.accounting import (
    AccountingApi,
    Contact,
    Contacts,
    Invoice,
    Invoices,
    Item,
    Items,
    LineItem,
    LineItemTracking,
    Payment,
    Payments,
    Purchase,
    TrackingCategory,
    TrackingOption,
)
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import AccountingBadRequestException
from xero_python.identity import IdentityApi

from tests.support.xero_sandbox import XeroSandbox


def _status(document: Any) -> str:
    return str(getattr(document.status, "value", document.status))


def _api_client(sandbox: XeroSandbox, token: dict[str, Any]) -> ApiClient:
    """The SDK's client holding a token the app's OAuth library obtained."""
    token["scope"] = token["scope"].split()
    store: dict[str, Any] = {}
    settings = sandbox.settings
    api_client = ApiClient(
        Configuration(
            oauth2_token=OAuth2Token(
                client_id=settings.demo_client_id, client_secret=settings.demo_client_secret
            )
        ),
        pool_threads=1,
        oauth2_token_getter=lambda: store["token"],
        oauth2_token_saver=lambda t: store.update(token=t),
    )
    api_client.set_oauth2_token(token)
    return api_client


def test_xero_python_end_to_end(sandbox: XeroSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TokenApi, "refresh_token_url", f"{sandbox.base}/connect/token")
    monkeypatch.setattr(TokenApi, "revoke_token_url", f"{sandbox.base}/connect/revocation")

    # The app's OAuth library runs authorize + code exchange; the SDK takes the token from there.
    token: dict[str, Any] = sandbox.tokens()
    api_client = _api_client(sandbox, token)
    # The SDK's own refresh call, against the sandbox's token endpoint.
    refreshed = api_client.refresh_oauth2_token()
    assert refreshed["refresh_token"] != token["refresh_token"]

    identity = IdentityApi(api_client, base_url=sandbox.base)
    [connection] = identity.get_connections()
    tenant = connection.tenant_id
    assert str(tenant) == sandbox.tenant
    accounting = AccountingApi(api_client, base_url=f"{sandbox.base}/api.xro/2.0")

    contact = accounting.create_contacts(
        tenant, Contacts(contacts=[Contact(name="SDK Customer", email_address="sdk@example.com")])
    ).contacts[0]
    item = Item(
        code="SDK-1",
        name="SDK thing",
        description="Made by the SDK",
        sales_details=Purchase(unit_price=40.0, account_code="200", tax_type="OUTPUT2"),
    )
    accounting.create_items(tenant, Items(items=[item]))

    def invoice(**fields: Any) -> Invoice:
        return Invoice(
            type="ACCREC",
            contact=Contact(contact_id=contact.contact_id),
            date=date(2025, 3, 1),
            due_date=date(2025, 3, 31),
            line_items=[LineItem(item_code="SDK-1", quantity=2.0)],
            **fields,
        )

    created = accounting.create_invoices(
        tenant,
        Invoices(
            invoices=[
                invoice(status="AUTHORISED"),
                invoice(status="DRAFT"),
                invoice(status="AUTHORISED", reference="to void"),
            ]
        ),
        summarize_errors=False,
    ).invoices
    assert [i.status_attribute_string for i in created] == ["OK", "OK", "OK"]
    to_pay, draft, to_void = created
    assert to_pay.total == 92.0
    assert to_pay.line_items[0].description == "Made by the SDK"

    read_back = accounting.get_invoice(tenant, to_pay.invoice_id).invoices[0]
    assert read_back.invoice_number == to_pay.invoice_number
    assert read_back.date == date(2025, 3, 1)
    listed = accounting.get_invoices(tenant, where='Status=="AUTHORISED"', page=1).invoices
    assert {i.invoice_id for i in listed} == {to_pay.invoice_id, to_void.invoice_id}

    payment = Payment(
        invoice=Invoice(invoice_id=to_pay.invoice_id),
        account=XeroAccount(code="090"),
        amount=92.0,
        date=date(2025, 3, 3),
    )
    accounting.create_payments(tenant, Payments(payments=[payment]))
    paid = accounting.get_invoice(tenant, to_pay.invoice_id).invoices[0]
    assert _status(paid) == "PAID"
    assert paid.amount_due == 0

    voided = accounting.update_invoice(
        tenant, to_void.invoice_id, Invoices(invoices=[Invoice(status="VOIDED")])
    ).invoices[0]
    assert _status(voided) == "VOIDED"
    deleted = accounting.update_invoice(
        tenant, draft.invoice_id, Invoices(invoices=[Invoice(status="DELETED")])
    ).invoices[0]
    assert _status(deleted) == "DELETED"
    # Voiding a paid invoice is refused with Xero's ValidationException.
    with pytest.raises(AccountingBadRequestException) as refused:
        accounting.update_invoice(
            tenant, to_pay.invoice_id, Invoices(invoices=[Invoice(status="VOIDED")])
        )
    assert refused.value.status == 400
    [element] = refused.value.error_data["Elements"]
    assert element["ValidationErrors"] == [
        {"Message": "Invoice not of valid status for modification"}
    ]

    contacts = accounting.get_contacts(tenant, where='Name=="SDK Customer"').contacts
    assert contacts[0].contact_id == contact.contact_id
    api_client.revoke_oauth2_token()
    assert sandbox.token_request(
        grant_type="refresh_token", refresh_token=refreshed["refresh_token"]
    ).json() == {"error": "invalid_grant"}


def test_xero_python_parses_tracking_online_invoices_payments_and_failed_contacts(
    sandbox: XeroSandbox,
) -> None:
    api_client = _api_client(sandbox, sandbox.tokens())
    tenant = sandbox.tenant
    accounting = AccountingApi(api_client, base_url=f"{sandbox.base}/api.xro/2.0")

    # /connections answers carry the app's rate-limit header, as the Accounting API's do.
    identity = IdentityApi(api_client, base_url=sandbox.base)
    _, status, headers = identity.get_connections(_return_http_data_only=False)
    assert status == 200
    assert int(headers["X-AppMinLimit-Remaining"]) > 0

    # Tracking categories with options, and a line tracked by one of them.
    region = accounting.create_tracking_category(
        tenant, TrackingCategory(name="Region")
    ).tracking_categories[0]
    assert region.name == "Region"
    assert _status(region) == "ACTIVE"
    north = accounting.create_tracking_options(
        tenant, region.tracking_category_id, TrackingOption(name="North")
    ).options[0]
    assert north.name == "North"
    [listed] = accounting.get_tracking_categories(tenant).tracking_categories
    assert [option.name for option in listed.options] == ["North"]
    contact = accounting.create_contacts(tenant, Contacts(contacts=[Contact(name="Tracked")]))
    tracked_line = LineItem(
        description="Consulting",
        quantity=1.0,
        unit_amount=100.0,
        account_code="200",
        tracking=[LineItemTracking(name="Region", option="North")],
    )
    invoice = accounting.create_invoices(
        tenant,
        Invoices(
            invoices=[
                Invoice(
                    type="ACCREC",
                    contact=Contact(contact_id=contact.contacts[0].contact_id),
                    date=date(2025, 3, 1),
                    due_date=date(2025, 3, 31),
                    line_items=[tracked_line],
                    status="AUTHORISED",
                )
            ]
        ),
    ).invoices[0]
    [tracking] = invoice.line_items[0].tracking
    assert tracking.tracking_category_id == region.tracking_category_id
    assert tracking.tracking_option_id == north.tracking_option_id
    # A used category cannot be deleted: Xero's ValidationException.
    with pytest.raises(AccountingBadRequestException):
        accounting.delete_tracking_category(tenant, region.tracking_category_id)

    # The online invoice link, in Xero's envelope.
    [online] = accounting.get_online_invoice(tenant, invoice.invoice_id).online_invoices
    assert online.online_invoice_url.endswith(f"/{invoice.invoice_id}")

    # An invoice's payments carry their Reference as a string.
    payment = Payment(
        invoice=Invoice(invoice_id=invoice.invoice_id),
        account=XeroAccount(code="090"),
        amount=50.0,
        date=date(2025, 3, 3),
        reference="Deposit 42",
    )
    accounting.create_payments(tenant, Payments(payments=[payment]))
    [paid] = accounting.get_invoice(tenant, invoice.invoice_id).invoices[0].payments
    assert paid.reference == "Deposit 42"

    # A contact that fails in a batch: the zero ContactID and HasValidationErrors, as in Xero's
    # published example.
    batch = accounting.create_contacts(
        tenant,
        Contacts(contacts=[Contact(name="Tracked"), Contact(name="Fresh")]),
        summarize_errors=False,
    ).contacts
    failed, saved = batch
    assert str(failed.contact_id) == "00000000-0000-0000-0000-000000000000"
    assert failed.has_validation_errors is True
    assert failed.validation_errors[0].message.startswith("The contact name Tracked")
    assert saved.has_validation_errors is False
