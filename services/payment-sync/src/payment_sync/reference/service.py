"""The reference-data mirror's step (read Xero's lists, write what `decisions` says in one
`$batch` per table) and its schedule: once on connect, then once per interval."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from dxc_shared.clients.dataverse import BatchResult, DataverseClient
from dxc_shared.clients.xero_accounting import XeroAccountingClient
from dxc_shared.db import Database
from dxc_shared.messages import ReferenceDataRefreshRequested
from dxc_shared.outbox import enqueue
from dxc_shared.sync import RunReport, raise_if_transient
from sqlalchemy.ext.asyncio import AsyncSession

from payment_sync.connections import repository as connections
from payment_sync.metrics import REFERENCE_ROWS
from payment_sync.reference import repository
from payment_sync.reference.decisions import MIRRORS, Mirror, RowWrite, plan_mirror


async def mirror_reference_data(
    xero: XeroAccountingClient,
    dataverse: DataverseClient,
    connection_id: uuid.UUID,
    report: RunReport,
) -> None:
    connector_id = await repository.connector_row_id(dataverse, connection_id)
    for mirror in MIRRORS:
        elements = await mirror.read(xero)
        existing = await repository.mirrored_rows(dataverse, mirror, connector_id)
        writes = plan_mirror(mirror, elements, existing, connector_id)
        if not writes:
            continue
        results = await dataverse.batch([[write.operation] for write in writes])
        raise_if_transient(results)
        for write, [result] in zip(writes, results, strict=True):
            _report(mirror, write, result, report)


def _report(mirror: Mirror[Any], write: RowWrite, result: BatchResult, report: RunReport) -> None:
    if result.ok:
        report.succeeded += 1
        REFERENCE_ROWS.labels(mirror.table.logical_name, write.action.value).inc()
    else:
        report.fail(
            write.key,
            None,
            f"{mirror.table.label} {write.key} could not be {write.action.value} in Dynamics: "
            f"{result.error_message}",
        )


def request_refresh(session: AsyncSession, connection_id: uuid.UUID) -> None:
    enqueue(
        session,
        ReferenceDataRefreshRequested(connection_id=connection_id),
        headers={"connection_id": str(connection_id)},
    )


async def request_due_refreshes(
    database: Database, now: datetime, interval: timedelta, batch_size: int
) -> int:
    """Ask for a refresh of every connection whose reference data is due; returns how many.
    Rows are locked and skipped by other replicas, and rescheduled in the same transaction
    that writes the requests."""
    async with database.unit_of_work() as session:
        due = await connections.due_for_reference_data(session, now, batch_size)
        for row in due:
            row.reference_data_due_at = now + interval
            request_refresh(session, row.connection_id)
    return len(due)


async def mark_refreshed(session: AsyncSession, connection_id: uuid.UUID, now: datetime) -> None:
    row = await connections.get(session, connection_id)
    if row is not None:
        row.reference_data_refreshed_at = now
