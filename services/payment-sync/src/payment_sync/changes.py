"""Xero -> Dynamics 365 for invoices and customer balances: the one handler both the polling
job and the webhook path end in.

Given the Xero invoice ids that changed (and, from polling, the invoices already read), it
finds the Dynamics invoices exported to them (by `dxc_XeroInvoiceId`, in bulk), reads from Xero
only the ones that are there and not read yet (by ids, one call per 50), and writes what differs
in one `$batch`: status, number, tax, amount due and the deep link, then, for an invoice Xero
shows fully paid, Paid (statecode 2 / statuscode 100001) in the same change set, after the
columns, because a Paid invoice is read-only. Then the outstanding and overdue receivables of
the accounts and contacts linked to those invoices' Xero contacts.

Writing only what differs makes it idempotent: a redelivered job or webhook, or the overlap of
a polling window, writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from dxc_shared.clients.dataverse import JSON, BatchOperation, DataverseClient
from dxc_shared.clients.xero_accounting import XeroAccountingClient
from dxc_shared.dynamics import schema
from dxc_shared.logging import get_logger
from dxc_shared.messages import SyncFailure

from payment_sync.dynamics import (
    WriteOutcome,
    changed_columns,
    check_transient,
    patch,
    rows_where_in,
)
from payment_sync.metrics import BALANCES_UPDATED, INVOICES_UPDATED

logger = get_logger(__name__)

ACTIVE, PAID, CANCELED = 0, 2, 3
PAID_COMPLETE = 100001
NEW = 1

INVOICE_COLUMNS = (
    "invoiceid",
    "invoicenumber",
    "statecode",
    "statuscode",
    "dxc_xeroinvoiceid",
    "dxc_xerostatus",
    "dxc_xeroinvoicenumber",
    "dxc_xerototaltax",
    "dxc_amountdue",
    "dxc_xerourl",
)
BALANCE_COLUMNS = ("dxc_xerocontactid", "dxc_outstandingbalance", "dxc_overduebalance")

ShortCode = Callable[[], Awaitable[str | None]]


def deep_link(web_url: str, short_code: str | None, invoice: JSON) -> str | None:
    """Xero's link that opens the invoice in the right organisation."""
    if not short_code:
        return None
    target = f"/AccountsReceivable/View.aspx?InvoiceID={invoice['InvoiceID']}"
    return (
        f"{web_url.rstrip('/')}/organisationlogin/default.aspx"
        f"?shortcode={quote(short_code)}&redirecturl={quote(target, safe='/?=')}"
    )


def fully_paid(invoice: JSON) -> bool:
    return invoice.get("Status") == "PAID" and Decimal(str(invoice.get("AmountDue", 0))) == 0


@dataclass(frozen=True)
class XeroChanges:
    """What changed in one Xero organisation: invoice ids, contact ids, and invoices already
    read (by the polling path), keyed by lower-case id."""

    invoice_ids: frozenset[str]
    contact_ids: frozenset[str] = frozenset()
    invoices_read: Mapping[str, JSON] | None = None

    @classmethod
    def of(
        cls,
        invoice_ids: Collection[str] = (),
        contact_ids: Collection[str] = (),
        invoices_read: Collection[JSON] = (),
    ) -> XeroChanges:
        read = {str(invoice["InvoiceID"]).lower(): invoice for invoice in invoices_read}
        return cls(
            frozenset(i.lower() for i in invoice_ids) | frozenset(read),
            frozenset(c.lower() for c in contact_ids),
            read,
        )


class ChangeWriter:
    def __init__(
        self,
        xero: XeroAccountingClient,
        dataverse: DataverseClient,
        *,
        web_url: str,
        short_code: ShortCode,
    ) -> None:
        self._xero = xero
        self._dataverse = dataverse
        self._web_url = web_url
        self._short_code = short_code

    async def write_back(self, changes: XeroChanges) -> WriteOutcome:
        outcome = WriteOutcome()
        contact_ids = set(changes.contact_ids)
        if changes.invoice_ids:
            invoices_outcome, invoice_contacts = await self._invoices(changes)
            outcome.add(invoices_outcome)
            contact_ids |= invoice_contacts
        if contact_ids:
            outcome.add(await self._balances(contact_ids))
        return outcome

    # -- invoices --------------------------------------------------------------------------

    async def _invoices(self, changes: XeroChanges) -> tuple[WriteOutcome, set[str]]:
        rows = await self._invoice_rows(changes.invoice_ids)
        if not rows:
            return WriteOutcome(), set()
        exported = {str(row["dxc_xeroinvoiceid"]).lower() for row in rows}
        read = dict(changes.invoices_read or {})
        unread = sorted(exported - set(read))
        if unread:
            for fetched in await self._xero.invoices(ids=unread):
                read[str(fetched["InvoiceID"]).lower()] = fetched
        short_code = await self._short_code()

        outcome, contacts = WriteOutcome(), set[str]()
        # Each invoice's writes carry the ETag it was read with: one that changed meanwhile (a
        # person's edit, another worker marking it Paid) is read again and written once more.
        for last_round in (False, True):
            conflicted = await self._write_invoices(
                rows, read, short_code, outcome, contacts, report_conflicts=last_round
            )
            if not conflicted:
                break
            rows = await self._invoice_rows(conflicted)
        logger.info(
            "payment_sync.invoices_written",
            written=outcome.succeeded,
            failed=len(outcome.failures),
        )
        return outcome, contacts

    async def _invoice_rows(self, xero_invoice_ids: Iterable[str]) -> list[JSON]:
        return await rows_where_in(
            self._dataverse,
            schema.INVOICE.entity_set,
            "dxc_xeroinvoiceid",
            xero_invoice_ids,
            select=INVOICE_COLUMNS,
        )

    async def _write_invoices(
        self,
        rows: list[JSON],
        read: dict[str, JSON],
        short_code: str | None,
        outcome: WriteOutcome,
        contacts: set[str],
        *,
        report_conflicts: bool,
    ) -> list[str]:
        """Write what differs; returns the Xero ids of the invoices changed meanwhile."""
        change_sets: list[list[BatchOperation]] = []
        written: list[tuple[JSON, JSON, list[str]]] = []
        for row in rows:
            invoice = read.get(str(row["dxc_xeroinvoiceid"]).lower())
            if invoice is None:
                continue  # exported, but no longer in Xero (deleted): cancellations' business
            contact_id = (invoice.get("Contact") or {}).get("ContactID")
            if contact_id:
                contacts.add(str(contact_id).lower())
            operations, kinds = self._invoice_operations(row, invoice, short_code)
            if operations:
                change_sets.append(operations)
                written.append((row, invoice, kinds))
        if not change_sets:
            return []
        results = await self._dataverse.batch(change_sets)
        check_transient(results)
        conflicted: list[str] = []
        for (row, invoice, kinds), result in zip(written, results, strict=True):
            failed = next((r for r in result if not r.ok), None)
            if failed is not None and failed.status == 412 and not report_conflicts:
                conflicted.append(str(row["dxc_xeroinvoiceid"]))
                continue
            if failed is not None:
                outcome.failures.append(
                    SyncFailure(
                        record_id=str(row["invoiceid"]),
                        record_number=row.get("invoicenumber"),
                        message=f"Xero invoice {invoice.get('InvoiceNumber') or ''} could not "
                        f"be written to this invoice: {failed.error_message}",
                    )
                )
                continue
            outcome.succeeded += 1
            for kind in kinds:
                INVOICES_UPDATED.labels(kind).inc()
        return conflicted

    def _invoice_operations(
        self, row: JSON, invoice: JSON, short_code: str | None
    ) -> tuple[list[BatchOperation], list[str]]:
        state = row.get("statecode")
        paid = fully_paid(invoice)
        if state == CANCELED or (state == PAID and paid):
            return [], []  # read-only in Dynamics, and nothing Xero says changes that
        wanted: dict[str, Any] = {
            "dxc_xerostatus": invoice.get("Status"),
            "dxc_xeroinvoicenumber": invoice.get("InvoiceNumber") or None,
            "dxc_xerototaltax": invoice.get("TotalTax"),
            "dxc_amountdue": invoice.get("AmountDue"),
        }
        link = deep_link(self._web_url, short_code, invoice)
        if link:
            wanted["dxc_xerourl"] = link
        changed = changed_columns(row, wanted)
        bodies: list[JSON] = []
        if state == PAID:
            # Xero no longer shows it paid (a payment was removed): reopen, then update.
            bodies.append({"statecode": ACTIVE, "statuscode": NEW})
        if changed:
            bodies.append(changed)
        if paid:
            bodies.append({"statecode": PAID, "statuscode": PAID_COMPLETE})
        # The change set is atomic: its first write, made only if the row is still as it was
        # read, guards the rest.
        etag = str(row.get("@odata.etag", "*"))
        operations = [
            patch(
                schema.INVOICE.entity_set,
                str(row["invoiceid"]),
                body,
                if_match=etag if index == 0 else "*",
            )
            for index, body in enumerate(bodies)
        ]
        kinds = [
            kind
            for kind, happened in (
                ("status", "dxc_xerostatus" in changed),
                ("amount_due", "dxc_amountdue" in changed),
                ("paid", paid),
            )
            if happened
        ]
        return operations, kinds

    # -- balances --------------------------------------------------------------------------

    async def refresh_all_balances(self) -> WriteOutcome:
        """Every linked account's and contact's balances, changed in Xero or not: an invoice
        falls overdue with time alone, without any change Xero would report."""
        return await self._balances(None)

    async def _balances(self, contact_ids: set[str] | None) -> WriteOutcome:
        """The balances of the customers linked to `contact_ids` (None: to any Xero contact;
        those of another organisation are not found in this one and stay as they are)."""
        customers: list[tuple[schema.Table, JSON]] = []
        for table in (schema.ACCOUNT, schema.CONTACT):
            select = (table.primary_id, *BALANCE_COLUMNS)
            if contact_ids is None:
                rows = await self._dataverse.query(
                    table.entity_set, select=select, filter="dxc_xerocontactid ne null"
                )
            else:
                rows = await rows_where_in(
                    self._dataverse,
                    table.entity_set,
                    "dxc_xerocontactid",
                    contact_ids,
                    select=select,
                )
            customers.extend((table, row) for row in rows)
        if not customers:
            return WriteOutcome()
        linked = sorted({str(row["dxc_xerocontactid"]).lower() for _, row in customers})
        balances = {
            str(contact["ContactID"]).lower(): (
                (contact.get("Balances") or {}).get("AccountsReceivable") or {}
            )
            for contact in await self._xero.contacts(linked)
        }
        change_sets: list[list[BatchOperation]] = []
        targets: list[tuple[schema.Table, JSON]] = []
        for table, row in customers:
            receivable = balances.get(str(row["dxc_xerocontactid"]).lower())
            if receivable is None:
                continue
            changed = changed_columns(
                row,
                {
                    "dxc_outstandingbalance": receivable.get("Outstanding", 0),
                    "dxc_overduebalance": receivable.get("Overdue", 0),
                },
            )
            if changed:
                change_sets.append([patch(table.entity_set, str(row[table.primary_id]), changed)])
                targets.append((table, row))
        if not change_sets:
            return WriteOutcome()
        results = await self._dataverse.batch(change_sets)
        check_transient(results)
        outcome = WriteOutcome()
        for (table, row), [result] in zip(targets, results, strict=True):
            if result.ok:
                outcome.succeeded += 1
                BALANCES_UPDATED.inc()
            else:
                outcome.failures.append(
                    SyncFailure(
                        record_id=str(row[table.primary_id]),
                        message=f"The Xero balances could not be written to this "
                        f"{table.label.lower()}: {result.error_message}",
                    )
                )
        return outcome
