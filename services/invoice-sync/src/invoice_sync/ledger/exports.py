"""The export ledger: what this service sent to Xero for each Dynamics invoice (ids only)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from dxc_shared.db import Database
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from invoice_sync.kit.time import utcnow
from invoice_sync.ledger.lease import LeaseLost
from invoice_sync.ledger.models import (
    ExportState,
    InvoiceExport,
    InvoiceSyncLease,
    PendingRequest,
    SkipTold,
)


@dataclass(frozen=True)
class XeroRequest:
    """One Xero batch create as sent: the invoices in the order of `body`, the body, its key."""

    idempotency_key: str
    invoice_ids: list[str]
    body: list[dict[str, Any]]


class Ledger:
    def __init__(self, database: Database, holder: str) -> None:
        self._database = database
        self._holder = holder

    async def entries(
        self, connection_id: uuid.UUID, invoice_ids: Sequence[str]
    ) -> dict[str, InvoiceExport]:
        async with self._database.unit_of_work() as session:
            return await _rows_of(session, InvoiceExport, connection_id, invoice_ids)

    async def sent_since(self, connection_id: uuid.UUID, since: datetime) -> int:
        """How many invoices were first sent to Xero from `since` on (created there, or sent
        and not yet answered: refused ones are forgotten)."""
        async with self._database.unit_of_work() as session:
            count = await session.scalar(
                select(func.count()).where(
                    InvoiceExport.connection_id == connection_id,
                    InvoiceExport.created_at >= since,
                )
            )
        return int(count or 0)

    async def mark_pending(
        self, connection_id: uuid.UUID, versions: dict[str, str], request: XeroRequest
    ) -> None:
        """Record, and commit, that these invoices are about to be sent by `request` (kept so a
        successor can re-send it exactly); in the same transaction check the lease is still ours
        (a fence against a worker that lost it)."""
        async with self._database.unit_of_work() as session:
            await self._check_lease(session, connection_id)
            await session.merge(
                PendingRequest(
                    connection_id=connection_id,
                    idempotency_key=request.idempotency_key,
                    invoice_ids=request.invoice_ids,
                    body=request.body,
                )
            )
            pending = {
                invoice_id: {"dynamics_version": version, "state": ExportState.PENDING}
                for invoice_id, version in versions.items()
            }
            await _upsert(session, InvoiceExport, connection_id, pending)

    async def mark_created(
        self, connection_id: uuid.UUID, created: dict[str, tuple[str, str | None]]
    ) -> None:
        """invoice id -> (Xero invoice id, Xero number), once Xero has them."""
        if not created:
            return
        async with self._database.unit_of_work() as session:
            await _mark_created(session, connection_id, created)

    async def pending_requests(self, connection_id: uuid.UUID) -> list[XeroRequest]:
        """The Xero requests sent (or about to be) whose answer was never recorded, oldest
        first."""
        async with self._database.unit_of_work() as session:
            rows = await session.scalars(
                select(PendingRequest)
                .where(PendingRequest.connection_id == connection_id)
                .order_by(PendingRequest.created_at)
            )
            return [
                XeroRequest(row.idempotency_key, list(row.invoice_ids), list(row.body))
                for row in rows
            ]

    async def settle(
        self,
        connection_id: uuid.UUID,
        request: XeroRequest,
        created: dict[str, tuple[str, str | None]],
        refused: Sequence[str],
    ) -> None:
        """Xero's answer to `request`, in one transaction: the invoices it created (invoice id
        -> (Xero invoice id, Xero number)) are `created`, those it refused are forgotten (a
        later retry starts afresh), and the request's body is no longer kept."""
        async with self._database.unit_of_work() as session:
            await _mark_created(session, connection_id, created)
            if refused:
                await session.execute(
                    delete(InvoiceExport).where(
                        InvoiceExport.connection_id == connection_id,
                        InvoiceExport.dynamics_invoice_id.in_(list(refused)),
                        InvoiceExport.state == ExportState.PENDING,
                    )
                )
            await session.execute(
                delete(PendingRequest).where(
                    PendingRequest.connection_id == connection_id,
                    PendingRequest.idempotency_key == request.idempotency_key,
                )
            )

    async def mark_written_back(self, connection_id: uuid.UUID, invoice_ids: Sequence[str]) -> None:
        if not invoice_ids:
            return
        async with self._database.unit_of_work() as session:
            await session.execute(
                update(InvoiceExport)
                .where(
                    InvoiceExport.connection_id == connection_id,
                    InvoiceExport.dynamics_invoice_id.in_(list(invoice_ids)),
                    InvoiceExport.state.in_((ExportState.CREATED, ExportState.UPDATED)),
                )
                .values(state=ExportState.WRITTEN_BACK)
            )

    async def mark_updating(
        self, connection_id: uuid.UUID, invoice_id: str, version: str, xero_invoice_id: str
    ) -> None:
        """Record, and commit, that this version of an exported invoice is about to be sent to
        Xero as an update, checking in the same transaction that the lease is still ours."""
        async with self._database.unit_of_work() as session:
            await self._check_lease(session, connection_id)
            row = await session.get(InvoiceExport, (connection_id, invoice_id))
            if row is None:  # exported before the ledger kept it
                row = InvoiceExport(connection_id=connection_id, dynamics_invoice_id=invoice_id)
                session.add(row)
            row.dynamics_version = version
            row.state = ExportState.UPDATING
            row.xero_invoice_id = xero_invoice_id

    async def settle_update(self, connection_id: uuid.UUID, invoice_id: str, *, took: bool) -> None:
        """Xero's answer to an update: `updated` (to tell Dynamics) when it took it; else back to
        `written_back`, as Xero's invoice did not change."""
        state = ExportState.UPDATED if took else ExportState.WRITTEN_BACK
        async with self._database.unit_of_work() as session:
            await session.execute(
                update(InvoiceExport)
                .where(
                    InvoiceExport.connection_id == connection_id,
                    InvoiceExport.dynamics_invoice_id == invoice_id,
                    InvoiceExport.state == ExportState.UPDATING,
                )
                .values(state=state)
            )

    async def skips_told(
        self, connection_id: uuid.UUID, invoice_ids: Sequence[str]
    ) -> dict[str, str]:
        """invoice id -> the reason it was last told it is not sent."""
        async with self._database.unit_of_work() as session:
            rows = await _rows_of(session, SkipTold, connection_id, invoice_ids)
        return {invoice_id: row.reason for invoice_id, row in rows.items()}

    async def record_skips_told(self, connection_id: uuid.UUID, reasons: dict[str, str]) -> None:
        """invoice id -> the reason its Skipped row just gave."""
        if not reasons:
            return
        async with self._database.unit_of_work() as session:
            told = {
                invoice_id: {"reason": reason, "told_at": utcnow()}
                for invoice_id, reason in reasons.items()
            }
            await _upsert(session, SkipTold, connection_id, told)

    async def forget_skips(self, connection_id: uuid.UUID, invoice_ids: Sequence[str]) -> None:
        """These invoices have an outcome now: a later skip is news again."""
        if not invoice_ids:
            return
        async with self._database.unit_of_work() as session:
            await session.execute(
                delete(SkipTold).where(
                    SkipTold.connection_id == connection_id,
                    SkipTold.dynamics_invoice_id.in_(list(invoice_ids)),
                )
            )

    async def _check_lease(self, session: AsyncSession, connection_id: uuid.UUID) -> None:
        holder = await session.scalar(
            select(InvoiceSyncLease.holder).where(InvoiceSyncLease.connection_id == connection_id)
        )
        if holder != self._holder:  # writing `pending` rows now could race the new holder
            raise LeaseLost(f"connection {connection_id} is being synced by another worker")


async def _mark_created(
    session: AsyncSession, connection_id: uuid.UUID, created: dict[str, tuple[str, str | None]]
) -> None:
    for invoice_id, (xero_id, xero_number) in created.items():
        await session.execute(
            update(InvoiceExport)
            .where(
                InvoiceExport.connection_id == connection_id,
                InvoiceExport.dynamics_invoice_id == invoice_id,
            )
            .values(
                state=ExportState.CREATED,
                xero_invoice_id=xero_id,
                xero_invoice_number=xero_number,
            )
        )


Keyed = TypeVar("Keyed", InvoiceExport, SkipTold)
IN_CHUNK = 500  # ids per `IN (...)`, well inside every database's parameter limit


async def _rows_of(
    session: AsyncSession, table: type[Keyed], connection_id: uuid.UUID, invoice_ids: Sequence[str]
) -> dict[str, Keyed]:
    """A connection's rows of `table` for these invoices, by invoice id."""
    found: dict[str, Keyed] = {}
    for start in range(0, len(invoice_ids), IN_CHUNK):
        rows = await session.scalars(
            select(table).where(
                table.connection_id == connection_id,
                table.dynamics_invoice_id.in_(list(invoice_ids[start : start + IN_CHUNK])),
            )
        )
        found.update({row.dynamics_invoice_id: row for row in rows})
    return found


async def _upsert(
    session: AsyncSession,
    table: type[Keyed],
    connection_id: uuid.UUID,
    values: Mapping[str, Mapping[str, Any]],
) -> None:
    """invoice id -> column values: a connection's row of `table` for each invoice updated, or
    added where it has none (one read for them all)."""
    existing = await _rows_of(session, table, connection_id, list(values))
    for invoice_id, columns in values.items():
        row = existing.get(invoice_id)
        if row is None:
            session.add(
                table(connection_id=connection_id, dynamics_invoice_id=invoice_id, **columns)
            )
        else:
            for name, value in columns.items():
                setattr(row, name, value)
