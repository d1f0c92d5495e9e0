"""The change writer: the one step both the polling job and the webhook path end in.

Given the Xero invoice ids that changed (and, from polling, the invoices already read), it
finds the Dynamics invoices exported to them (in bulk), reads from Xero only the ones that are
there and not read yet (by ids, one call per 50), and writes what `decisions.plan_invoices`
decides in one `$batch`, a change set per invoice (with its sync history row, if any, under the
connection's connector record); then the balances of the accounts and
contacts linked to those invoices' Xero contacts (`decisions.balance_patches`).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dxc_shared.clients.dataverse import JSON, BatchResult
from dxc_shared.dynamics.columns import AccountColumns, InvoiceColumns
from dxc_shared.logging import get_logger
from dxc_shared.sync import RunReport, Vendors, raise_if_transient
from dxc_shared.xero.documents import Invoice

from payment_sync.metrics import BALANCES_UPDATED, INVOICES_UPDATED
from payment_sync.payments import repository
from payment_sync.payments.decisions import (
    BalancePatch,
    InvoiceChange,
    InvoicePatch,
    balance_patches,
    plan_invoices,
    receivables_of,
)
from payment_sync.payments.schemas import XeroChanges
from payment_sync.reference.repository import connector_row_id

logger = get_logger(__name__)

ShortCode = Callable[[], Awaitable[str | None]]
COUNTED = (
    InvoiceChange.STATUS,
    InvoiceChange.AMOUNT_DUE,
    InvoiceChange.PAID,
    InvoiceChange.CANCELED,
)


@dataclass
class ChangeWriter:
    """One run's writer: the run's vendor clients, its connection, and where the invoices' Xero
    deep links point (`web_url`, and the organisation's short code, asked for when needed)."""

    vendors: Vendors
    connection_id: uuid.UUID
    web_url: str
    short_code: ShortCode
    _connector_id: str | None = field(default=None, init=False)

    async def write_back(self, changes: XeroChanges, report: RunReport) -> None:
        contact_ids = set(changes.contact_ids)
        if changes.invoice_ids:
            contact_ids |= await self._invoices(changes, report)
        if contact_ids:
            await self._balances(contact_ids, report)

    async def refresh_all_balances(self, report: RunReport) -> None:
        """Every linked account's and contact's balances, changed in Xero or not: an invoice
        falls overdue with time alone, without any change Xero would report."""
        await self._balances(None, report)

    # -- invoices --------------------------------------------------------------------------

    async def _invoices(self, changes: XeroChanges, report: RunReport) -> set[str]:
        """Write the invoices; returns the Xero contacts of the invoices read."""
        rows = await repository.invoices_exported_to(self.vendors.dataverse, changes.invoice_ids)
        if not rows:
            return set()
        read = await self._read(rows, dict(changes.invoices_read or {}))
        short_code = await self.short_code()
        before = (report.succeeded, len(report.failures))
        contacts: set[str] = set()
        # Each invoice's writes carry the ETag it was read with: one that changed meanwhile (a
        # person's edit, another worker marking it Paid) is read again and written once more.
        for last_round in (False, True):
            plan = plan_invoices(rows, read, self.web_url, short_code)
            contacts |= plan.contact_ids
            conflicted = await self._write_invoices(plan.patches, report, last_round=last_round)
            if not conflicted:
                break
            rows = await repository.invoices_exported_to(self.vendors.dataverse, conflicted)
        logger.info(
            "payment_sync.invoices_written",
            written=report.succeeded - before[0],
            failed=len(report.failures) - before[1],
        )
        return contacts

    async def _read(self, rows: list[JSON], read: dict[str, Invoice]) -> dict[str, Invoice]:
        """The Xero invoices of `rows`, reading only those not read yet."""
        exported = {str(row[InvoiceColumns.XERO_INVOICE_ID]).lower() for row in rows}
        unread = sorted(exported - set(read))
        if unread:
            for fetched in await self.vendors.xero.invoices(ids=unread):
                read[str(fetched.invoice_id).lower()] = fetched
        return read

    async def _write_invoices(
        self, patches: list[InvoicePatch], report: RunReport, *, last_round: bool
    ) -> list[str]:
        """Write the patches; returns the Xero ids of the invoices changed meanwhile (in the
        last round, those are failures too)."""
        if not patches:
            return []
        connector_id = await self._connector() if any(p.note for p in patches) else None
        now = datetime.now(UTC)
        results = await self.vendors.dataverse.batch(
            [patch.operations(connector_id, now) for patch in patches]
        )
        raise_if_transient(results)
        conflicted: list[str] = []
        for patch, result in zip(patches, results, strict=True):
            failed = next((r for r in result if not r.ok), None)
            if failed is None:
                report.succeeded += 1
                for change in set(COUNTED) & set(patch.changes):
                    INVOICES_UPDATED.labels(change.value).inc()
            elif failed.status == 412 and not last_round:
                conflicted.append(patch.xero_invoice_id)
            else:
                report.fail(
                    patch.invoice_id,
                    patch.row.get(InvoiceColumns.NUMBER),
                    f"Xero invoice {patch.invoice.invoice_number or ''} could not be "
                    f"written to this invoice: {failed.error_message}",
                )
        return conflicted

    async def _connector(self) -> str:
        """The connection's connector record, which sync history rows belong to (read once)."""
        if self._connector_id is None:
            self._connector_id = await connector_row_id(self.vendors.dataverse, self.connection_id)
        return self._connector_id

    # -- balances --------------------------------------------------------------------------

    async def _balances(self, contact_ids: set[str] | None, report: RunReport) -> None:
        """The balances of the customers linked to `contact_ids` (None: to any Xero contact;
        those of another organisation are not found in this one and stay as they are)."""
        customers = await repository.customers_linked_to(self.vendors.dataverse, contact_ids)
        if not customers:
            return
        linked = sorted({str(row[AccountColumns.XERO_CONTACT_ID]).lower() for _, row in customers})
        receivables = receivables_of(await self.vendors.xero.contacts(linked))
        patches = balance_patches(customers, receivables)
        if not patches:
            return
        results = await self.vendors.dataverse.batch([[patch.operation()] for patch in patches])
        raise_if_transient(results)
        for patch, [result] in zip(patches, results, strict=True):
            _report_balance(patch, result, report)


def _report_balance(patch: BalancePatch, result: BatchResult, report: RunReport) -> None:
    if result.ok:
        report.succeeded += 1
        BALANCES_UPDATED.inc()
    else:
        report.fail(
            patch.row_id,
            None,
            f"The Xero balances could not be written to this {patch.table.label}: "
            f"{result.error_message}",
        )
