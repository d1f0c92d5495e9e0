"""The export ledger: what this service sent to Xero for each Dynamics invoice (ids only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from dxc_shared.db import Database
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from invoice_sync.ledger.lease import LeaseLost
from invoice_sync.ledger.models import ExportState, InvoiceExport, InvoiceSyncLease


class Ledger:
    def __init__(self, database: Database, holder: str) -> None:
        self._database = database
        self._holder = holder

    async def entries(
        self, connection_id: uuid.UUID, invoice_ids: Sequence[str]
    ) -> dict[str, InvoiceExport]:
        if not invoice_ids:
            return {}
        found: dict[str, InvoiceExport] = {}
        async with self._database.unit_of_work() as session:
            for start in range(0, len(invoice_ids), 500):
                rows = await session.scalars(
                    select(InvoiceExport).where(
                        InvoiceExport.connection_id == connection_id,
                        InvoiceExport.dynamics_invoice_id.in_(invoice_ids[start : start + 500]),
                    )
                )
                found.update({row.dynamics_invoice_id: row for row in rows})
        return found

    async def mark_pending(self, connection_id: uuid.UUID, versions: dict[str, str]) -> None:
        """Record, and commit, that these invoices are about to be sent; in the same transaction
        check the lease is still ours (a fence against a worker that lost it)."""
        async with self._database.unit_of_work() as session:
            await self._check_lease(session, connection_id)
            existing = {
                row.dynamics_invoice_id: row
                for row in await session.scalars(
                    select(InvoiceExport).where(
                        InvoiceExport.connection_id == connection_id,
                        InvoiceExport.dynamics_invoice_id.in_(list(versions)),
                    )
                )
            }
            for invoice_id, version in versions.items():
                row = existing.get(invoice_id)
                if row is None:
                    session.add(
                        InvoiceExport(
                            connection_id=connection_id,
                            dynamics_invoice_id=invoice_id,
                            dynamics_version=version,
                            state=ExportState.PENDING,
                        )
                    )
                else:
                    row.dynamics_version = version
                    row.state = ExportState.PENDING

    async def mark_created(
        self, connection_id: uuid.UUID, created: dict[str, tuple[str, str | None]]
    ) -> None:
        """invoice id -> (Xero invoice id, Xero number), once Xero has them."""
        if not created:
            return
        async with self._database.unit_of_work() as session:
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

    async def mark_written_back(self, connection_id: uuid.UUID, invoice_ids: Sequence[str]) -> None:
        if not invoice_ids:
            return
        async with self._database.unit_of_work() as session:
            await session.execute(
                update(InvoiceExport)
                .where(
                    InvoiceExport.connection_id == connection_id,
                    InvoiceExport.dynamics_invoice_id.in_(list(invoice_ids)),
                    InvoiceExport.state == ExportState.CREATED,
                )
                .values(state=ExportState.WRITTEN_BACK)
            )

    async def forget(self, connection_id: uuid.UUID, invoice_ids: Sequence[str]) -> None:
        """Xero refused these: nothing of them is in Xero, so a later retry starts afresh."""
        if not invoice_ids:
            return
        async with self._database.unit_of_work() as session:
            await session.execute(
                delete(InvoiceExport).where(
                    InvoiceExport.connection_id == connection_id,
                    InvoiceExport.dynamics_invoice_id.in_(list(invoice_ids)),
                    InvoiceExport.state == ExportState.PENDING,
                )
            )

    async def _check_lease(self, session: AsyncSession, connection_id: uuid.UUID) -> None:
        holder = await session.scalar(
            select(InvoiceSyncLease.holder).where(InvoiceSyncLease.connection_id == connection_id)
        )
        if holder != self._holder:  # writing `pending` rows now could race the new holder
            raise LeaseLost(f"connection {connection_id} is being synced by another worker")
