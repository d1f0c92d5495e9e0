"""What a Dynamics invoice or customer must be told so it shows what Xero shows: pure
decisions, Dynamics rows and Xero documents in, the patches to write (each with its reasons)
out. No I/O: `writer.py` reads what these need and writes what they decide.

An invoice's patch writes what differs of Xero status, number, tax, amount due, amount paid,
amount credited, payment state (`PaymentState`: Not paid, Part paid, Paid, Voided or deleted)
and the deep link, then puts the invoice in the Dynamics state that matches Xero:

- Xero VOIDED or DELETED: nothing is due (whatever Xero still shows as due), and the invoice is
  Canceled (statecode 3, statuscode 100003), Microsoft's closed state for an invoice that will
  not be paid; a sync history row says what happened in words.
- Xero fully paid (status PAID, amount due 0; fully credited included): Paid (statecode 2,
  statuscode 100001 Complete).
- Otherwise Active; an invoice Xero no longer shows paid (a payment removed) is reopened.
- An invoice the user Canceled in Dynamics stays Canceled: the connector only brings its Xero
  columns up to date (the cancellation credited or deleted it in Xero).

Paid and Canceled invoices are read-only, so the columns are written while the invoice is Active
(a closed one is reopened first, in the same atomic change set) and the state is set last. A Paid
invoice that Xero still shows paid is left as it is. Writing only what differs makes every run
idempotent, and the history row is written only with the change it describes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
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
    SyncHistoryColumns,
)
from dxc_shared.dynamics.history import history_row, invoice_label
from dxc_shared.dynamics.schema import PaymentState, SyncOutcome
from dxc_shared.xero.documents import Balance, Contact, Invoice
from dxc_shared.xero.documents import InvoiceStatus as XeroStatus

REOPEN: JSON = {Common.STATE: InvoiceState.ACTIVE.value, Common.STATUS: InvoiceStatus.NEW.value}
CLOSE: dict[InvoiceState, JSON] = {
    InvoiceState.PAID: {
        Common.STATE: InvoiceState.PAID.value,
        Common.STATUS: InvoiceStatus.COMPLETE.value,
    },
    InvoiceState.CANCELED: {
        Common.STATE: InvoiceState.CANCELED.value,
        Common.STATUS: InvoiceStatus.CANCELED.value,
    },
}
CLOSED_STATES = frozenset(CLOSE)
GONE = frozenset({XeroStatus.VOIDED, XeroStatus.DELETED})  # nothing left to pay
_GONE_WORDS = {XeroStatus.VOIDED: "voided", XeroStatus.DELETED: "deleted"}


class InvoiceChange(enum.StrEnum):
    """Why an invoice is patched (the metric counts status, amount_due, paid and canceled)."""

    REOPENED = "reopened"
    STATUS = "status"
    NUMBER = "number"
    TAX = "tax"
    AMOUNT_DUE = "amount_due"
    AMOUNT_PAID = "amount_paid"
    AMOUNT_CREDITED = "amount_credited"
    PAYMENT_STATE = "payment_state"
    LINK = "link"
    PAID = "paid"
    CANCELED = "canceled"


_CHANGE_OF_COLUMN = {
    InvoiceColumns.XERO_STATUS: InvoiceChange.STATUS,
    InvoiceColumns.XERO_INVOICE_NUMBER: InvoiceChange.NUMBER,
    InvoiceColumns.XERO_TOTAL_TAX: InvoiceChange.TAX,
    InvoiceColumns.AMOUNT_DUE: InvoiceChange.AMOUNT_DUE,
    InvoiceColumns.AMOUNT_PAID: InvoiceChange.AMOUNT_PAID,
    InvoiceColumns.AMOUNT_CREDITED: InvoiceChange.AMOUNT_CREDITED,
    InvoiceColumns.PAYMENT_STATE: InvoiceChange.PAYMENT_STATE,
    InvoiceColumns.XERO_URL: InvoiceChange.LINK,
}
_CHANGE_OF_STATE = {
    InvoiceState.PAID: InvoiceChange.PAID,
    InvoiceState.CANCELED: InvoiceChange.CANCELED,
}


def deep_link(web_url: str, short_code: str | None, invoice: Invoice) -> str | None:
    """Xero's link that opens the invoice in the right organisation (None without the
    organisation's short code)."""
    if not short_code:
        return None
    target = f"/AccountsReceivable/View.aspx?InvoiceID={invoice.invoice_id}"
    return (
        f"{web_url.rstrip('/')}/organisationlogin/default.aspx"
        f"?shortcode={quote(short_code)}&redirecturl={quote(target, safe='/?=')}"
    )


def _number(amount: Decimal | None) -> float | None:
    """An amount as Dynamics' Web API takes and gives it (a JSON number)."""
    return None if amount is None else float(amount)


def fully_paid(invoice: Invoice) -> bool:
    return invoice.status == XeroStatus.PAID and (invoice.amount_due or 0) == 0


def payment_state(invoice: Invoice) -> PaymentState:
    """Part paid: a payment received and something still due (credit notes alone reduce what
    is due without paying it)."""
    if invoice.status in GONE:
        return PaymentState.VOIDED_OR_DELETED
    if fully_paid(invoice):
        return PaymentState.PAID
    if (invoice.amount_paid or 0) > 0:
        return PaymentState.PART_PAID
    return PaymentState.NOT_PAID


def target_state(state: Any, invoice: Invoice) -> InvoiceState:
    """The Dynamics state that matches Xero, given the invoice's state now."""
    if state == InvoiceState.CANCELED or invoice.status in GONE:
        return InvoiceState.CANCELED
    if fully_paid(invoice):
        return InvoiceState.PAID
    return InvoiceState.ACTIVE


def xero_columns(invoice: Invoice, link: str | None) -> JSON:
    """The invoice's Xero columns as Xero shows them now."""
    gone = invoice.status in GONE
    wanted: dict[str, Any] = {
        InvoiceColumns.XERO_STATUS: invoice.status,
        InvoiceColumns.XERO_INVOICE_NUMBER: invoice.invoice_number or None,
        InvoiceColumns.XERO_TOTAL_TAX: _number(invoice.total_tax),
        # Xero keeps the old amount due on a voided or deleted invoice: nothing is due.
        InvoiceColumns.AMOUNT_DUE: 0 if gone else _number(invoice.amount_due),
        InvoiceColumns.AMOUNT_PAID: _number(invoice.amount_paid) or 0,
        InvoiceColumns.AMOUNT_CREDITED: _number(invoice.amount_credited) or 0,
        InvoiceColumns.PAYMENT_STATE: payment_state(invoice).value,
    }
    if link:
        wanted[InvoiceColumns.XERO_URL] = link
    return wanted


def xero_contact_id(invoice: Invoice) -> str | None:
    contact_id = invoice.contact.contact_id if invoice.contact else None
    return str(contact_id).lower() if contact_id else None


def gone_message(row: JSON, invoice: Invoice) -> str:
    """The sync history's words for an invoice Xero now shows voided or deleted."""
    words = _GONE_WORDS[XeroStatus(invoice.status or "")]
    xero_number = invoice.invoice_number
    in_xero = f"Xero invoice {xero_number}" if xero_number else "The Xero invoice"
    if row.get(Common.STATE) == InvoiceState.CANCELED:
        return (
            f"{in_xero} was {words} in Xero. This invoice was already Canceled in Dynamics "
            "365; it now shows the Xero status with nothing due."
        )
    return (
        f"{in_xero} was {words} in Xero, so this invoice is now Canceled in Dynamics 365 with "
        "nothing due."
    )


@dataclass(frozen=True)
class InvoicePatch:
    """The writes that bring one Dynamics invoice up to date, in order, as one change set, and
    the sync history row that says what happened (when it is worth a person's attention)."""

    row: JSON
    invoice: Invoice
    bodies: tuple[JSON, ...]
    changes: tuple[InvoiceChange, ...]
    note: str | None = None

    @property
    def invoice_id(self) -> str:
        return str(self.row[InvoiceColumns.ID])

    @property
    def xero_invoice_id(self) -> str:
        return str(self.row[InvoiceColumns.XERO_INVOICE_ID])

    def operations(self, connector_id: str | None, now: datetime) -> list[BatchOperation]:
        """The change set is atomic: its first write, made only if the row is still as it was
        read (its ETag), guards the rest, the history row included (`connector_id` is needed
        only when there is a note)."""
        etag = str(self.row.get(Common.ETAG, "*"))
        operations = [
            BatchOperation.patch(
                InvoiceColumns.ENTITY_SET,
                self.invoice_id,
                body,
                if_match=etag if index == 0 else "*",
            )
            for index, body in enumerate(self.bodies)
        ]
        if self.note is not None:
            if connector_id is None:
                raise ValueError("a history row needs the connector record")
            body = history_row(
                connector_id=connector_id,
                invoice_id=self.invoice_id,
                label=invoice_label(self.row.get(InvoiceColumns.NUMBER)),
                outcome=SyncOutcome.INFORMATION,
                message=self.note,
                occurred_on=now,
            )
            operations.append(BatchOperation("POST", SyncHistoryColumns.ENTITY_SET, body))
        return operations


def invoice_patch(row: JSON, invoice: Invoice, link: str | None) -> InvoicePatch | None:
    """What one exported invoice needs, given its Xero invoice and deep link; None when
    nothing (unchanged, or Paid in Dynamics and still paid in Xero)."""
    state = row.get(Common.STATE)
    target = target_state(state, invoice)
    if state == InvoiceState.PAID and target == InvoiceState.PAID:
        return None
    changed = changed_columns(row, xero_columns(invoice, link))
    if not changed and state == target:
        return None
    reopen = state in CLOSED_STATES  # read-only: reopened to be written, closed again below
    bodies = [body for body, due in ((REOPEN, reopen), (changed, bool(changed))) if due]
    changes = [InvoiceChange.REOPENED] if reopen else []
    changes += [_CHANGE_OF_COLUMN[column] for column in changed]
    if target in CLOSED_STATES:
        bodies.append(CLOSE[target])
        if target != state:
            changes.append(_CHANGE_OF_STATE[target])
    became_gone = InvoiceColumns.XERO_STATUS in changed and invoice.status in GONE
    note = gone_message(row, invoice) if became_gone else None
    return InvoicePatch(row, invoice, tuple(bodies), tuple(changes), note)


@dataclass(frozen=True)
class InvoicePlan:
    patches: list[InvoicePatch]
    contact_ids: set[str]  # the Xero contacts of the invoices read: their balances may move


def plan_invoices(
    rows: list[JSON], invoices: Mapping[str, Invoice], web_url: str, short_code: str | None
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


def receivables_of(contacts: Sequence[Contact]) -> dict[str, Balance]:
    """Each Xero contact's accounts-receivable balances, keyed by lower-case id."""
    return {
        str(contact.contact_id).lower(): _receivable(contact) or Balance() for contact in contacts
    }


def _receivable(contact: Contact) -> Balance | None:
    return contact.balances.accounts_receivable if contact.balances else None


def balance_patches(
    customers: list[tuple[CustomerTable, JSON]], receivables: Mapping[str, Balance]
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
                AccountColumns.OUTSTANDING_BALANCE: float(receivable.outstanding or 0),
                AccountColumns.OVERDUE_BALANCE: float(receivable.overdue or 0),
            },
        )
        if changed:
            patches.append(BalancePatch(table, str(row[table.primary_id]), changed))
    return patches
