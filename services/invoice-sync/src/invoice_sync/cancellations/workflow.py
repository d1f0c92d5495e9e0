"""One run's handling of cancelled or deleted exported invoices, exactly once.

Dynamics' change tracking tells each run which invoices changed or were deleted since the last
one. An invoice this connection exported (the export ledger knows its Xero id) that is now
Canceled, or gone, becomes a row of the cancellation ledger, committed before the cursor moves
on. When the delta link had expired, every row is read again, which reports no deletions: the
exports it did not return are asked for by id, and those Dynamics no longer has count as
deleted. Then each pending row is settled against the invoice's state in Xero (see `plan`).

Each step is recorded before the next: `crediting` is committed before the credit note is
created (with an Idempotency-Key, and its Reference looked up first on a retry), its id before it
is allocated, the outcome before the sync history row is written. A redelivered job therefore
never creates a second credit note or allocation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dxc_shared.logging import get_logger
from dxc_shared.messages import SyncFailure
from dxc_shared.xero.documents import Invoice

from invoice_sync.cancellations import plan, steps
from invoice_sync.cancellations.models import Cancellation
from invoice_sync.cancellations.plan import Action, CancellationOutcome, CancellationState
from invoice_sync.connector.records import Connector
from invoice_sync.kit.context import RunContext

logger = get_logger(__name__)


@dataclass
class _Settled:
    cancellation: Cancellation
    message: str
    ok: bool = True


class Cancellations:
    """One run's handling of cancellations for one connection."""

    def __init__(self, run: RunContext, connector: Connector, *, create_credit_notes: bool) -> None:
        self._run = run
        self._connector = connector
        self._create_credit_notes = create_credit_notes

    async def run(self) -> list[SyncFailure]:
        """Notice new cancellations and settle every pending one; returns those that failed,
        for the run's report."""
        await self._notice()
        pending = await steps.unsettled(self._run)
        if not pending:
            return []
        self._run.lease.check()
        settled = await self._settle(pending)
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

    async def _notice(self) -> None:
        changes = await steps.changes_since_last_run(self._run)
        deleted_ids = list(changes.deleted_ids)
        if changes.restarted:
            exported = await steps.exported_not_cancelled(self._run)
            unseen = plan.unseen_exports(changes.rows, exported)
            deleted_ids += await steps.deleted_in_dynamics(self._run, unseen)
        cancelled = plan.cancelled_rows(changes.rows, self._connector.id)
        exports, known = await steps.ledgers_of(self._run, [*cancelled, *deleted_ids])
        noticed = plan.noticed(cancelled, deleted_ids, exports, known)
        await steps.record_noticed(self._run, noticed, changes.delta_link)

    async def _settle(self, pending: Sequence[Cancellation]) -> list[_Settled]:
        """Settled by an earlier run whose sync history write did not happen: written now;
        the others acted on in Xero (deletes together, last)."""
        wanted = plan.needs_xero(pending, self._create_credit_notes)
        in_xero = await steps.invoices_in_xero(self._run, wanted) if wanted else {}
        earlier: list[_Settled] = []
        settled: list[_Settled] = []
        to_delete: list[tuple[Cancellation, Invoice]] = []
        for cancellation in pending:
            invoice = in_xero.get(cancellation.xero_invoice_id)
            action = plan.action_for(
                cancellation, invoice, create_credit_notes=self._create_credit_notes
            )
            if action == Action.HISTORY_ONLY:
                earlier.append(_message_of(cancellation))
            elif action == Action.DELETE:
                assert invoice is not None
                to_delete.append((cancellation, invoice))
            elif action in (Action.CREDIT, Action.CREDIT_UNALLOCATED):
                assert invoice is not None
                settled.append(await self._credit(cancellation, invoice, action))
            else:
                settled.append(await self._acted(cancellation, plan.OUTCOME_OF[action]))
        if to_delete:
            settled.extend(await self._delete(to_delete))
        return earlier + settled

    async def _delete(self, to_delete: Sequence[tuple[Cancellation, Invoice]]) -> list[_Settled]:
        errors = await steps.delete_in_xero(self._run, to_delete)
        settled: list[_Settled] = []
        for (cancellation, _), refused in zip(to_delete, errors, strict=True):
            if refused:
                settled.append(await self._failed(cancellation, "; ".join(refused)))
            else:
                settled.append(await self._acted(cancellation, CancellationOutcome.DELETED))
        return settled

    async def _credit(
        self, cancellation: Cancellation, invoice: Invoice, action: Action
    ) -> _Settled:
        credit_note_id = cancellation.xero_credit_note_id
        if credit_note_id is None:
            reference = plan.credit_reference(cancellation, invoice)
            if cancellation.state == CancellationState.CREDITING:
                earlier = await steps.earlier_credit_notes(self._run, reference)
                credit_note_id = plan.earlier_credit_note(earlier)
            if credit_note_id is None:
                credit_note_id, errors = await steps.create_credit_note(
                    self._run, cancellation, invoice, reference
                )
                if credit_note_id is None:
                    return await self._failed(cancellation, "; ".join(errors))
            await steps.record(self._run, cancellation, xero_credit_note_id=credit_note_id)
        if action == Action.CREDIT and (amount := plan.allocation(invoice)) is not None:
            await steps.allocate(self._run, cancellation, credit_note_id, invoice, amount)
        return await self._acted(cancellation, plan.OUTCOME_OF[action])

    async def _acted(self, cancellation: Cancellation, outcome: CancellationOutcome) -> _Settled:
        await steps.record(self._run, cancellation, state=CancellationState.ACTED, outcome=outcome)
        return _message_of(cancellation)

    async def _failed(self, cancellation: Cancellation, errors: str) -> _Settled:
        await steps.record(
            self._run,
            cancellation,
            state=CancellationState.ACTED,
            outcome=CancellationOutcome.FAILED,
        )
        return _message_of(cancellation, errors)

    async def _write_history(self, settled: Sequence[_Settled]) -> None:
        results = await steps.write_history(
            self._run,
            self._connector,
            [(item.cancellation, item.message, item.ok) for item in settled],
        )
        for item, result in zip(settled, results, strict=True):
            if all(r.ok for r in result):
                await steps.record(self._run, item.cancellation, state=CancellationState.DONE)
            else:
                logger.warning(
                    "invoice_sync.cancellation_history_not_written",
                    invoice_id=item.cancellation.dynamics_invoice_id,
                )


def _message_of(cancellation: Cancellation, errors: str = "") -> _Settled:
    message = plan.message(cancellation, errors)
    return _Settled(cancellation, message, ok=cancellation.outcome != CancellationOutcome.FAILED)
