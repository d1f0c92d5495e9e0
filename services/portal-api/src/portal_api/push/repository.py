"""Every query of the push package: the connections' webhook secrets and the pending pushes."""

from __future__ import annotations

import uuid
from datetime import datetime

from dxc_shared.db import Database
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.kit.time import aware
from portal_api.push.models import PushRequest, PushSubscription


async def subscription_of(
    session: AsyncSession, connection_id: uuid.UUID
) -> PushSubscription | None:
    found: PushSubscription | None = await session.get(PushSubscription, connection_id)
    return found


async def save_subscription(
    session: AsyncSession,
    connection_id: uuid.UUID,
    *,
    secret_hash: str,
    organization_id: str | None,
    now: datetime,
) -> None:
    await session.merge(
        PushSubscription(
            connection_id=connection_id,
            secret_hash=secret_hash,
            organization_id=organization_id,
            registered_at=now,
        )
    )


async def delete_subscription(session: AsyncSession, connection_id: uuid.UUID) -> None:
    await session.execute(
        delete(PushSubscription).where(PushSubscription.connection_id == connection_id)
    )
    await session.execute(delete(PushRequest).where(PushRequest.connection_id == connection_id))


async def pending_due_at(database: Database, connection_id: uuid.UUID) -> datetime | None:
    async with database.unit_of_work() as session:
        due = await session.scalar(
            select(PushRequest.due_at).where(PushRequest.connection_id == connection_id)
        )
    return aware(due) if due is not None else None


async def add_pending(database: Database, connection_id: uuid.UUID, due_at: datetime) -> bool:
    """Record a pending request; False when another post recorded one first (the primary key
    decides, on PostgreSQL and SQLite alike)."""
    try:
        async with database.unit_of_work() as session:
            session.add(PushRequest(connection_id=connection_id, due_at=due_at))
    except IntegrityError:
        return False
    return True


async def take_due(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    """Delete the requests due by `now` and return their connections. With several replicas,
    the row lock of the DELETE lets only one of them return each row."""
    result = await session.execute(
        delete(PushRequest).where(PushRequest.due_at <= now).returning(PushRequest.connection_id)
    )
    return list(result.scalars().all())


async def earliest_due(database: Database) -> datetime | None:
    async with database.unit_of_work() as session:
        due = await session.scalar(select(func.min(PushRequest.due_at)))
    return aware(due) if due is not None else None
