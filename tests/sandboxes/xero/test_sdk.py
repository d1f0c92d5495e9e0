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
    Payment,
    Payments,
    Purchase,
)
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import AccountingBadRequestException
from xero_python.identity import IdentityApi

from tests.support.xero_sandbox import XeroSandbox


def _status(document: Any) -> str:
    return str(getattr(document.status, "value", document.status))


def test_xero_python_end_to_end(sandbox: XeroSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TokenApi, "refresh_token_url", f"{sandbox.base}/connect/token")
    monkeypatch.setattr(TokenApi, "revoke_token_url", f"{sandbox.base}/connect/revocation")
    settings = sandbox.settings

    # The app's OAuth library runs authorize + code exchange; the SDK takes the token from there.
    token: dict[str, Any] = sandbox.tokens()
    token["scope"] = token["scope"].split()
    store: dict[str, Any] = {}
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
