"""Earlier attempts, decided: which ready invoices an earlier run already sent (the export
ledger), how those a crash left `pending` are found in Xero, which known ones are linked instead
of created again, and what Xero answered a re-sent request. Pure: no I/O, no clock (see `plan`
for the rest of the export's decisions)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from dxc_shared.clients.xero_accounting import ElementResult
from dxc_shared.xero import documents as xero

from invoice_sync.connector.records import ConnectorSettings
from invoice_sync.invoices import mapping
from invoice_sync.invoices.plan import Link
from invoice_sync.invoices.records import Customer, Invoice
from invoice_sync.ledger.models import ExportState

# Xero statuses of an invoice that is no more
GONE = frozenset({xero.InvoiceStatus.DELETED, xero.InvoiceStatus.VOIDED})


class LedgerEntry(Protocol):
    """What the plan reads of an export ledger row."""

    @property
    def state(self) -> str: ...

    @property
    def xero_invoice_id(self) -> str | None: ...


@dataclass(frozen=True)
class Reconciliation:
    """The ready invoices against the ledger."""

    new: list[Invoice]  # never sent: to create
    known: dict[str, str]  # sent and answered: invoice id -> Xero invoice id
    pending: list[Invoice]  # sent, no answer recorded (a crash): look for it in Xero
    told: set[str] = field(default_factory=set)  # known, and Dynamics showed it


def reconcile(invoices: Sequence[Invoice], entries: Mapping[str, LedgerEntry]) -> Reconciliation:
    result = Reconciliation([], {}, [])
    for invoice in invoices:
        entry = entries.get(invoice.id)
        if entry is None and invoice.xero_invoice_id:  # exported before the ledger kept it
            result.known[invoice.id] = invoice.xero_invoice_id
            result.told.add(invoice.id)
        elif entry is None:
            result.new.append(invoice)
        elif entry.state != ExportState.PENDING and entry.xero_invoice_id:
            result.known[invoice.id] = entry.xero_invoice_id
            if entry.state == ExportState.WRITTEN_BACK:
                result.told.add(invoice.id)
        else:
            result.pending.append(invoice)
    return result


@dataclass(frozen=True)
class RecoveryLookup:
    """How to look for `pending` invoices in Xero: by the Reference they were sent with (Xero
    numbers them) or by their InvoiceNumber (Dynamics numbers them)."""

    keys: dict[str, str]  # invoice id -> its Reference or InvoiceNumber
    by_reference: bool

    def key_of(self, element: xero.Invoice) -> str:
        """The key an invoice Xero holds carries: its Reference or its InvoiceNumber."""
        return (element.reference if self.by_reference else element.invoice_number) or ""


def recovery_lookup(
    pending: Sequence[Invoice], settings: ConnectorSettings, mappings: Mapping[str, str]
) -> RecoveryLookup:
    return RecoveryLookup(
        {invoice.id: mapping.recovery_key(invoice, settings, mappings) for invoice in pending},
        by_reference=settings.use_xero_invoice_number,
    )


def _same_customer(element: xero.Invoice, customer: Customer | None) -> bool:
    contact = element.contact or xero.Contact()
    return customer is not None and (
        contact.contact_number == customer.id
        or (customer.xero_contact_id is not None and contact.contact_id == customer.xero_contact_id)
    )


def match(
    key: str,
    found: Sequence[xero.Invoice],
    lookup: RecoveryLookup,
    taken: set[str],
    customer: Customer | None,
) -> str | None:
    """The Xero invoice a pending invoice became: a live sales invoice carrying its key, not
    claimed by another invoice, the customer's own preferred."""
    candidates = [
        element
        for element in found
        if lookup.key_of(element) == key
        and (element.type or xero.InvoiceType.ACCREC) == xero.InvoiceType.ACCREC
        and element.status not in GONE
        and str(element.invoice_id) not in taken
    ]
    preferred = [element for element in candidates if _same_customer(element, customer)]
    chosen = (preferred or candidates)[:1]
    return str(chosen[0].invoice_id) if chosen else None


def recover(
    reconciliation: Reconciliation,
    lookup: RecoveryLookup,
    found: Sequence[xero.Invoice],
    customers: Mapping[str, Customer],
) -> tuple[dict[str, str], list[Invoice]]:
    """The pending invoices found in Xero (added to the known ones: invoice id -> Xero id),
    and those not found (to create)."""
    known = dict(reconciliation.known)
    taken = set(known.values())
    not_found: list[Invoice] = []
    for invoice in reconciliation.pending:
        customer = customers.get(invoice.customer_id or "")
        xero_id = match(lookup.keys[invoice.id], found, lookup, taken, customer)
        if xero_id is None:
            not_found.append(invoice)
        else:
            known[invoice.id] = xero_id
            taken.add(xero_id)
    return known, not_found


def links(
    invoices: Sequence[Invoice], known: Mapping[str, str], in_xero: Mapping[str, xero.Invoice]
) -> tuple[list[Link], list[Invoice]]:
    """Known invoices still in Xero are linked; those deleted or voided there since are wanted
    as a new export (returned to create)."""
    linked: list[Link] = []
    again: list[Invoice] = []
    for invoice in invoices:
        xero_id = known.get(invoice.id)
        if xero_id is None:
            continue
        element = in_xero.get(xero_id)
        if element is None or element.status in GONE:
            again.append(invoice)
            continue
        number = element.invoice_number or xero_id
        linked.append(
            Link(
                invoice,
                element,
                f"Already in Xero from an earlier attempt as {number}; linked instead of "
                "created again.",
            )
        )
    return linked, again


def answered(
    invoice_ids: Sequence[str], results: Sequence[ElementResult[xero.Invoice]]
) -> tuple[dict[str, tuple[str, str | None]], list[str]]:
    """Xero's answer to a re-sent request, for the ledger: the invoices it holds (invoice id ->
    (Xero invoice id, number)) and those it refused."""
    created: dict[str, tuple[str, str | None]] = {}
    refused_ids: list[str] = []
    for invoice_id, element in zip(invoice_ids, results, strict=False):
        if element.ok:
            created[invoice_id] = (
                str(element.element.invoice_id),
                element.element.invoice_number or None,
            )
        else:
            refused_ids.append(invoice_id)
    return created, refused_ids
