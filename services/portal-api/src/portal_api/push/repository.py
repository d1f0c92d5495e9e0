"""Every query of the push package: the connections' webhook secrets and the pending pushes."""

from __future__ import annotations

import uuid
from datetime import datetime

from dxc_shared.db import Database
from sqlalchemy import delete, func, select, update
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


async def coalescing_state(
    session: AsyncSession, connection_id: uuid.UUID
) -> tuple[datetime | None, datetime | None]:
    """(when the pending request falls due, when the last one was sent), each None when there
    is none, with the subscription's row locked until the transaction ends: the relay notes
    on that row when it sent a request, in the transaction that deletes it, so a post and the
    relay take turns and a post never decides on a reading the relay is changing."""
    last = await session.scalar(
        select(PushSubscription.last_requested_at)
        .where(PushSubscription.connection_id == connection_id)
        .with_for_update()
    )
    due = await session.scalar(
        select(PushRequest.due_at).where(PushRequest.connection_id == connection_id)
    )
    return (aware(due) if due else None), (aware(last) if last else None)


def add_pending(session: AsyncSession, connection_id: uuid.UUID, due_at: datetime) -> None:
    session.add(PushRequest(connection_id=connection_id, due_at=due_at))


async def take_due(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    """Delete the requests due by `now` and return their connections, noting when each was
    requested. With several replicas, the row lock of the DELETE lets only one of them return
    each row."""
    result = await session.execute(
        delete(PushRequest).where(PushRequest.due_at <= now).returning(PushRequest.connection_id)
    )
    taken = list(result.scalars().all())
    if taken:
        await session.execute(
            update(PushSubscription)
            .where(PushSubscription.connection_id.in_(taken))
            .values(last_requested_at=now)
        )
    return taken


async def earliest_due(database: Database) -> datetime | None:
    async with database.unit_of_work() as session:
        due = await session.scalar(select(func.min(PushRequest.due_at)))
    return aware(due) if due is not None else None
