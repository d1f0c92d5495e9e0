"""The contract between the connector and the Xero sandbox: every field the connector reads
(each document's CONNECTOR_READS) is written by the sandbox, read back through the connector's
own client and parsed with the shared documents. A read the sandbox never writes fails here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from dxc_shared.clients.xero_accounting import ElementResult, XeroAccountingClient
from dxc_shared.xero.documents import (
    Account,
    Allocation,
    BrandingTheme,
    Contact,
    CreditNote,
    Currency,
    Invoice,
    Item,
    Organisation,
    TaxRate,
    XeroDocument,
    unwritten_reads,
)

from tests.support.xero_sandbox import XeroSandbox

Json = dict[str, Any]


@dataclass(frozen=True)
class Answers:
    """What the sandbox answered, each document as the client returned it."""

    documents: dict[type[XeroDocument], list[Json]]


def _elements(results: Sequence[ElementResult[Any]]) -> list[Json]:
    assert all(result.ok for result in results), [result.errors for result in results]
    return [result.element.to_xero() for result in results]


async def _client(sandbox: XeroSandbox, http: httpx.AsyncClient) -> XeroAccountingClient:
    token = str(sandbox.tokens()["access_token"])

    async def access_token() -> str:
        return token

    return XeroAccountingClient(
        http, base_url=sandbox.api(""), tenant_id=sandbox.tenant, access_token=access_token
    )


async def _raw(
    sandbox: XeroSandbox, http: httpx.AsyncClient, path: str, collection: str
) -> list[Json]:
    """A list as the sandbox wrote it: the client's models drop undeclared fields, so the
    round trip below needs the answer itself."""
    headers = {
        "Authorization": f"Bearer {sandbox.tokens()['access_token']}",
        "xero-tenant-id": sandbox.tenant,
        "Accept": "application/json",
    }
    response = await http.get(sandbox.api(path), headers=headers)
    response.raise_for_status()
    answer: list[Json] = response.json()[collection]
    return answer


@pytest.fixture
async def answers_by_document(sandbox: XeroSandbox) -> AsyncIterator[Answers]:
    """One of each document with every optional part the connector uses populated, written
    and read back by the connector's client."""
    async with httpx.AsyncClient(timeout=30) as http:
        xero = await _client(sandbox, http)
        items = _elements(
            await xero.create_items(
                [
                    {
                        "Code": "WIDGET",
                        "Name": "Widget",
                        "Description": "A widget",
                        "SalesDetails": {"UnitPrice": 12.5, "AccountCode": "200"},
                    }
                ],
                idempotency_key="contract-items",
            )
        )
        contacts = _elements(
            await xero.create_contacts(
                [
                    {
                        "Name": "Contract Customer",
                        "ContactNumber": "CT-1",
                        "AccountNumber": "ACC-CT-1",
                        "EmailAddress": "ap@contract.example",
                        "Addresses": [{"AddressType": "POBOX", "City": "Wellington"}],
                        "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "555 0100"}],
                    }
                ],
                idempotency_key="contract-contacts",
            )
        )
        contact_id = str(contacts[0]["ContactID"])
        invoices = _elements(
            await xero.create_invoices(
                [
                    {
                        "Type": "ACCREC",
                        "Contact": {"ContactID": contact_id},
                        "Reference": "CONTRACT-1",
                        "Status": "AUTHORISED",
                        "Date": "2025-03-01",
                        "DueDate": "2025-03-31",
                        "LineAmountTypes": "Exclusive",
                        "CurrencyCode": "NZD",
                        "LineItems": [
                            {
                                "ItemCode": "WIDGET",
                                "Description": "Two widgets",
                                "Quantity": 2,
                                "UnitAmount": 12.5,
                                "AccountCode": "200",
                                "TaxType": "OUTPUT2",
                                "DiscountRate": 10,
                            },
                            {
                                "Description": "Setup, less a discount",
                                "Quantity": 1,
                                "UnitAmount": 40.1234,
                                "AccountCode": "200",
                                "DiscountAmount": 5,
                            },
                        ],
                    }
                ],
                idempotency_key="contract-invoices",
            )
        )
        invoice_id = str(invoices[0]["InvoiceID"])
        credit_notes = _elements(
            await xero.create_credit_notes(
                [
                    {
                        "Type": "ACCRECCREDIT",
                        "Contact": {"ContactID": contact_id},
                        "Reference": "CONTRACT-CREDIT-1",
                        "Status": "AUTHORISED",
                        "LineItems": [
                            {
                                "Description": "Refund",
                                "Quantity": 1,
                                "UnitAmount": 5,
                                "AccountCode": "200",
                            }
                        ],
                    }
                ],
                idempotency_key="contract-credit-notes",
            )
        )
        allocation = await xero.allocate_credit_note(
            str(credit_notes[0]["CreditNoteID"]),
            invoice_id=invoice_id,
            amount=5.75,
            date="2025-03-02",
            idempotency_key="contract-allocation",
        )
        yield Answers(
            {
                Invoice: [
                    *invoices,
                    *[invoice.to_xero() for invoice in await xero.invoices(ids=[invoice_id])],
                    *[
                        invoice.to_xero()
                        for invoice in await xero.invoices_with_references(["CONTRACT-1"])
                    ],
                    *await _raw(sandbox, http, f"Invoices/{invoice_id}", "Invoices"),
                ],
                Contact: [
                    *contacts,
                    *[contact.to_xero() for contact in await xero.contacts([contact_id])],
                    *[
                        contact.to_xero()
                        for contact in await xero.contacts_matching(
                            numbers=["CT-1"], names=["Contract Customer"]
                        )
                    ],
                    *[
                        contact.to_xero()
                        for contact in await xero.contacts_matching(account_numbers=["ACC-CT-1"])
                    ],
                    *await _raw(sandbox, http, f"Contacts/{contact_id}", "Contacts"),
                ],
                Item: [
                    *items,
                    *[item.to_xero() for item in await xero.items_with_codes(["WIDGET"])],
                    *await _raw(sandbox, http, "Items", "Items"),
                ],
                CreditNote: [
                    *credit_notes,
                    *[
                        note.to_xero()
                        for note in await xero.credit_notes_with_references(["CONTRACT-CREDIT-1"])
                    ],
                    *await _raw(sandbox, http, "CreditNotes", "CreditNotes"),
                ],
                Allocation: [allocation.to_xero()],
                TaxRate: [
                    *[rate.to_xero() for rate in await xero.tax_rates()],
                    *await _raw(sandbox, http, "TaxRates", "TaxRates"),
                ],
                Account: [
                    *[account.to_xero() for account in await xero.accounts()],
                    *await _raw(sandbox, http, "Accounts", "Accounts"),
                ],
                BrandingTheme: [
                    *[theme.to_xero() for theme in await xero.branding_themes()],
                    *await _raw(sandbox, http, "BrandingThemes", "BrandingThemes"),
                ],
                Currency: [currency.to_xero() for currency in await xero.currencies()],
                Organisation: [
                    (await xero.organisation()).to_xero(),
                    *await _raw(sandbox, http, "Organisation", "Organisations"),
                ],
            }
        )


DOCUMENTS = [
    Invoice,
    Contact,
    Item,
    CreditNote,
    Allocation,
    TaxRate,
    Account,
    BrandingTheme,
    Currency,
    Organisation,
]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda document: document.__name__)
def test_the_sandbox_writes_every_field_the_connector_reads(
    answers_by_document: Answers, document: type[XeroDocument]
) -> None:
    answers = answers_by_document.documents[document]
    assert answers, f"the sandbox answered no {document.__name__}"
    for answer in answers:
        assert unwritten_reads(document.from_xero(answer)) == [], answer


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda document: document.__name__)
def test_the_documents_declare_everything_the_sandbox_writes(
    answers_by_document: Answers, document: type[XeroDocument]
) -> None:
    """Parsing drops undeclared fields, so an answer that survives a round trip unchanged has
    none: the shared documents describe the sandbox's answers completely."""
    for answer in answers_by_document.documents[document]:
        assert document.from_xero(answer).to_xero() == answer
