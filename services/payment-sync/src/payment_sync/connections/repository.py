"""payment-sync's queries on its connections table."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime

from dxc_shared.messages import ConnectionSyncProfile
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from payment_sync.connections.models import PaymentSyncConnection


async def get(session: AsyncSession, connection_id: uuid.UUID) -> PaymentSyncConnection | None:
    return await session.get(PaymentSyncConnection, connection_id)


async def syncable_profile(
    session: AsyncSession, connection_id: uuid.UUID
) -> ConnectionSyncProfile | None:
    row = await get(session, connection_id)
    if row is None or not row.syncable:
        return None
    return ConnectionSyncProfile.model_validate(row.profile)


async def remove(session: AsyncSession, connection_id: uuid.UUID) -> None:
    await session.execute(
        delete(PaymentSyncConnection).where(PaymentSyncConnection.connection_id == connection_id)
    )


async def due_for_reference_data(
    session: AsyncSession, now: datetime, batch_size: int
) -> Sequence[PaymentSyncConnection]:
    """The syncable connections whose reference data is due, oldest first, locked (and
    skipped by other replicas) until the transaction ends."""
    rows = await session.scalars(
        select(PaymentSyncConnection)
        .where(
            PaymentSyncConnection.syncable,
            PaymentSyncConnection.reference_data_due_at <= now,
        )
        .order_by(PaymentSyncConnection.reference_data_due_at)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    return rows.all()


async def syncable_of_tenants(
    session: AsyncSession, tenant_ids: Collection[str]
) -> list[tuple[uuid.UUID, str]]:
    """(connection id, tenant id) of every syncable connection to one of `tenant_ids`."""
    if not tenant_ids:
        return []
    rows = await session.execute(
        select(PaymentSyncConnection.connection_id, PaymentSyncConnection.xero_tenant_id).where(
            PaymentSyncConnection.syncable,
            PaymentSyncConnection.xero_tenant_id.in_(tenant_ids),
        )
    )
    return [(connection_id, str(tenant_id)) for connection_id, tenant_id in rows.all()]
