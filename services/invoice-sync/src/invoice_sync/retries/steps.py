"""A retry request taken from the bus, and applied by the connection's next run."""

from __future__ import annotations

from datetime import datetime

from dxc_shared.clients.dataverse import BatchOperation
from dxc_shared.db import Database
from dxc_shared.dynamics.columns import InvoiceColumns
from dxc_shared.dynamics.history import history_operation, history_row, invoice_label
from dxc_shared.dynamics.schema import ExportStatus, SyncOutcome
from dxc_shared.logging import get_logger
from dxc_shared.messages import InvoiceRetryRequested, SyncRequested
from dxc_shared.outbox import enqueue
from sqlalchemy import select, update

from invoice_sync.connector.records import Connector
from invoice_sync.kit.context import RunContext
from invoice_sync.kit.time import utcnow
from invoice_sync.retries import plan
from invoice_sync.retries.models import RetryRequest

logger = get_logger(__name__)


async def take(database: Database, request: InvoiceRetryRequested, message_id: str) -> bool:
    """Keep the request for the connection's next run and ask for that run (through the
    outbox, with the request's commit). False for a message taken before (a redelivery)."""
    async with database.unit_of_work() as session:
        if await session.get(RetryRequest, (request.connection_id, message_id)) is not None:
            return False
        session.add(
            RetryRequest(
                connection_id=request.connection_id,
                message_id=message_id,
                record_id=request.record_id,
            )
        )
        enqueue(
            session,
            SyncRequested(connection_id=request.connection_id),
            headers={"connection_id": str(request.connection_id)},
        )
    return True


async def apply_requested(run: RunContext, connector: Connector) -> None:
    """Every retry asked for since the last run: a Failed invoice back to No with a sync
    history row saying so, in one change set; any other invoice keeps its status and the row
    says why. Runs under the lease, before the ready invoices are read."""
    async with run.database.unit_of_work() as session:
        requests = (
            await session.scalars(
                select(RetryRequest).where(
                    RetryRequest.connection_id == run.connection_id,
                    RetryRequest.applied_at.is_(None),
                )
            )
        ).all()
        message_ids = [request.message_id for request in requests]
        record_ids = {request.record_id for request in requests}
    if not requests:
        return
    rows = await run.dataverse.rows_where_in(
        InvoiceColumns.ENTITY_SET,
        InvoiceColumns.ID,
        record_ids,
        select=[InvoiceColumns.ID, InvoiceColumns.NUMBER, InvoiceColumns.EXPORT_STATUS],
        guid=True,
    )
    now = utcnow()
    retries = [
        plan.decide(str(row[InvoiceColumns.ID]), row.get(InvoiceColumns.EXPORT_STATUS))
        for row in rows
    ]
    numbers = {str(row[InvoiceColumns.ID]): row.get(InvoiceColumns.NUMBER) for row in rows}
    for missing in record_ids - set(numbers):
        logger.info("invoice_sync.retry_ignored", invoice_id=missing, reason="not in Dynamics")
    await run.lease.hold_for_write()
    results = await run.dataverse.batch(
        [retry_change_set(connector, retry, numbers[retry.record_id], now) for retry in retries]
    )
    for retry, result in zip(retries, results, strict=True):
        refused = [item.error_message for item in result if not item.ok]
        if refused:  # not retried again: the person sees no change and can ask once more
            logger.warning(
                "invoice_sync.retry_not_written", invoice_id=retry.record_id, error=refused[0]
            )
    async with run.database.unit_of_work() as session:
        await session.execute(
            update(RetryRequest)
            .where(
                RetryRequest.connection_id == run.connection_id,
                RetryRequest.message_id.in_(message_ids),
            )
            .values(applied_at=now)
        )


def retry_change_set(
    connector: Connector, retry: plan.Retry, number: str | None, now: datetime
) -> list[BatchOperation]:
    """The status back to No (when the plan says so) and the history row, committed together."""
    reset = [
        BatchOperation.patch(
            InvoiceColumns.ENTITY_SET,
            retry.record_id,
            {InvoiceColumns.EXPORT_STATUS: ExportStatus.NO.value},
        )
    ]
    row = history_row(
        connector_id=connector.id,
        invoice_id=retry.record_id,
        label=invoice_label(number),
        outcome=SyncOutcome.INFORMATION,
        message=retry.message,
        occurred_on=now,
    )
    return [*(reset if retry.reset else []), history_operation(row)]
