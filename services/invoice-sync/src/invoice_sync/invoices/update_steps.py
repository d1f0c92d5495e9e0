"""The steps of "Update in Xero" (see `updates` for the decisions): one Xero update per invoice
version, fenced by the ledger and the lease, deciding nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dxc_shared.clients.xero_accounting import XeroError, XeroUnauthorised

from invoice_sync.invoices import steps, updates
from invoice_sync.invoices.plan import Decision, Fail, Skip
from invoice_sync.invoices.records import Exported, Invoice
from invoice_sync.invoices.updates import Sorted, Update, UpdateEntry
from invoice_sync.kit.context import RunContext
from invoice_sync.kit.idempotency import idempotency_key


async def read_targets(
    run: RunContext, invoices: Sequence[Invoice], entries: Mapping[str, UpdateEntry]
) -> tuple[dict[str, str], Sorted]:
    """Xero's copy of each invoice to update, sorted out (see `updates.sort_out`); those never
    exported are among the refused."""
    found, never = updates.targets(invoices, entries)
    in_xero = await steps.invoices_by_id(run.xero, list(found.values())) if found else {}
    read = updates.sort_out([i for i in invoices if i.id in found], found, entries, in_xero)
    return found, Sorted(read.recorded, [*never, *read.refused], read.to_send)


async def send_updates(
    run: RunContext, read: Sorted, decisions: Sequence[Decision], found: Mapping[str, str]
) -> tuple[list[Exported], list[Fail], list[Skip]]:
    """Each update in turn; with the updates Xero already took, what Dynamics is to be told."""
    exported = [updates.reconciled(r.invoice, r.xero, run.xero_web_url) for r in read.recorded]
    failed = list(read.refused)
    skipped: list[Skip] = []
    for decision in updates.updates(decisions, found):
        if isinstance(decision, Skip):
            skipped.append(decision)
            continue
        done = await send_update(run, decision) if isinstance(decision, Update) else decision
        if isinstance(done, Fail):
            failed.append(done)
        else:
            exported.append(done)
    return exported, failed, skipped


def update_key(update: Update) -> str:
    """One key per version of the Dynamics invoice and the body it makes: a retry of the same
    version sends the same request, which Xero answers from its idempotency cache."""
    invoice = update.invoice
    return idempotency_key("invoice-update", [f"{invoice.id}:{invoice.version}"], [update.body])


async def send_update(run: RunContext, update: Update) -> Exported | Fail:
    """Ledger `updating` (committed, lease-fenced), the Xero update once the lease is proven,
    then Xero's answer in the ledger: `updated`, or back to `written_back` when refused."""
    invoice = update.invoice
    await run.ledger.mark_updating(
        run.connection_id, invoice.id, invoice.version, update.xero_invoice_id
    )
    await run.lease.hold_for_write()
    try:
        results = await run.xero.update_invoices([update.body], idempotency_key=update_key(update))
    except XeroError as error:
        if isinstance(error, XeroUnauthorised):
            raise
        await run.ledger.settle_update(run.connection_id, invoice.id, took=False)
        return updates.refused_by_xero(update, [error.message])
    result = results[0] if results else None
    if result is None or not result.ok:
        await run.ledger.settle_update(run.connection_id, invoice.id, took=False)
        return updates.refused_by_xero(update, result.errors if result else [])
    await run.ledger.settle_update(run.connection_id, invoice.id, took=True)
    return updates.reconciled(invoice, result.element, run.xero_web_url)
