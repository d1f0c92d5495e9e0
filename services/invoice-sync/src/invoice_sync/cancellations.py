"""Cancelled or deleted exported invoices: what happens to them in Xero, exactly once.

Dynamics' change tracking tells each run which invoices changed or were deleted since the last
one. An invoice this connection exported (the export ledger knows its Xero id) that is now
Canceled, or gone, becomes a row of the cancellation ledger, committed before the cursor moves
on; then each pending row is settled against the invoice's state in Xero:

- creating credit notes automatically is off: nothing in Xero, a sync history row says so;
- DRAFT / SUBMITTED: deleted in Xero;
- AUTHORISED, nothing paid: a credit note for the full amount, allocated to the invoice;
- AUTHORISED, part paid: the credit note, not allocated, and a sync history row asking a person
  to allocate it;
- PAID: nothing changed; sync history "The invoice is fully paid in Xero".

Each step is recorded before the next: `crediting` is committed before the credit note is
created (with an Idempotency-Key, and its Reference looked up first on a retry), its id before it
is allocated, the outcome before the sync history row is written. A redelivered job therefore
never creates a second credit note or allocation.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dxc_shared.clients.dataverse import BatchOperation
from dxc_shared.clients.xero_accounting import XeroAccountingClient
from dxc_shared.db import Database
from dxc_shared.dynamics.schema import (
    CONNECTOR,
    HISTORY_CONNECTOR,
    HISTORY_INVOICE,
    INVOICE,
    INVOICE_CONNECTOR,
    SYNC_HISTORY,
    ExportStatus,
    SyncOutcome,
)
from dxc_shared.logging import get_logger
from dxc_shared.messages import SyncFailure
from sqlalchemy import select

from invoice_sync.dynamics import Connector, DynamicsGateway
from invoice_sync.lease import Lease
from invoice_sync.models import Cancellation, ChangeCursor, InvoiceExport

logger = get_logger(__name__)

JSON = dict[str, Any]
CANCELED = 3  # the invoice's statecode
_TRACKED_COLUMNS = (
    "invoiceid",
    "invoicenumber",
    "statecode",
    "dxc_exportstatus",
    "dxc_xeroinvoiceid",
    INVOICE_CONNECTOR.value_property,
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


@dataclass
class _Settled:
    cancellation: Cancellation
    message: str
    ok: bool = True


def _label(cancellation: Cancellation) -> str:
    return f"Invoice {cancellation.invoice_number}" if cancellation.invoice_number else "Invoice"


class Cancellations:
    """One run's handling of cancellations for one connection."""

    def __init__(
        self,
        database: Database,
        connection_id: uuid.UUID,
        gateway: DynamicsGateway,
        xero: XeroAccountingClient,
        connector: Connector,
        lease: Lease,
        *,
        create_credit_notes: bool,
    ) -> None:
        self._database = database
        self._connection_id = connection_id
        self._gateway = gateway
        self._xero = xero
        self._connector = connector
        self._lease = lease
        self._create_credit_notes = create_credit_notes

    async def run(self) -> list[SyncFailure]:
        """Notice new cancellations and settle every pending one; returns those that failed,
        for the run's report."""
        await self._notice()
        pending = await self._unsettled()
        if not pending:
            return []
        self._lease.check()
        # Settled by an earlier run whose sync history write did not happen: write it now.
        settled = [_message_of(c) for c in pending if c.state == CancellationState.ACTED]
        to_act = [c for c in pending if c.state != CancellationState.ACTED]
        if to_act and self._create_credit_notes:
            settled += await self._settle_in_xero(to_act)
        else:
            settled += [await self._acted(c, CancellationOutcome.LEFT_ALONE) for c in to_act]
        await self._write_history(settled)
        return [
            SyncFailure(
                record_id=item.cancellation.dynamics_invoice_id,
                record_number=item.cancellation.invoice_number,
                message=item.message,
            )
            for item in settled
            if not item.ok
        ]

    # -- noticing ----------------------------------------------------------------------------

    async def _notice(self) -> None:
        async with self._database.unit_of_work() as session:
            cursor = await session.get(ChangeCursor, self._connection_id)
            delta_link = cursor.delta_link if cursor else None
        changes = await self._gateway.client.changes(
            INVOICE.entity_set, select=_TRACKED_COLUMNS, delta_link=delta_link
        )
        cancelled = {
            str(row["invoiceid"]): row
            for row in changes.rows
            if row.get("statecode") == CANCELED
            and row.get("dxc_exportstatus") == ExportStatus.YES.value
            and row.get("dxc_xeroinvoiceid")
            and str(row.get(INVOICE_CONNECTOR.value_property)) == self._connector.id
        }
        candidates = [*cancelled, *changes.deleted_ids]
        async with self._database.unit_of_work() as session:
            exports = {
                export.dynamics_invoice_id: export
                for export in await session.scalars(
                    select(InvoiceExport).where(
                        InvoiceExport.connection_id == self._connection_id,
                        InvoiceExport.dynamics_invoice_id.in_(candidates),
                        InvoiceExport.xero_invoice_id.is_not(None),
                    )
                )
            }
            known = set(
                await session.scalars(
                    select(Cancellation.dynamics_invoice_id).where(
                        Cancellation.connection_id == self._connection_id,
                        Cancellation.dynamics_invoice_id.in_(candidates),
                    )
                )
            )
            for invoice_id in candidates:
                export = exports.get(invoice_id)
                row = cancelled.get(invoice_id)
                xero_id = (row or {}).get("dxc_xeroinvoiceid") or (
                    export and export.xero_invoice_id
                )
                if invoice_id in known or not xero_id or (row is None and export is None):
                    continue
                session.add(
                    Cancellation(
                        connection_id=self._connection_id,
                        dynamics_invoice_id=invoice_id,
                        xero_invoice_id=str(xero_id),
                        invoice_number=(row or {}).get("invoicenumber")
                        or (export.xero_invoice_number if export else None),
                        deleted_in_dynamics=row is None,
                        state=CancellationState.PENDING,
                    )
                )
            # The cursor moves on in the same transaction that records what it saw.
            if changes.delta_link:
                if cursor := await session.get(ChangeCursor, self._connection_id):
                    cursor.delta_link = changes.delta_link
                else:
                    session.add(
                        ChangeCursor(
                            connection_id=self._connection_id, delta_link=changes.delta_link
                        )
                    )

    async def _unsettled(self) -> list[Cancellation]:
        async with self._database.unit_of_work() as session:
            return list(
                await session.scalars(
                    select(Cancellation)
                    .where(
                        Cancellation.connection_id == self._connection_id,
                        Cancellation.state != CancellationState.DONE,
                    )
                    .order_by(Cancellation.created_at)
                )
            )

    # -- settling in Xero ----------------------------------------------------------------------

    async def _settle_in_xero(self, to_act: Sequence[Cancellation]) -> list[_Settled]:
        settled: list[_Settled] = []
        invoices = {
            str(invoice["InvoiceID"]): invoice
            for invoice in await self._xero.invoices(ids=[c.xero_invoice_id for c in to_act])
        }
        to_delete: list[tuple[Cancellation, JSON]] = []
        for cancellation in to_act:
            invoice = invoices.get(cancellation.xero_invoice_id)
            status = (invoice or {}).get("Status")
            if invoice is None or status in ("DELETED", "VOIDED"):
                settled.append(await self._acted(cancellation, CancellationOutcome.ALREADY_GONE))
            elif status in ("DRAFT", "SUBMITTED"):
                to_delete.append((cancellation, invoice))
            elif status == "PAID":
                settled.append(await self._acted(cancellation, CancellationOutcome.FULLY_PAID))
            else:
                settled.append(await self._credit(cancellation, invoice))
        if to_delete:
            settled.extend(await self._delete(to_delete))
        return settled

    async def _delete(self, to_delete: Sequence[tuple[Cancellation, JSON]]) -> list[_Settled]:
        self._lease.check()
        results = await self._xero.update_invoices(
            [{"InvoiceID": invoice["InvoiceID"], "Status": "DELETED"} for _, invoice in to_delete],
            idempotency_key=f"dxc-delete-{self._connection_id}-"
            + "-".join(c.dynamics_invoice_id[:8] for c, _ in to_delete)[:80],
        )
        settled: list[_Settled] = []
        for (cancellation, _), result in zip(to_delete, results, strict=True):
            if result.ok:
                settled.append(await self._acted(cancellation, CancellationOutcome.DELETED))
            else:
                settled.append(await self._failed(cancellation, "; ".join(result.errors)))
        return settled

    async def _credit(self, cancellation: Cancellation, invoice: JSON) -> _Settled:
        reference = f"Cancellation of {invoice.get('InvoiceNumber') or cancellation.invoice_number}"
        part_paid = float(invoice.get("AmountPaid") or 0) > 0
        credit_note_id = cancellation.xero_credit_note_id
        if credit_note_id is None:
            if cancellation.state == CancellationState.CREDITING:
                earlier = await self._xero.credit_notes_with_references([reference])
                matching = [
                    note for note in earlier if note.get("Status") not in ("DELETED", "VOIDED")
                ]
                if matching:
                    credit_note_id = str(matching[0]["CreditNoteID"])
            if credit_note_id is None:
                await self._set(cancellation, state=CancellationState.CREDITING)
                self._lease.check()
                [result] = await self._xero.create_credit_notes(
                    [_credit_note_for(invoice, reference)],
                    idempotency_key=f"dxc-credit-{self._connection_id}-"
                    f"{cancellation.dynamics_invoice_id}",
                )
                if not result.ok:
                    return await self._failed(cancellation, "; ".join(result.errors))
                credit_note_id = str(result.element["CreditNoteID"])
            await self._set(cancellation, xero_credit_note_id=credit_note_id)
        if part_paid:
            return await self._acted(cancellation, CancellationOutcome.CREDITED_UNALLOCATED)
        if float(invoice.get("AmountDue") or 0) > 0:
            self._lease.check()
            await self._xero.allocate_credit_note(
                credit_note_id,
                invoice_id=str(invoice["InvoiceID"]),
                amount=float(invoice["AmountDue"]),
                date=datetime.now(UTC).date().isoformat(),
                idempotency_key=f"dxc-allocate-{self._connection_id}-"
                f"{cancellation.dynamics_invoice_id}",
            )
        return await self._acted(cancellation, CancellationOutcome.CREDITED)

    # -- recording -----------------------------------------------------------------------------

    async def _set(self, cancellation: Cancellation, **values: Any) -> None:
        async with self._database.unit_of_work() as session:
            row = await session.get(
                Cancellation, (self._connection_id, cancellation.dynamics_invoice_id)
            )
            assert row is not None
            for name, value in values.items():
                setattr(row, name, value)
                setattr(cancellation, name, value)

    async def _acted(self, cancellation: Cancellation, outcome: CancellationOutcome) -> _Settled:
        await self._set(cancellation, state=CancellationState.ACTED, outcome=outcome)
        return _message_of(cancellation)

    async def _failed(self, cancellation: Cancellation, errors: str) -> _Settled:
        await self._set(
            cancellation, state=CancellationState.ACTED, outcome=CancellationOutcome.FAILED
        )
        return _message_of(cancellation, errors)

    async def _write_history(self, settled: Sequence[_Settled]) -> None:
        now = datetime.now(UTC)
        change_sets = [
            [BatchOperation("POST", SYNC_HISTORY.entity_set, self._history(item, now))]
            for item in settled
        ]
        self._lease.check()
        results = await self._gateway.client.batch(change_sets)
        for item, result in zip(settled, results, strict=True):
            if all(r.ok for r in result):
                await self._set(item.cancellation, state=CancellationState.DONE)
            else:
                logger.warning(
                    "invoice_sync.cancellation_history_not_written",
                    invoice_id=item.cancellation.dynamics_invoice_id,
                )

    def _history(self, item: _Settled, now: datetime) -> JSON:
        cancellation = item.cancellation
        message = item.message
        row: JSON = {
            SYNC_HISTORY.primary_name.logical_name: f"{_label(cancellation)}: {message}"[:200],
            "dxc_occurredon": now.isoformat(),
            "dxc_outcome": (SyncOutcome.SUCCESS if item.ok else SyncOutcome.FAILED).value,
            "dxc_message": message[:4000],
            **HISTORY_CONNECTOR.bind(CONNECTOR.entity_set, self._connector.id),
        }
        if not cancellation.deleted_in_dynamics:  # a deleted invoice can't be linked to
            row |= HISTORY_INVOICE.bind(INVOICE.entity_set, cancellation.dynamics_invoice_id)
        return row


def _message_of(cancellation: Cancellation, errors: str = "") -> _Settled:
    outcome = CancellationOutcome(str(cancellation.outcome))
    message = MESSAGES[outcome].format(
        label=_label(cancellation), errors=f": {errors}" if errors else ""
    )
    return _Settled(cancellation, message, ok=outcome != CancellationOutcome.FAILED)


def _credit_note_for(invoice: JSON, reference: str) -> JSON:
    """A credit note for the invoice's full amount: its lines, as Xero holds them."""
    lines = [
        {
            key: line[key]
            for key in (
                "Description",
                "Quantity",
                "UnitAmount",
                "ItemCode",
                "AccountCode",
                "TaxType",
                "DiscountRate",
                "LineAmount",
            )
            if line.get(key) is not None
        }
        for line in invoice.get("LineItems") or []
    ]
    return {
        "Type": "ACCRECCREDIT",
        "Contact": {"ContactID": invoice["Contact"]["ContactID"]},
        "Date": datetime.now(UTC).date().isoformat(),
        "LineAmountTypes": invoice.get("LineAmountTypes", "Exclusive"),
        "CurrencyCode": invoice.get("CurrencyCode"),
        "Reference": reference,
        "Status": "AUTHORISED",
        "LineItems": lines,
    }
