"""The cancellations plan: which changes are cancellations of exported invoices, and what each
needs in Xero given the invoice's state there. Pure: no I/O, no clock.

- creating credit notes automatically is off: nothing in Xero, a sync history row says so;
- gone in Xero (deleted or voided): nothing more to do;
- DRAFT / SUBMITTED: deleted in Xero;
- AUTHORISED, nothing paid: a credit note for the full amount, allocated to the invoice;
- AUTHORISED, part paid: the credit note, not allocated, and a sync history row asking a person
  to allocate it;
- PAID: nothing changed; sync history "The invoice is fully paid in Xero".
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from dxc_shared.dynamics.columns import Common, InvoiceColumns, InvoiceState
from dxc_shared.dynamics.schema import ExportStatus
from dxc_shared.xero.documents import (
    Contact,
    CreditNote,
    Invoice,
    InvoiceStatus,
    LineAmountTypes,
)

JSON = dict[str, Any]
GONE = frozenset({InvoiceStatus.DELETED, InvoiceStatus.VOIDED})
TRACKED_COLUMNS = (
    InvoiceColumns.ID,
    InvoiceColumns.NUMBER,
    Common.STATE,
    InvoiceColumns.EXPORT_STATUS,
    InvoiceColumns.XERO_INVOICE_ID,
    InvoiceColumns.CONNECTOR,
)
_CREDIT_LINE_FIELDS = (
    "Description",
    "Quantity",
    "UnitAmount",
    "ItemCode",
    "AccountCode",
    "TaxType",
    "DiscountRate",
    "LineAmount",
)


class CancellationState(enum.StrEnum):
    PENDING = "pending"  # noticed; nothing done in Xero yet
    CREDITING = "crediting"  # a credit note is being created: look it up before creating
    ACTED = "acted"  # Xero is as it should be; the sync history row is not written yet
    DONE = "done"


class CancellationOutcome(enum.StrEnum):
    LEFT_ALONE = "left_alone"  # the setting is off
    DELETED = "deleted"
    CREDITED = "credited"
    CREDITED_UNALLOCATED = "credited_unallocated"
    FULLY_PAID = "fully_paid"
    ALREADY_GONE = "already_gone"
    FAILED = "failed"


MESSAGES = {
    CancellationOutcome.LEFT_ALONE: "{label} was cancelled in Dynamics 365. Creating credit "
    "notes automatically is switched off, so nothing was changed in Xero: cancel it there by "
    "hand if needed.",
    CancellationOutcome.DELETED: "{label} was cancelled in Dynamics 365, so it was deleted in "
    "Xero.",
    CancellationOutcome.CREDITED: "{label} was cancelled in Dynamics 365, so a credit note for "
    "the full amount was created in Xero and allocated to it.",
    CancellationOutcome.CREDITED_UNALLOCATED: "{label} was cancelled in Dynamics 365 but is part "
    "paid in Xero, so a credit note for the full amount was created and not allocated. Allocate "
    "it in Xero (and refund the payment if needed).",
    CancellationOutcome.FULLY_PAID: "The invoice is fully paid in Xero",
    CancellationOutcome.ALREADY_GONE: "{label} was cancelled in Dynamics 365; it was already "
    "deleted or voided in Xero, so nothing more was changed.",
    CancellationOutcome.FAILED: "{label} was cancelled in Dynamics 365 but Xero refused to "
    "cancel it{errors}. Cancel it in Xero by hand.",
}


class CancellationRecord(Protocol):
    """What the plan reads of a cancellation ledger row."""

    @property
    def dynamics_invoice_id(self) -> str: ...

    @property
    def xero_invoice_id(self) -> str: ...

    @property
    def invoice_number(self) -> str | None: ...

    @property
    def state(self) -> str: ...

    @property
    def outcome(self) -> str | None: ...


class ExportRecord(Protocol):
    """What the plan reads of an export ledger row."""

    @property
    def xero_invoice_id(self) -> str | None: ...

    @property
    def xero_invoice_number(self) -> str | None: ...


# -- noticing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Noticed:
    """A cancellation to record: an invoice this connection exported, cancelled or deleted."""

    dynamics_invoice_id: str
    xero_invoice_id: str
    invoice_number: str | None
    deleted_in_dynamics: bool


def cancelled_rows(rows: Iterable[JSON], connector_id: str) -> dict[str, JSON]:
    """Changed rows that are this connector's exported invoices, now Canceled."""
    return {
        str(row[InvoiceColumns.ID]): row
        for row in rows
        if row.get(Common.STATE) == InvoiceState.CANCELED
        and row.get(InvoiceColumns.EXPORT_STATUS) in (ExportStatus.YES, ExportStatus.UPDATE)
        and row.get(InvoiceColumns.XERO_INVOICE_ID)
        and str(row.get(InvoiceColumns.CONNECTOR)) == connector_id
    }


def _noticed(invoice_id: str, row: JSON | None, export: ExportRecord | None) -> Noticed | None:
    if row is not None:
        xero_id = row.get(InvoiceColumns.XERO_INVOICE_ID) or (export and export.xero_invoice_id)
        number = row.get(InvoiceColumns.NUMBER) or (export.xero_invoice_number if export else None)
    elif export is not None:  # deleted: only the ledger knows it was exported
        xero_id, number = export.xero_invoice_id, export.xero_invoice_number
    else:
        return None
    if not xero_id:
        return None
    return Noticed(invoice_id, str(xero_id), number, deleted_in_dynamics=row is None)


def noticed(
    cancelled: Mapping[str, JSON],
    deleted_ids: Sequence[str],
    exports: Mapping[str, ExportRecord],
    known: Iterable[str],
) -> list[Noticed]:
    """The cancellations to record: cancelled rows and deleted invoices the ledger exported,
    not recorded before."""
    already = set(known)
    found: list[Noticed] = []
    for invoice_id in [*cancelled, *deleted_ids]:
        if invoice_id in already:
            continue
        already.add(invoice_id)
        item = _noticed(invoice_id, cancelled.get(invoice_id), exports.get(invoice_id))
        if item is not None:
            found.append(item)
    return found


def unseen_exports(rows: Iterable[JSON], exported_ids: Iterable[str]) -> list[str]:
    """After a full read (the delta link had expired, and a full read reports no deletions):
    the exported invoices it did not return. Deleted meanwhile, or hidden from the signed-in
    user: each is asked for by id before it counts as deleted."""
    read = {str(row[InvoiceColumns.ID]).lower() for row in rows}
    return sorted(invoice_id for invoice_id in exported_ids if invoice_id.lower() not in read)


# -- settling -----------------------------------------------------------------------------------


class Action(enum.Enum):
    HISTORY_ONLY = "history_only"  # acted on by an earlier run; its history row is missing
    LEAVE_ALONE = "leave_alone"
    ALREADY_GONE = "already_gone"
    DELETE = "delete"
    FULLY_PAID = "fully_paid"
    CREDIT = "credit"  # and allocate the credit note to the invoice
    CREDIT_UNALLOCATED = "credit_unallocated"  # part paid: a person allocates it


OUTCOME_OF = {
    Action.LEAVE_ALONE: CancellationOutcome.LEFT_ALONE,
    Action.ALREADY_GONE: CancellationOutcome.ALREADY_GONE,
    Action.DELETE: CancellationOutcome.DELETED,
    Action.FULLY_PAID: CancellationOutcome.FULLY_PAID,
    Action.CREDIT: CancellationOutcome.CREDITED,
    Action.CREDIT_UNALLOCATED: CancellationOutcome.CREDITED_UNALLOCATED,
}


def needs_xero(pending: Sequence[CancellationRecord], create_credit_notes: bool) -> list[str]:
    """The Xero invoices to read before deciding (none when nothing is to be done there)."""
    if not create_credit_notes:
        return []
    return [c.xero_invoice_id for c in pending if c.state != CancellationState.ACTED]


def action_for(
    cancellation: CancellationRecord, invoice: Invoice | None, *, create_credit_notes: bool
) -> Action:
    """What a pending cancellation needs, given its invoice in Xero (None: not there)."""
    if cancellation.state == CancellationState.ACTED:
        return Action.HISTORY_ONLY
    if not create_credit_notes:
        return Action.LEAVE_ALONE
    if invoice is None or invoice.status in GONE:
        return Action.ALREADY_GONE
    if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.SUBMITTED):
        return Action.DELETE
    if invoice.status == InvoiceStatus.PAID:
        return Action.FULLY_PAID
    if (invoice.amount_paid or 0) > 0:
        return Action.CREDIT_UNALLOCATED
    return Action.CREDIT


def label(cancellation: CancellationRecord) -> str:
    return f"Invoice {cancellation.invoice_number}" if cancellation.invoice_number else "Invoice"


def message(cancellation: CancellationRecord, errors: str = "") -> str:
    """What the sync history says of a settled cancellation (its outcome recorded)."""
    outcome = CancellationOutcome(str(cancellation.outcome))
    return MESSAGES[outcome].format(
        label=label(cancellation), errors=f": {errors}" if errors else ""
    )


def credit_reference(cancellation: CancellationRecord, invoice: Invoice) -> str:
    """The Reference of the credit note: how a retry finds one created before."""
    return f"Cancellation of {invoice.invoice_number or cancellation.invoice_number}"


def earlier_credit_note(notes: Iterable[CreditNote]) -> str | None:
    """The credit note an interrupted attempt created, if it is still live."""
    live = [note for note in notes if note.status not in GONE]
    return str(live[0].credit_note_id) if live else None


def allocation(invoice: Invoice) -> float | None:
    """How much of the credit note to allocate to the invoice (None: nothing is due)."""
    due = float(invoice.amount_due or 0)
    return due if due > 0 else None


def credit_note_for(invoice: Invoice, reference: str, today: date) -> JSON:
    """A credit note for the invoice's full amount: its lines, as Xero holds them."""
    lines = [
        {key: value for key, value in line.to_xero().items() if key in _CREDIT_LINE_FIELDS}
        for line in invoice.line_items or []
    ]
    contact = invoice.contact or Contact()
    return {
        "Type": "ACCRECCREDIT",
        "Contact": {"ContactID": contact.contact_id},
        "Date": today.isoformat(),
        "LineAmountTypes": invoice.line_amount_types or LineAmountTypes.EXCLUSIVE,
        "CurrencyCode": invoice.currency_code,
        "Reference": reference,
        "Status": "AUTHORISED",
        "LineItems": lines,
    }
