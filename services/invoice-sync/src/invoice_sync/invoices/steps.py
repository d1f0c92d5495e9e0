"""The export's steps: each one vendor call group or one committed ledger transaction, deciding
nothing (the plan decides; see `workflow` for their order)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypeVar

from dxc_shared.clients.dataverse import BatchOperation, BatchResult
from dxc_shared.clients.xero_accounting import (
    ElementResult,
    XeroAccountingClient,
    XeroError,
    XeroUnauthorised,
)
from dxc_shared.logging import get_logger
from dxc_shared.xero.documents import Contact, Invoice, Item, XeroDocument

from invoice_sync.invoices import mapping, plan, plan_recovery
from invoice_sync.invoices.plan import Create, Fail
from invoice_sync.invoices.plan_recovery import RecoveryLookup
from invoice_sync.invoices.records import Customer, Exported, Product
from invoice_sync.kit.context import RunContext
from invoice_sync.kit.idempotency import idempotency_key
from invoice_sync.ledger.exports import XeroRequest
from invoice_sync.metrics import BATCH_SIZE

logger = get_logger(__name__)

JSON = dict[str, Any]
DocumentT = TypeVar("DocumentT", bound=XeroDocument)
XERO_BATCH = 50  # invoices, contacts or items per Xero batch write


async def find_pending(xero: XeroAccountingClient, lookup: RecoveryLookup) -> list[Invoice]:
    """Xero's invoices carrying the keys of invoices a crash left `pending`."""
    keys = list(lookup.keys.values())
    if lookup.by_reference:
        return await xero.invoices_with_references(keys)
    return await xero.invoices(numbers=keys)


async def invoices_by_id(xero: XeroAccountingClient, ids: Sequence[str]) -> dict[str, Invoice]:
    return {str(x.invoice_id): x for x in await xero.invoices(ids=list(ids))}


async def record_in_xero(run: RunContext, exported: Sequence[Exported]) -> None:
    await run.ledger.mark_created(
        run.connection_id, {e.invoice.id: (e.xero_invoice_id, e.xero_number) for e in exported}
    )


async def look_up_contacts(
    xero: XeroAccountingClient, customers: Sequence[Customer]
) -> list[Contact]:
    return await xero.contacts_matching(
        numbers=[c.id for c in customers],
        names=[c.name for c in customers if c.name],
        account_numbers=[c.account_number for c in customers if c.account_number],
    )


class _BatchCreate(Protocol[DocumentT]):
    async def __call__(
        self, bodies: Sequence[JSON], /, *, idempotency_key: str
    ) -> list[ElementResult[DocumentT]]: ...


async def _create_in_batches(
    kind: str,
    records: Sequence[Customer] | Sequence[Product],
    bodies: Sequence[JSON],
    create: _BatchCreate[DocumentT],
) -> list[ElementResult[DocumentT]]:
    """Xero batch creates of up to XERO_BATCH, each with the Idempotency-Key of its records
    and bodies (so a retried batch is answered from Xero's idempotency cache)."""
    created: list[ElementResult[DocumentT]] = []
    for start in range(0, len(records), XERO_BATCH):
        ids = [record.id for record in records[start : start + XERO_BATCH]]
        chunk = bodies[start : start + XERO_BATCH]
        created += await create(chunk, idempotency_key=idempotency_key(kind, ids, chunk))
    return created


async def create_contacts(
    xero: XeroAccountingClient, customers: Sequence[Customer]
) -> list[ElementResult[Contact]]:
    bodies = [mapping.contact_json(customer) for customer in customers]
    return await _create_in_batches("contacts", customers, bodies, xero.create_contacts)


async def existing_items(xero: XeroAccountingClient, codes: Iterable[str]) -> list[str]:
    """The codes of the Items Xero has among `codes`."""
    items = await xero.items_with_codes(sorted(set(codes)))
    return [item.code or "" for item in items]


async def create_items(
    xero: XeroAccountingClient, products: Sequence[Product]
) -> list[ElementResult[Item]]:
    bodies = [mapping.item_json(product) for product in products]
    created = await _create_in_batches("items", products, bodies, xero.create_items)
    for element in created:
        if not element.ok:
            logger.warning(
                "invoice_sync.item_not_created",
                code=element.element.code,
                errors=element.errors,
            )
    return created


async def create_invoices(
    run: RunContext, batch: Sequence[Create]
) -> tuple[list[Exported], list[Fail]]:
    """Ledger `pending` with the request (committed, lease-fenced), one Xero batch create with
    an Idempotency-Key once the lease is proven, then Xero's answer settled in the ledger."""
    bodies = [item.body for item in batch]
    request = XeroRequest(
        idempotency_key("invoices", [f"{i.invoice.id}:{i.invoice.version}" for i in batch], bodies),
        [item.invoice.id for item in batch],
        bodies,
    )
    await run.ledger.mark_pending(
        run.connection_id, {item.invoice.id: item.invoice.version for item in batch}, request
    )
    BATCH_SIZE.observe(len(batch))
    results = await _send(run, request)
    if isinstance(results, XeroError):
        return [], plan.refused(batch, results.message)
    exported, failed = plan.created(batch, results, run.xero_web_url)
    await run.ledger.settle(
        run.connection_id,
        request,
        {e.invoice.id: (e.xero_invoice_id, e.xero_number) for e in exported},
        [item.invoice.id for item in failed],
    )
    return exported, failed


async def resend_pending_requests(run: RunContext) -> None:
    """Re-send, exactly (the same body under the same Idempotency-Key), every request whose
    answer was never recorded, and settle Xero's answer in the ledger. If the first copy
    reached Xero (or a stalled worker's copy arrives later), Xero answers from its idempotency
    cache instead of creating the invoices again."""
    for request in await run.ledger.pending_requests(run.connection_id):
        logger.warning(
            "invoice_sync.pending_request_resent",
            connection_id=str(run.connection_id),
            invoices=len(request.invoice_ids),
        )
        results = await _send(run, request)
        if isinstance(results, XeroError):
            continue  # the invoices are planned afresh
        created, refused_ids = plan_recovery.answered(request.invoice_ids, results)
        await run.ledger.settle(run.connection_id, request, created, refused_ids)


async def _send(run: RunContext, request: XeroRequest) -> list[ElementResult[Invoice]] | XeroError:
    """The Xero batch create, only while the lease provably holds (a fence on the call itself,
    not only on `pending`); or Xero's refusal of the whole request, settled in the ledger: none
    of it is in Xero, so its invoices are forgotten there (a lost grant raises instead)."""
    await run.lease.hold_for_write()
    try:
        return await run.xero.create_invoices(request.body, idempotency_key=request.idempotency_key)
    except XeroError as error:
        if isinstance(error, XeroUnauthorised):
            raise
        await run.ledger.settle(run.connection_id, request, {}, request.invoice_ids)
        return error


async def write_back(
    run: RunContext, change_sets: Sequence[Sequence[BatchOperation]]
) -> list[list[BatchResult]]:
    """One `$batch` to Dynamics, while the lease provably holds (a worker that stalled and lost
    it leaves the write-back to its successor, which has made it already)."""
    await run.lease.hold_for_write()
    return await run.dataverse.batch(change_sets)


async def record_written_back(run: RunContext, invoice_ids: Sequence[str]) -> None:
    await run.ledger.mark_written_back(run.connection_id, invoice_ids)
