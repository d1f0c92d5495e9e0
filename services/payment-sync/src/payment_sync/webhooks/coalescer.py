"""Webhook notifications of one connection, read from Xero together.

Xero sends a delivery for every few changes (one per batch the connector creates, for a start),
and each read costs the organisation's calls. The notifications of a connection are gathered
and read at most once every `spacing` seconds: one read of everything changed since the cursor
covers all of them. The notification is acknowledged when gathered; a read that fails is not
retried here: the polling job, the safety net, reads the same changes (the cursor has not
moved) within its interval.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Awaitable, Callable

from dxc_shared.logging import get_logger
from dxc_shared.messages import ConnectionSyncProfile

from payment_sync.payments.schemas import XeroChanges

logger = get_logger(__name__)

Read = Callable[[ConnectionSyncProfile, XeroChanges], Awaitable[None]]


class Coalescer:
    def __init__(
        self, read: Read, spacing: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._read = read
        self._spacing = spacing
        self._clock = clock
        self._waiting: dict[uuid.UUID, tuple[ConnectionSyncProfile, XeroChanges]] = {}
        self._readers: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._last_read: dict[uuid.UUID, float] = {}

    def add(self, profile: ConnectionSyncProfile, changes: XeroChanges) -> None:
        connection_id = profile.connection_id
        waiting = self._waiting.get(connection_id)
        self._waiting[connection_id] = (profile, waiting[1].merged(changes) if waiting else changes)
        if connection_id not in self._readers:
            self._readers[connection_id] = asyncio.create_task(self._read_when_due(connection_id))

    async def _read_when_due(self, connection_id: uuid.UUID) -> None:
        try:
            while connection_id in self._waiting:
                last = self._last_read.get(connection_id, -math.inf)
                due_in = last + self._spacing - self._clock()
                if due_in > 0:
                    await asyncio.sleep(due_in)
                profile, changes = self._waiting.pop(connection_id)
                self._last_read[connection_id] = self._clock()
                try:
                    await self._read(profile, changes)
                except Exception:
                    logger.warning(
                        "payment_sync.webhook_read_failed",
                        connection_id=str(connection_id),
                        exc_info=True,
                    )
        finally:
            self._readers.pop(connection_id, None)

    async def idle(self) -> None:
        """Wait until every gathered notification has been read (tests, shutdown)."""
        while self._readers:
            await asyncio.gather(*self._readers.values(), return_exceptions=True)
