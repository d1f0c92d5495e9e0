"""The per-connection lease on PostgreSQL and SQLite: one holder, reruns not lost, expiry."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from dxc_shared.db import Database
from invoice_sync.ledger.lease import Leases


@pytest.fixture(params=["postgresql", "sqlite"])
async def database(
    request: pytest.FixtureRequest, migrated_postgres: str, migrated_sqlite: str
) -> AsyncIterator[Database]:
    database = Database(migrated_postgres if request.param == "postgresql" else migrated_sqlite)
    yield database
    await database.dispose()


async def test_one_holder_at_a_time_and_a_requested_rerun_is_not_lost(
    database: Database,
) -> None:
    connection_id = uuid.uuid4()
    first, second = Leases(database), Leases(database)

    taken = await asyncio.gather(*(w.try_acquire(connection_id) for w in (first, second)))

    assert sorted(taken) == [False, True]
    holder, other = (first, second) if taken[0] else (second, first)
    # The loser asked the holder to run once more; the holder keeps the lease for that run.
    assert await holder.release_or_rerun(connection_id) is True
    assert await other.try_acquire(connection_id) is False
    assert await holder.release_or_rerun(connection_id) is True
    # Nobody asked again: the lease is let go and anyone can take it.
    assert await holder.release_or_rerun(connection_id) is False
    assert await other.try_acquire(connection_id) is True
    await other.release(connection_id)


async def test_an_expired_lease_is_taken_over_and_its_old_holder_notices(
    database: Database,
) -> None:
    connection_id = uuid.uuid4()
    now = datetime.now(UTC)
    crashed = Leases(database, ttl_seconds=30, clock=lambda: now - timedelta(minutes=5))
    successor = Leases(database, ttl_seconds=30)

    assert await crashed.try_acquire(connection_id) is True
    assert await successor.try_acquire(connection_id) is True

    assert await crashed.renew(connection_id) is False
    assert await crashed.release_or_rerun(connection_id) is False
    assert await successor.renew(connection_id) is True
    await successor.release(connection_id)
    assert await crashed.try_acquire(connection_id) is True


async def test_a_write_needs_the_lease_with_a_third_of_its_ttl_to_spare(
    database: Database,
) -> None:
    """The fence on the Xero call: a worker whose lease is near expiry (it stalled, its renewals
    stopped) or gone does not write, even before anyone has taken it over."""
    connection_id = uuid.uuid4()
    clock = [datetime.now(UTC)]
    worker = Leases(database, ttl_seconds=30, clock=lambda: clock[0])
    other = Leases(database, ttl_seconds=30)
    assert await worker.try_acquire(connection_id) is True

    clock[0] += timedelta(seconds=15)  # 15 s left: more than the 10 s margin
    assert await worker.hold_for_write(connection_id) is True  # and pushed to a full 30 s
    clock[0] += timedelta(seconds=25)  # 5 s left
    assert await worker.hold_for_write(connection_id) is False
    assert await other.hold_for_write(connection_id) is False  # not its lease
    await worker.release(connection_id)
    assert await worker.hold_for_write(connection_id) is False  # gone
