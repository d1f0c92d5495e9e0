"""Per-connection exclusivity that works the same on PostgreSQL and SQLite.

A connection's invoice job runs only while its worker holds the connection's row in
`invoice_sync_leases`. Every step is one short statement in its own transaction, so the protocol
needs no dialect-specific locking:

- take: insert the row; or, if it exists but has expired (its worker died), update it to us.
- otherwise: set `rerun_requested` on the holder's row and let the job go (it is acknowledged);
  the holder will run once more before letting go, so no ready invoice waits for the next tick.
- release: delete the row only if no rerun was requested; if one was, clear the flag and run
  again. A request that lands after the delete finds no row and takes the lease itself.
- renew: push `expires_at` forward while working; a worker that finds its lease gone (it was
  too slow and another took over) stops before writing anything more.
- hold for a write: right before each Xero write, prove in the database that the lease is still
  ours with more than a safety margin left (and push it a full TTL ahead), or stop. A worker
  that stalled after recording `pending` (a GC pause, CPU starvation, a long wait on a rate
  limit) finds its lease near expiry or gone and does not send; the successor re-sends the
  pending request itself (see `Ledger.pending_requests`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

from dxc_shared.db import Database
from dxc_shared.logging import get_logger
from sqlalchemy import delete, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from invoice_sync.ledger.models import InvoiceSyncLease

logger = get_logger(__name__)

Clock = Callable[[], datetime]


class LeaseLost(Exception):
    """Another worker took this connection over, or may at any moment (found by the renewal,
    the ledger's fence when it records `pending`, or the proof before a Xero write): stop
    without writing anything more."""


def _holder_name() -> str:
    """Unique per worker, and says which process holds a lease (host and pid: an operator, or
    the resilience bench, can find the worker behind a stuck connection)."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{uuid.uuid4().hex[:16]}"


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


class Lease:
    """A held lease; `check()` raises `LeaseLost` once it is known to be gone; `hold_for_write()`
    asks the database before a vendor write."""

    def __init__(self, connection_id: uuid.UUID, leases: Leases) -> None:
        self.connection_id = connection_id
        self.lost = False
        self._leases = leases

    def check(self) -> None:
        if self.lost:
            raise LeaseLost(f"the lease on connection {self.connection_id} was taken over")

    async def hold_for_write(self) -> None:
        """Raise `LeaseLost` unless the lease is still ours with the safety margin left."""
        self.check()
        if not await self._leases.hold_for_write(self.connection_id):
            self.lost = True
            raise LeaseLost(
                f"the lease on connection {self.connection_id} is gone or about to expire: "
                "not writing to Xero"
            )


class Leases:
    def __init__(
        self,
        database: Database,
        *,
        holder: str | None = None,
        ttl_seconds: float = 120.0,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._database = database
        self.holder = holder or _holder_name()
        self._ttl = timedelta(seconds=ttl_seconds)
        # Renewals beat every TTL/3, so a live worker always has more than this left; less
        # means this worker stalled and a successor may take over during the write.
        self._write_margin = self._ttl / 3
        self._clock = clock

    @property
    def ttl_seconds(self) -> float:
        return self._ttl.total_seconds()

    async def try_acquire(self, connection_id: uuid.UUID) -> bool:
        """Take the lease, or ask its holder to run once more. True when taken."""
        while True:
            now = self._clock()
            try:
                async with self._database.unit_of_work() as session:
                    session.add(
                        InvoiceSyncLease(
                            connection_id=connection_id,
                            holder=self.holder,
                            expires_at=now + self._ttl,
                            rerun_requested=False,
                        )
                    )
                return True
            except IntegrityError:
                pass
            async with self._database.unit_of_work() as session:
                taken_over = await session.execute(
                    update(InvoiceSyncLease)
                    .where(
                        InvoiceSyncLease.connection_id == connection_id,
                        InvoiceSyncLease.expires_at < now,
                    )
                    .values(holder=self.holder, expires_at=now + self._ttl, rerun_requested=False)
                )
            if _rowcount(taken_over):
                logger.warning("invoice_sync.lease_taken_over", connection_id=str(connection_id))
                return True
            async with self._database.unit_of_work() as session:
                asked = await session.execute(
                    update(InvoiceSyncLease)
                    .where(InvoiceSyncLease.connection_id == connection_id)
                    .values(rerun_requested=True)
                )
            if _rowcount(asked):
                return False
            # The holder let go between our statements: try to take it again.

    async def renew(self, connection_id: uuid.UUID) -> bool:
        return await self._extend(connection_id, margin=None)

    async def hold_for_write(self, connection_id: uuid.UUID) -> bool:
        """True when the lease is still ours with more than the safety margin left; it is then
        pushed a full TTL ahead, so no successor can take over while the write is under way."""
        return await self._extend(connection_id, margin=self._write_margin)

    async def _extend(self, connection_id: uuid.UUID, *, margin: timedelta | None) -> bool:
        """Push our lease a full TTL ahead (only while more than `margin` of it is left, when
        given); False when it is not ours (any more)."""
        now = self._clock()
        still_ours = [
            InvoiceSyncLease.connection_id == connection_id,
            InvoiceSyncLease.holder == self.holder,
        ]
        if margin is not None:
            still_ours.append(InvoiceSyncLease.expires_at > now + margin)
        async with self._database.unit_of_work() as session:
            result = await session.execute(
                update(InvoiceSyncLease).where(*still_ours).values(expires_at=now + self._ttl)
            )
        return _rowcount(result) == 1

    async def release_or_rerun(self, connection_id: uuid.UUID) -> bool:
        """Let go unless a rerun was requested meanwhile; True means: run once more (the
        lease is still ours and the request is cleared)."""
        async with self._database.unit_of_work() as session:
            released = await session.execute(
                delete(InvoiceSyncLease).where(
                    InvoiceSyncLease.connection_id == connection_id,
                    InvoiceSyncLease.holder == self.holder,
                    InvoiceSyncLease.rerun_requested.is_(False),
                )
            )
        if _rowcount(released):
            return False
        async with self._database.unit_of_work() as session:
            cleared = await session.execute(
                update(InvoiceSyncLease)
                .where(
                    InvoiceSyncLease.connection_id == connection_id,
                    InvoiceSyncLease.holder == self.holder,
                )
                .values(rerun_requested=False, expires_at=self._clock() + self._ttl)
            )
        return _rowcount(cleared) == 1  # 0: lost to another worker, nothing of ours to run

    async def release(self, connection_id: uuid.UUID) -> None:
        """Let go unconditionally (the job failed and the bus will retry it)."""
        async with self._database.unit_of_work() as session:
            await session.execute(
                delete(InvoiceSyncLease).where(
                    InvoiceSyncLease.connection_id == connection_id,
                    InvoiceSyncLease.holder == self.holder,
                )
            )

    @contextlib.asynccontextmanager
    async def kept_alive(self, connection_id: uuid.UUID) -> AsyncIterator[Lease]:
        """Renew the lease in the background while the block runs."""
        lease = Lease(connection_id, self)

        async def renew_forever() -> None:
            while True:
                await asyncio.sleep(self.ttl_seconds / 3)
                try:
                    if not await self.renew(connection_id):
                        lease.lost = True
                        return
                except Exception:  # the database blinked: try again on the next beat
                    logger.warning("invoice_sync.lease_renewal_failed", exc_info=True)

        task = asyncio.create_task(renew_forever())
        try:
            yield lease
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
