"""One run's report: what it synced, what failed and why, published as `SyncRunCompleted`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dxc_shared.messages import SyncDirection, SyncFailure, SyncRunCompleted, SyncSuccess
from dxc_shared.outbox import enqueue


@dataclass
class RunReport:
    connection_id: uuid.UUID
    job_id: uuid.UUID
    direction: SyncDirection
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # Records written; workers that name them (`succeed`) also list them in `successes`.
    succeeded: int = 0
    successes: list[SyncSuccess] = field(default_factory=list)
    failures: list[SyncFailure] = field(default_factory=list)
    error: str | None = None
    skipped: list[SyncFailure] = field(default_factory=list)
    missing_privileges: list[str] = field(default_factory=list)

    def skip(self, record_id: str, record_number: str | None, reason: str) -> None:
        self.skipped.append(
            SyncFailure(record_id=record_id, record_number=record_number, message=reason)
        )

    def succeed(self, success: SyncSuccess) -> None:
        self.successes.append(success)
        self.succeeded += 1

    def fail(
        self,
        record_id: str,
        record_number: str | None,
        message: str,
        *,
        customer_name: str | None = None,
    ) -> None:
        self.failures.append(
            SyncFailure(
                record_id=record_id,
                record_number=record_number,
                message=message,
                customer_name=customer_name,
            )
        )

    def completed(self, finished_at: datetime | None = None) -> SyncRunCompleted:
        return SyncRunCompleted(
            connection_id=self.connection_id,
            job_id=self.job_id,
            direction=self.direction,
            started_at=self.started_at,
            finished_at=finished_at or datetime.now(UTC),
            succeeded=self.succeeded,
            failed=len(self.failures),
            failures=self.failures,
            successes=self.successes,
            error=self.error,
            skipped=self.skipped,
            missing_privileges=self.missing_privileges,
        )

    def publish(self, session: AsyncSession, finished_at: datetime | None = None) -> None:
        """Put the report in the outbox of `session`: it goes out only if that transaction
        (which records the run's effect) commits."""
        enqueue(
            session,
            self.completed(finished_at),
            headers={"connection_id": str(self.connection_id)},
        )
