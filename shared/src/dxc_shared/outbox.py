"""Publish after commit: the transactional outbox.

Code inside a unit of work calls `enqueue(session, message)`; the message is written to
`outbox_messages` in the same transaction, so a rollback emits nothing. After the commit the
relay is woken and moves pending rows to the bus, deleting each once the broker confirms it. A
periodic sweep picks up rows left by a process that died between commit and relay. With several
replicas, `FOR UPDATE SKIP LOCKED` lets each relay take different rows (SQLite ignores it; the
embedded mode has one relay).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String, Text, Uuid, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from dxc_shared.bus.contract import BusMessage, Envelope, Publisher
from dxc_shared.db.base import Base
from dxc_shared.db.database import Database
from dxc_shared.logging import current_log_context, get_logger
from dxc_shared.metrics import (
    OUTBOX_OLDEST_PENDING_AGE,
    OUTBOX_PENDING,
    OUTBOX_RELAY_FAILURES,
    OUTBOX_RELAYED,
)

logger = get_logger(__name__)

_PENDING_KEY = "dxc_outbox_pending"


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    topic: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), index=True, default=lambda: datetime.now(UTC)
    )


def _row(message: BusMessage, headers: Mapping[str, str] | None) -> dict[str, Any]:
    return {
        "topic": message.topic,
        "body": message.model_dump_json(),
        "headers": {**current_log_context(), **(headers or {})},
    }


def enqueue(
    session: AsyncSession, message: BusMessage, *, headers: Mapping[str, str] | None = None
) -> None:
    """Publish `message` if, and only if, the session's transaction commits."""
    session.add(OutboxMessage(**_row(message, headers)))
    session.info[_PENDING_KEY] = True


async def enqueue_all(
    session: AsyncSession, messages: Iterable[tuple[BusMessage, Mapping[str, str] | None]]
) -> None:
    """`enqueue` for many messages (with their headers) in one multi-row INSERT: the scheduler
    dispatches thousands per tick, where one ORM object per message costs most of the time."""
    rows = [_row(message, headers) for message, headers in messages]
    if rows:
        await session.execute(insert(OutboxMessage), rows)
        session.info[_PENDING_KEY] = True


MAX_RELAY_BACKOFF = 60.0


class OutboxRelay:
    def __init__(
        self,
        database: Database,
        publisher: Publisher,
        *,
        batch_size: int = 100,
        sweep_interval: float = 5.0,
    ) -> None:
        self._database = database
        self._publisher = publisher
        self._batch_size = batch_size
        self._sweep_interval = sweep_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        database.on_commit(self._after_commit)

    def _after_commit(self, session: AsyncSession) -> None:
        if session.info.pop(_PENDING_KEY, False):
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        # Hand over what is still pending rather than leaving it for the next sweep.
        await self.relay_pending()

    async def _run(self) -> None:
        """Sweep every `sweep_interval`, or at once after a commit. After consecutive failures
        (the database or the broker down) the sweep waits twice as long each time, up to
        MAX_RELAY_BACKOFF, and only the first failure of a streak logs its traceback."""
        failures = 0
        while True:
            backoff = min(self._sweep_interval * 2 ** min(failures, 16), MAX_RELAY_BACKOFF)
            wait = max(self._sweep_interval, backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            self._wake.clear()
            try:
                await self.relay_pending()
            except Exception as error:
                failures += 1
                OUTBOX_RELAY_FAILURES.inc()
                logger.warning(
                    "outbox.relay_failed",
                    error=f"{type(error).__name__}: {error}"[:500],
                    failures=failures,
                    exc_info=failures == 1,
                )
            else:
                failures = 0
            try:
                await self.measure_backlog()
            except Exception as error:  # the relay's failure above has said why, once
                logger.warning(
                    "outbox.backlog_unmeasured", error=f"{type(error).__name__}: {error}"[:500]
                )

    async def measure_backlog(self) -> None:
        """Record what still waits (e.g. the bus is down): dxc_outbox_* gauges."""
        async with self._database.unit_of_work() as session:
            pending, oldest = (
                await session.execute(
                    select(func.count(), func.min(OutboxMessage.created_at)).select_from(
                        OutboxMessage
                    )
                )
            ).one()
        OUTBOX_PENDING.set(pending)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)  # SQLite keeps no time zone
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
        OUTBOX_OLDEST_PENDING_AGE.set(max(age, 0.0))

    async def relay_pending(self) -> int:
        """Publish every pending message; returns how many were published."""
        relayed = 0
        while True:
            async with self._database.unit_of_work() as session:
                rows = (
                    await session.scalars(
                        select(OutboxMessage)
                        .order_by(OutboxMessage.created_at)
                        .limit(self._batch_size)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
                for row in rows:
                    await self._publisher.publish_envelope(
                        Envelope(
                            topic=row.topic,
                            body=row.body.encode(),
                            headers=row.headers,
                            message_id=row.id.hex,
                        )
                    )
                if rows:
                    await session.execute(
                        delete(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows]))
                    )
            relayed += len(rows)
            OUTBOX_RELAYED.inc(len(rows))
            if len(rows) < self._batch_size:
                return relayed
