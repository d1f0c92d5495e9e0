"""The cancellations' steps: each one committed transaction or one vendor call group."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dxc_shared.clients.dataverse import BatchResult, Changes, DataverseError
from dxc_shared.dynamics.columns import InvoiceColumns
from dxc_shared.dynamics.history import history_operation, history_row
from dxc_shared.dynamics.schema import SyncOutcome
from dxc_shared.xero.documents import CreditNote, Invoice
from sqlalchemy import select

from invoice_sync.cancellations.models import Cancellation, ChangeCursor
from invoice_sync.cancellations.plan import (
    TRACKED_COLUMNS,
    CancellationState,
    Noticed,
    credit_note_for,
    label,
)
from invoice_sync.connector.records import Connector
from invoice_sync.kit.context import RunContext
from invoice_sync.kit.time import utcnow
from invoice_sync.ledger.models import InvoiceExport


async def changes_since_last_run(run: RunContext) -> Changes:
    async with run.database.unit_of_work() as session:
        cursor = await session.get(ChangeCursor, run.connection_id)
        delta_link = cursor.delta_link if cursor else None
    return await run.dataverse.changes(
        InvoiceColumns.ENTITY_SET, select=TRACKED_COLUMNS, delta_link=delta_link
    )


async def exported_not_cancelled(run: RunContext) -> list[str]:
    """The invoices this connection exported to Xero that no cancellation records yet."""
    async with run.database.unit_of_work() as session:
        recorded = select(Cancellation.dynamics_invoice_id).where(
            Cancellation.connection_id == run.connection_id
        )
        return list(
            await session.scalars(
                select(InvoiceExport.dynamics_invoice_id).where(
                    InvoiceExport.connection_id == run.connection_id,
                    InvoiceExport.xero_invoice_id.is_not(None),
                    InvoiceExport.dynamics_invoice_id.not_in(recorded),
                )
            )
        )


async def deleted_in_dynamics(run: RunContext, invoice_ids: Sequence[str]) -> list[str]:
    """Those of these invoices Dynamics no longer has: 404 when asked by id (a row the user may
    not read answers 403, and is not deleted)."""
    gone: list[str] = []
    for invoice_id in invoice_ids:
        try:
            await run.dataverse.request(
                "GET",
                f"{InvoiceColumns.ENTITY_SET}({invoice_id})",
                operation="read_invoice",
                params={"$select": InvoiceColumns.ID},
            )
        except DataverseError as error:
            if error.status == 404:
                gone.append(invoice_id)
            elif error.status != 403:
                raise
    return gone


async def ledgers_of(
    run: RunContext, candidates: Sequence[str]
) -> tuple[dict[str, InvoiceExport], set[str]]:
    """The exports (with a Xero id) of these invoices, and those already recorded as
    cancellations."""
    async with run.database.unit_of_work() as session:
        exports = await session.scalars(
            select(InvoiceExport).where(
                InvoiceExport.connection_id == run.connection_id,
                InvoiceExport.dynamics_invoice_id.in_(candidates),
                InvoiceExport.xero_invoice_id.is_not(None),
            )
        )
        known = await session.scalars(
            select(Cancellation.dynamics_invoice_id).where(
                Cancellation.connection_id == run.connection_id,
                Cancellation.dynamics_invoice_id.in_(candidates),
            )
        )
        return {export.dynamics_invoice_id: export for export in exports}, set(known)


async def record_noticed(
    run: RunContext, noticed: Sequence[Noticed], delta_link: str | None
) -> None:
    """Record the new cancellations; the cursor moves on in the same transaction."""
    async with run.database.unit_of_work() as session:
        for item in noticed:
            session.add(
                Cancellation(
                    connection_id=run.connection_id,
                    dynamics_invoice_id=item.dynamics_invoice_id,
                    xero_invoice_id=item.xero_invoice_id,
                    invoice_number=item.invoice_number,
                    deleted_in_dynamics=item.deleted_in_dynamics,
                    state=CancellationState.PENDING,
                )
            )
        if delta_link:
            if cursor := await session.get(ChangeCursor, run.connection_id):
                cursor.delta_link = delta_link
            else:
                session.add(ChangeCursor(connection_id=run.connection_id, delta_link=delta_link))


async def unsettled(run: RunContext) -> list[Cancellation]:
    async with run.database.unit_of_work() as session:
        return list(
            await session.scalars(
                select(Cancellation)
                .where(
                    Cancellation.connection_id == run.connection_id,
                    Cancellation.state != CancellationState.DONE,
                )
                .order_by(Cancellation.created_at)
            )
        )


async def record(run: RunContext, cancellation: Cancellation, **values: Any) -> None:
    """Commit how far a cancellation got (and keep the loaded copy in step)."""
    async with run.database.unit_of_work() as session:
        row = await session.get(Cancellation, (run.connection_id, cancellation.dynamics_invoice_id))
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
            setattr(cancellation, name, value)


async def invoices_in_xero(run: RunContext, xero_ids: Sequence[str]) -> dict[str, Invoice]:
    return {str(invoice.invoice_id): invoice for invoice in await run.xero.invoices(ids=xero_ids)}


async def delete_in_xero(
    run: RunContext, to_delete: Sequence[tuple[Cancellation, Invoice]]
) -> list[list[str]]:
    """Delete the invoices in Xero; each one's errors (none: deleted)."""
    await run.lease.hold_for_write()
    results = await run.xero.update_invoices(
        [{"InvoiceID": invoice.invoice_id, "Status": "DELETED"} for _, invoice in to_delete],
        idempotency_key=f"dxc-delete-{run.connection_id}-"
        + "-".join(c.dynamics_invoice_id[:8] for c, _ in to_delete)[:80],
    )
    return [result.errors for result in results]


async def earlier_credit_notes(run: RunContext, reference: str) -> list[CreditNote]:
    return await run.xero.credit_notes_with_references([reference])


async def create_credit_note(
    run: RunContext, cancellation: Cancellation, invoice: Invoice, reference: str
) -> tuple[str | None, list[str]]:
    """`crediting` committed first, then the credit note (with an Idempotency-Key): its id, or
    Xero's errors."""
    await record(run, cancellation, state=CancellationState.CREDITING)
    await run.lease.hold_for_write()
    [result] = await run.xero.create_credit_notes(
        [credit_note_for(invoice, reference, utcnow().date())],
        idempotency_key=f"dxc-credit-{run.connection_id}-{cancellation.dynamics_invoice_id}",
    )
    if not result.ok:
        return None, result.errors
    return str(result.element.credit_note_id), []


async def allocate(
    run: RunContext,
    cancellation: Cancellation,
    credit_note_id: str,
    invoice: Invoice,
    amount: float,
) -> None:
    await run.lease.hold_for_write()
    await run.xero.allocate_credit_note(
        credit_note_id,
        invoice_id=str(invoice.invoice_id),
        amount=amount,
        date=utcnow().date().isoformat(),
        idempotency_key=f"dxc-allocate-{run.connection_id}-{cancellation.dynamics_invoice_id}",
    )


async def write_history(
    run: RunContext, connector: Connector, settled: Sequence[tuple[Cancellation, str, bool]]
) -> list[list[BatchResult]]:
    """A sync history row per settled cancellation (cancellation, message, ok)."""
    now = utcnow()
    change_sets = [
        [
            history_operation(
                history_row(
                    connector_id=connector.id,
                    label=label(cancellation),
                    outcome=SyncOutcome.SUCCESS if ok else SyncOutcome.FAILED,
                    message=message,
                    occurred_on=now,
                    # a deleted invoice can't be linked to
                    invoice_id=None
                    if cancellation.deleted_in_dynamics
                    else cancellation.dynamics_invoice_id,
                )
            )
        ]
        for cancellation, message, ok in settled
    ]
    run.lease.check()
    return await run.dataverse.batch(change_sets)
