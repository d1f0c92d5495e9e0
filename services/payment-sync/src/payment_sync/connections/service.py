"""Keeping payment-sync's picture of each connection current (from portal-api's events), and
the one thing it remembers from Xero about it: the organisation's short code."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from dxc_shared.clients.xero_accounting import XeroAccountingClient
from dxc_shared.db import Database
from dxc_shared.messages import ConnectionChanged
from sqlalchemy.ext.asyncio import AsyncSession

from payment_sync.connections import repository
from payment_sync.connections.models import PaymentSyncConnection
from payment_sync.payments import repository as payments
from payment_sync.reference.service import request_refresh


async def record_change(
    session: AsyncSession, message: ConnectionChanged, now: datetime, interval: timedelta
) -> None:
    """Take in what portal-api says of a connection. Another Xero organisation starts the
    cursors over; a connection that becomes syncable (or moves organisation) gets its
    reference data now, and then once per `interval`."""
    profile = message.profile
    row = await repository.get(session, profile.connection_id)
    if row is None:
        row = PaymentSyncConnection(
            connection_id=profile.connection_id,
            profile=profile.model_dump(mode="json"),
            syncable=False,
        )
        session.add(row)
    tenant_id = profile.xero_tenant_id.lower() if profile.xero_tenant_id else None
    new_tenant = row.xero_tenant_id != tenant_id
    if new_tenant:
        row.xero_short_code = None
        await payments.forget_cursors(session, profile.connection_id)
    connected = message.syncable and (new_tenant or not row.syncable)
    row.xero_tenant_id = tenant_id
    row.profile = profile.model_dump(mode="json")
    row.syncable = message.syncable
    if connected:
        row.reference_data_due_at = now + interval
        request_refresh(session, profile.connection_id)


async def forget(session: AsyncSession, connection_id: uuid.UUID) -> None:
    await payments.forget_cursors(session, connection_id)
    await repository.remove(session, connection_id)


async def short_code(
    database: Database, connection_id: uuid.UUID, xero: XeroAccountingClient
) -> str | None:
    """The organisation's short code (for deep links), asked of Xero once and remembered."""
    async with database.unit_of_work() as session:
        row = await repository.get(session, connection_id)
        if row is not None and row.xero_short_code:
            return row.xero_short_code
    code = (await xero.organisation()).short_code
    if code:
        async with database.unit_of_work() as session:
            row = await repository.get(session, connection_id)
            if row is not None:
                row.xero_short_code = code
    return code or None
