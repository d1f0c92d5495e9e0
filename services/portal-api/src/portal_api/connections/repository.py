from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.billing.models import Subscription
from portal_api.connections.models import Connection
from portal_api.kit.errors import NotFound


async def owned(
    session: AsyncSession, user_id: uuid.UUID, connection_id: uuid.UUID, *, lock: bool = False
) -> Connection:
    """The user's connection; anyone else's is "not found", never "forbidden"."""
    query = select(Connection).where(Connection.id == connection_id, Connection.user_id == user_id)
    if lock:
        query = query.with_for_update()
    found: Connection | None = await session.scalar(query)
    if found is None:
        raise NotFound("The connection")
    return found


async def of_user(session: AsyncSession, user_id: uuid.UUID) -> list[Connection]:
    rows = await session.scalars(
        select(Connection).where(Connection.user_id == user_id).order_by(Connection.created_at)
    )
    return list(rows.all())


async def subscription_of(session: AsyncSession, connection_id: uuid.UUID) -> Subscription | None:
    found: Subscription | None = await session.scalar(
        select(Subscription).where(Subscription.connection_id == connection_id)
    )
    return found


async def subscriptions_of(
    session: AsyncSession, connection_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Subscription]:
    rows = await session.scalars(
        select(Subscription).where(Subscription.connection_id.in_(connection_ids))
    )
    return {row.connection_id: row for row in rows.all()}
