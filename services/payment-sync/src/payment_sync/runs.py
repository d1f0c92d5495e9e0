"""One payment-sync run: the connection's vendor clients, its report, and the one transaction
that records its effect and puts its `SyncRunCompleted` in the outbox, so the report goes out
only with the state it describes.

A run that cannot proceed until a person acts (`dxc_shared.sync.blocked_by`: re-authorise, a
missing connector record) is reported with `error` and acknowledged, its effect not recorded;
anything else raises for the bus's retries, and nothing has moved.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from dxc_shared.db import Database
from dxc_shared.logging import get_logger
from dxc_shared.messages import ConnectionSyncProfile, SyncDirection
from dxc_shared.sync import RunReport, VendorFactory, Vendors, blocked_by
from dxc_shared.xero_budget.decisions import Priority
from sqlalchemy.ext.asyncio import AsyncSession

from payment_sync.metrics import JOB_DURATION

logger = get_logger(__name__)

Clock = Callable[[], datetime]
# What a run leaves to record with its report (a cursor moved, a refresh noted), if anything.
Effect = Callable[[AsyncSession], Awaitable[None]]
Work = Callable[[Vendors, RunReport], Awaitable[Effect | None]]


class Runs:
    def __init__(self, database: Database, vendors: VendorFactory, clock: Clock) -> None:
        self._database = database
        self._vendors = vendors
        self._clock = clock
        # Runs of one connection (a polling job and a webhook batch) take turns in a replica.
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}

    async def run(
        self,
        kind: str,
        direction: SyncDirection,
        profile: ConnectionSyncProfile,
        job_id: uuid.UUID,
        work: Work,
        priority: Priority = Priority.CHANGES,
    ) -> None:
        """`priority`: the run's place in the organisation's Xero budget (changes brought back
        go after exports, reference refreshes after both)."""
        lock = self._locks.setdefault(profile.connection_id, asyncio.Lock())
        async with lock:
            report = RunReport(profile.connection_id, job_id, direction, started_at=self._clock())
            started = time.perf_counter()
            effect: Effect | None = None
            vendors: Vendors | None = None
            try:
                vendors = self._vendors.for_connection(profile, priority)
                effect = await work(vendors, report)
            except Exception as error:
                blocked = blocked_by(error)
                if blocked is None:
                    raise
                logger.warning("payment_sync.run_blocked", kind=kind, error=blocked.message)
                # A blocked run reports why it stopped, not what it did before.
                report = RunReport(
                    profile.connection_id,
                    job_id,
                    direction,
                    started_at=report.started_at,
                    error=blocked.message,
                )
            finally:
                if vendors is not None:
                    await vendors.xero.release()
                JOB_DURATION.labels(kind).observe(time.perf_counter() - started)
            async with self._database.unit_of_work() as session:
                if effect is not None:
                    await effect(session)
                report.publish(session, finished_at=self._clock())
