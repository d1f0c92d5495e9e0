""" "Update in Xero": what an exported invoice a person set to "Update in Xero" needs, decided
from Dynamics' invoice, the export ledger and Xero's copy. Pure: no I/O, no clock.

Xero lets the API change a DRAFT or SUBMITTED invoice freely, and an AUTHORISED one (its lines,
amounts, dates, reference) while no payment or credit note is allocated to it; a PAID or
VOIDED invoice, or one with allocations, takes no change
(https://developer.xero.com/documentation/api/accounting/invoices). Those are refused here,
before anything is sent, with the reason in words.

Exactly once: each version of the Dynamics invoice is one update with an Idempotency-Key of its
own; the ledger records `updating` before the call and `updated` with Xero's answer, so a retry
after Xero answered only tells Dynamics (`Recorded`), and one after a crash in between re-sends
the same request, which Xero answers from its idempotency cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Protocol

from dxc_shared.dynamics.schema import ExportStatus
from dxc_shared.xero import documents as xero

from invoice_sync.invoices import mapping, plan
from invoice_sync.invoices.mapping import Failure
from invoice_sync.invoices.plan import Create, Decision, Fail, Link, Skip
from invoice_sync.invoices.plan_recovery import LedgerEntry
from invoice_sync.invoices.records import Exported, Invoice
from invoice_sync.ledger.models import ExportState

JSON = dict[str, Any]
UPDATE_HINT = 'Fix it, then set the invoice\'s Xero export status to "Update in Xero" again.'
NEVER_EXPORTED = (
    "Not updated: the invoice was never sent to Xero. Set its Xero export status to No to send it."
)
SEND_AGAIN = "Set its Xero export status to No to send it to Xero again as a new invoice."
_LOCKED = "Xero does not change"


class UpdateEntry(LedgerEntry, Protocol):
    """What an update reads of an export ledger row: also the version it last sent."""

    @property
    def dynamics_version(self) -> str: ...


def is_update(invoice: Invoice) -> bool:
    return invoice.export_status == ExportStatus.UPDATE


def split(invoices: Iterable[Invoice]) -> tuple[list[Invoice], list[Invoice]]:
    """The invoices to export, and those set to "Update in Xero"."""
    exports: list[Invoice] = []
    updates: list[Invoice] = []
    for invoice in invoices:
        (updates if is_update(invoice) else exports).append(invoice)
    return exports, updates


def targets(
    invoices: Sequence[Invoice], entries: Mapping[str, LedgerEntry]
) -> tuple[dict[str, str], list[Fail]]:
    """invoice id -> the Xero invoice its update goes to (the ledger's, else the one Dynamics
    shows); an invoice never exported fails with how to send it."""
    found: dict[str, str] = {}
    never: list[Fail] = []
    for invoice in invoices:
        entry = entries.get(invoice.id)
        xero_id = (entry.xero_invoice_id if entry else None) or invoice.xero_invoice_id
        if xero_id:
            found[invoice.id] = xero_id
        else:
            never.append(Fail(invoice, Failure("update_refused", NEVER_EXPORTED)))
    return found, never


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _number(element: xero.Invoice) -> str | None:
    return element.invoice_number or element.invoice_id


def refusal(element: xero.Invoice | None) -> str | None:
    """Why Xero's invoice takes no update, in words with what to do, or None when it does."""
    if element is None or element.status == xero.InvoiceStatus.DELETED:
        return f"Not updated: the invoice was deleted in Xero. {SEND_AGAIN}"
    number = _number(element)
    status = element.status
    if status == xero.InvoiceStatus.VOIDED:
        return (
            f"Not updated: {number} is voided in Xero, and {_LOCKED} a voided invoice. {SEND_AGAIN}"
        )
    if status == xero.InvoiceStatus.PAID:
        return (
            f"Not updated: {number} is paid in Xero, and {_LOCKED} a paid invoice. Record the "
            "change in Xero (a credit note, or a new invoice for the difference)."
        )
    paid = element.amount_paid or Decimal(0)
    credited = element.amount_credited or Decimal(0)
    if paid or credited:
        allocated = " and ".join(
            words
            for amount, words in (
                (paid, f"payments of {_money(paid)}"),
                (credited, f"credit notes of {_money(credited)}"),
            )
            if amount
        )
        return (
            f"Not updated: {number} has {allocated} allocated in Xero, and {_LOCKED} an invoice "
            "with payments or credit notes allocated. Remove them in Xero first, then set the "
            'Xero export status to "Update in Xero" again.'
        )
    return None


@dataclass(frozen=True)
class Update:
    """Send `body` (the invoice as Xero is to hold it) to Xero's invoice `xero_invoice_id`."""

    invoice: Invoice
    xero_invoice_id: str
    body: JSON


@dataclass(frozen=True)
class Recorded:
    """Xero already took this version's update (the ledger says so): only Dynamics is told."""

    invoice: Invoice
    xero: xero.Invoice


@dataclass(frozen=True)
class Sorted:
    recorded: list[Recorded]
    refused: list[Fail]
    to_send: list[Invoice]  # to map (contacts, items, body) and send


def sort_out(
    invoices: Sequence[Invoice],
    found: Mapping[str, str],
    entries: Mapping[str, UpdateEntry],
    in_xero: Mapping[str, xero.Invoice],
) -> Sorted:
    """The updates Xero already took, those it would refuse (with why) and those to send."""
    result = Sorted([], [], [])
    for invoice in invoices:
        element = in_xero.get(found[invoice.id])
        entry = entries.get(invoice.id)
        if (
            element is not None
            and entry is not None
            and entry.state == ExportState.UPDATED
            and entry.dynamics_version == invoice.version
        ):
            result.recorded.append(Recorded(invoice, element))
        elif (why := refusal(element)) is not None:
            result.refused.append(Fail(invoice, Failure("update_refused", why)))
        else:
            result.to_send.append(invoice)
    return result


def update_body(body: JSON, xero_invoice_id: str) -> JSON:
    """A create's body as an update of `xero_invoice_id`: Xero keeps the invoice's status (an
    update changes its content, not whether it is approved)."""
    return {
        "InvoiceID": xero_invoice_id,
        **{key: value for key, value in body.items() if key != "Status"},
    }


def _hinted(failure: Failure) -> Failure:
    """A failure's advice for an update: set "Update in Xero" again, not No."""
    return Failure(failure.reason, failure.message.replace(mapping.RETRY_HINT, UPDATE_HINT))


def updates(decisions: Sequence[Decision], found: Mapping[str, str]) -> list[Update | Fail | Skip]:
    """The export plan's decisions (see `plan.decide`) for invoices to update: each create
    becomes an update of its Xero invoice; a failure says how to try the update again."""
    result: list[Update | Fail | Skip] = []
    for decision in decisions:
        if isinstance(decision, Create):
            xero_id = found[decision.invoice.id]
            result.append(Update(decision.invoice, xero_id, update_body(decision.body, xero_id)))
        elif isinstance(decision, Fail):
            result.append(Fail(decision.invoice, _hinted(decision.failure)))
        else:
            result.append(decision)
    return result


def already_in_xero(link: Link, xero_web_url: str) -> Exported:
    """An invoice Dynamics showed in Xero already, set back to No: nothing is sent, its Xero
    columns are refreshed and it is told how to send its changes (set "Update in Xero")."""
    number = _number(link.xero)
    message = (
        f"Already in Xero as {number}: nothing was sent again. To send changes made in Dynamics "
        'since, set the Xero export status to "Update in Xero".'
    )
    done = plan.exported(link.invoice, link.xero, xero_web_url, message)
    return replace(done, already_exported=True)


def reconciled(invoice: Invoice, element: xero.Invoice, xero_web_url: str) -> Exported:
    """Xero's copy after the update, checked as a create is (`plan.checked`: Xero's tax on the
    lines, and the difference when the amounts do not match, with how to try the update
    again)."""
    message = f"Updated in Xero as {_number(element)} ({element.status or 'DRAFT'})."
    done = plan.checked(invoice, element, xero_web_url, message)
    if done.mismatch is None:
        return done
    return replace(done, mismatch=done.mismatch.replace(mapping.RETRY_HINT, UPDATE_HINT))


def refused_by_xero(update: Update, errors: Sequence[str]) -> Fail:
    """Xero refused the update: its validation errors in words, and how to try again."""
    return Fail(update.invoice, _hinted(mapping.explain(errors)))
