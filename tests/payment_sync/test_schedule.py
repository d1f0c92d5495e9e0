"""When reference data is refreshed without being asked: on connect (a connection that becomes
syncable, or moves to another Xero organisation) and then once per interval. On SQLite, as in
the embedded mode; the requests are read from the outbox they are written to."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from dxc_shared.bus import MessageContext
from dxc_shared.clients.token_broker import TokenBrokerClient
from dxc_shared.db import Database
from dxc_shared.messages import (
    ConnectionArchived,
    ConnectionChanged,
    ConnectionSyncProfile,
    ReferenceDataRefreshRequested,
)
from dxc_shared.outbox import OutboxMessage
from dxc_shared.sync import VendorFactory
from dxc_shared.xero_budget.budget import XeroBudget
from payment_sync.service import PaymentSync
from sqlalchemy import delete, select

INTERVAL = timedelta(hours=6)
CONTEXT = MessageContext(message_id="m", topic="t", attempt=1, headers={})


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def database(migrated_sqlite: str) -> AsyncIterator[Database]:
    database = Database(migrated_sqlite)
    yield database
    await database.dispose()


@pytest.fixture
async def sync(database: Database) -> AsyncIterator[tuple[PaymentSync, Clock]]:
    clock = Clock()
    async with httpx.AsyncClient() as http:
        # No run happens here: the vendors are never asked for.
        vendors = VendorFactory(
            TokenBrokerClient("http://127.0.0.1:9", "unused", client=http),
            http,
            xero_api_url="http://127.0.0.1:9",
            xero_budget=XeroBudget(database),
        )
        yield (
            PaymentSync(
                database,
                vendors,
                xero_web_url="http://127.0.0.1:9",
                reference_data_interval=INTERVAL,
                balances_refresh_interval=INTERVAL,
                clock=clock,
            ),
            clock,
        )


async def requested(database: Database) -> list[uuid.UUID]:
    """The refresh requests written to the outbox since the last call (then cleared)."""
    async with database.unit_of_work() as session:
        rows = (
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.topic == ReferenceDataRefreshRequested.topic
                )
            )
        ).all()
        await session.execute(delete(OutboxMessage))
    return [
        ReferenceDataRefreshRequested.model_validate_json(row.body).connection_id for row in rows
    ]


def changed(connection_id: uuid.UUID, tenant: str, syncable: bool) -> ConnectionChanged:
    profile = ConnectionSyncProfile(
        connection_id=connection_id, xero_tenant_id=tenant, dynamics_org_url="https://org"
    )
    return ConnectionChanged(profile=profile, syncable=syncable)


async def test_refreshed_on_connect_then_once_per_interval(
    sync: tuple[PaymentSync, Clock], database: Database
) -> None:
    payment_sync, clock = sync
    ready, waiting = uuid.uuid4(), uuid.uuid4()

    await payment_sync.on_connection_changed(changed(waiting, "tenant-b", False), CONTEXT)
    await payment_sync.on_connection_changed(changed(ready, "tenant-a", True), CONTEXT)
    assert await requested(database) == [ready]
    await payment_sync.on_connection_changed(changed(ready, "tenant-a", True), CONTEXT)
    assert await requested(database) == []  # a change that is not a (re)connect

    clock.now += INTERVAL - timedelta(minutes=1)
    assert await payment_sync.request_due_reference_data() == 0
    clock.now += timedelta(minutes=1)
    assert await payment_sync.request_due_reference_data() == 1
    assert await requested(database) == [ready]
    assert await payment_sync.request_due_reference_data() == 0  # rescheduled

    await payment_sync.on_connection_changed(changed(ready, "tenant-c", True), CONTEXT)
    assert await requested(database) == [ready]  # another Xero organisation: mirror it now

    await payment_sync.on_connection_archived(ConnectionArchived(connection_id=ready), CONTEXT)
    clock.now += INTERVAL * 2
    assert await payment_sync.request_due_reference_data() == 0
