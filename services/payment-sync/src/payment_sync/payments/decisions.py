"""What a Dynamics invoice or customer must be told so it shows what Xero shows: pure
decisions, Dynamics rows and Xero documents in, the patches to write (each with its reasons)
out. No I/O: `writer.py` reads what these need and writes what they decide.

An invoice's patch writes what differs of status, number, tax, amount due and the deep link;
for an invoice Xero shows fully paid, Paid (`InvoiceState.PAID` / `InvoiceStatus.COMPLETE`)
after those columns, because a Paid invoice is read-only; one Xero shows no longer paid (a
payment removed) is reopened first. Writing only what differs makes every run idempotent.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from dxc_shared.clients.dataverse import JSON, BatchOperation, changed_columns
from dxc_shared.dynamics.columns import (
    AccountColumns,
    Common,
    ContactColumns,
    InvoiceColumns,
    InvoiceState,
    InvoiceStatus,
)

REOPEN: JSON = {Common.STATE: InvoiceState.ACTIVE.value, Common.STATUS: InvoiceStatus.NEW.value}
MARK_PAID: JSON = {
    Common.STATE: InvoiceState.PAID.value,
    Common.STATUS: InvoiceStatus.COMPLETE.value,
}


class InvoiceChange(enum.StrEnum):
    """Why an invoice is patched (the metric counts status, amount_due and paid)."""

    REOPENED = "reopened"
    STATUS = "status"
    NUMBER = "number"
    TAX = "tax"
    AMOUNT_DUE = "amount_due"
    LINK = "link"
    PAID = "paid"


_CHANGE_OF_COLUMN = {
    InvoiceColumns.XERO_STATUS: InvoiceChange.STATUS,
    InvoiceColumns.XERO_INVOICE_NUMBER: InvoiceChange.NUMBER,
    InvoiceColumns.XERO_TOTAL_TAX: InvoiceChange.TAX,
    InvoiceColumns.AMOUNT_DUE: InvoiceChange.AMOUNT_DUE,
    InvoiceColumns.XERO_URL: InvoiceChange.LINK,
}


def deep_link(web_url: str, short_code: str | None, invoice: JSON) -> str | None:
    """Xero's link that opens the invoice in the right organisation (None without the
    organisation's short code)."""
    if not short_code:
        return None
    target = f"/AccountsReceivable/View.aspx?InvoiceID={invoice['InvoiceID']}"
    return (
        f"{web_url.rstrip('/')}/organisationlogin/default.aspx"
        f"?shortcode={quote(short_code)}&redirecturl={quote(target, safe='/?=')}"
    )


def fully_paid(invoice: JSON) -> bool:
    return invoice.get("Status") == "PAID" and Decimal(str(invoice.get("AmountDue", 0))) == 0


def xero_contact_id(invoice: JSON) -> str | None:
    contact_id = (invoice.get("Contact") or {}).get("ContactID")
    return str(contact_id).lower() if contact_id else None


@dataclass(frozen=True)
class InvoicePatch:
    """The writes that bring one Dynamics invoice up to date, in order, as one change set."""

    row: JSON
    invoice: JSON
    bodies: tuple[JSON, ...]
    changes: tuple[InvoiceChange, ...]

    @property
    def invoice_id(self) -> str:
        return str(self.row[InvoiceColumns.ID])

    @property
    def xero_invoice_id(self) -> str:
        return str(self.row[InvoiceColumns.XERO_INVOICE_ID])

    def operations(self) -> list[BatchOperation]:
        """The change set is atomic: its first write, made only if the row is still as it was
        read (its ETag), guards the rest."""
        etag = str(self.row.get(Common.ETAG, "*"))
        return [
            BatchOperation.patch(
                InvoiceColumns.ENTITY_SET,
                self.invoice_id,
                body,
                if_match=etag if index == 0 else "*",
            )
            for index, body in enumerate(self.bodies)
        ]


def invoice_patch(row: JSON, invoice: JSON, link: str | None) -> InvoicePatch | None:
    """What one exported invoice needs, given its Xero invoice and deep link; None when
    nothing (unchanged, or read-only in Dynamics with nothing Xero says changing that)."""
    state = row.get(Common.STATE)
    paid = fully_paid(invoice)
    if state == InvoiceState.CANCELED or (state == InvoiceState.PAID and paid):
        return None
    wanted: dict[str, Any] = {
        InvoiceColumns.XERO_STATUS: invoice.get("Status"),
        InvoiceColumns.XERO_INVOICE_NUMBER: invoice.get("InvoiceNumber") or None,
        InvoiceColumns.XERO_TOTAL_TAX: invoice.get("TotalTax"),
        InvoiceColumns.AMOUNT_DUE: invoice.get("AmountDue"),
    }
    if link:
        wanted[InvoiceColumns.XERO_URL] = link
    changed = changed_columns(row, wanted)
    reopen = state == InvoiceState.PAID  # Xero no longer shows it paid
    bodies = [body for body, due in ((REOPEN, reopen), (changed, bool(changed))) if due]
    changes = [InvoiceChange.REOPENED] if reopen else []
    changes += [_CHANGE_OF_COLUMN[column] for column in changed]
    if paid:
        bodies.append(MARK_PAID)
        changes.append(InvoiceChange.PAID)
    if not bodies:
        return None
    return InvoicePatch(row, invoice, tuple(bodies), tuple(changes))


@dataclass(frozen=True)
class InvoicePlan:
    patches: list[InvoicePatch]
    contact_ids: set[str]  # the Xero contacts of the invoices read: their balances may move


def plan_invoices(
    rows: list[JSON], invoices: Mapping[str, JSON], web_url: str, short_code: str | None
) -> InvoicePlan:
    """The patches for the Dynamics invoices `rows`, given the Xero invoices keyed by
    lower-case id. A row whose Xero invoice is not there (deleted in Xero) is left to
    cancellations."""
    plan = InvoicePlan([], set())
    for row in rows:
        invoice = invoices.get(str(row[InvoiceColumns.XERO_INVOICE_ID]).lower())
        if invoice is None:
            continue
        contact_id = xero_contact_id(invoice)
        if contact_id:
            plan.contact_ids.add(contact_id)
        patch = invoice_patch(row, invoice, deep_link(web_url, short_code, invoice))
        if patch is not None:
            plan.patches.append(patch)
    return plan


# -- balances ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerTable:
    """Accounts or contacts: where a customer's Xero contact id and balances are kept."""

    entity_set: str
    primary_id: str
    label: str  # in a failure's words


ACCOUNTS = CustomerTable(AccountColumns.ENTITY_SET, AccountColumns.ID, "account")
CONTACTS = CustomerTable(ContactColumns.ENTITY_SET, ContactColumns.ID, "contact")
BALANCE_COLUMNS = (
    AccountColumns.XERO_CONTACT_ID,
    AccountColumns.OUTSTANDING_BALANCE,
    AccountColumns.OVERDUE_BALANCE,
)


@dataclass(frozen=True)
class BalancePatch:
    table: CustomerTable
    row_id: str
    body: JSON

    def operation(self) -> BatchOperation:
        return BatchOperation.patch(self.table.entity_set, self.row_id, self.body)


def receivables_of(contacts: list[JSON]) -> dict[str, JSON]:
    """Each Xero contact's accounts-receivable balances, keyed by lower-case id."""
    return {
        str(contact["ContactID"]).lower(): (
            (contact.get("Balances") or {}).get("AccountsReceivable") or {}
        )
        for contact in contacts
    }


def balance_patches(
    customers: list[tuple[CustomerTable, JSON]], receivables: Mapping[str, JSON]
) -> list[BalancePatch]:
    """The outstanding and overdue balances that differ from what the customer rows show
    (a customer linked to a contact Xero did not return is left as it is)."""
    patches: list[BalancePatch] = []
    for table, row in customers:
        receivable = receivables.get(str(row[AccountColumns.XERO_CONTACT_ID]).lower())
        if receivable is None:
            continue
        changed = changed_columns(
            row,
            {
                AccountColumns.OUTSTANDING_BALANCE: receivable.get("Outstanding", 0),
                AccountColumns.OVERDUE_BALANCE: receivable.get("Overdue", 0),
            },
        )
        if changed:
            patches.append(BalancePatch(table, str(row[table.primary_id]), changed))
    return patches
