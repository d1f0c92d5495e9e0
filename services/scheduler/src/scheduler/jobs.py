"""Which jobs a due connection gets, from what portal-api last said of its plan. Pure: no I/O,
no clock.

A held connection (its plan ended, or this month's invoice limit is reached) still gets an
invoice job, at the slower held cadence: invoice-sync sends nothing then, and only tells each
invoice handed over meanwhile why it waits (once per cause), in Dynamics and in the portal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dxc_shared.messages import Hold, SyncInvoicesJob, SyncPaymentsJob

JobKind = type[SyncInvoicesJob | SyncPaymentsJob]


@dataclass(frozen=True)
class Dispatch:
    kinds: tuple[JobKind, ...]
    next_due_at: datetime


def dispatch(
    state: Hold,
    *,
    now: datetime,
    interval_seconds: float,
    held_interval_seconds: float,
    last_dispatched_at: datetime | None,
) -> Dispatch:
    """The jobs for a connection due `now` and when it is next due. Ended: the invoice job
    alone (no payments job), every max(interval, held interval). Paused: the payments job every
    interval, with the invoice job on the first dispatch after each held interval boundary
    (counted from the epoch, so no extra state is kept; `last_dispatched_at` None - newly
    paused - means at once)."""
    interval = timedelta(seconds=interval_seconds)
    if state is Hold.ENDED:
        slower = timedelta(seconds=max(interval_seconds, held_interval_seconds))
        return Dispatch((SyncInvoicesJob,), now + slower)
    if state is Hold.PAUSED:
        crossed = last_dispatched_at is None or (
            now.timestamp() // held_interval_seconds
            > last_dispatched_at.timestamp() // held_interval_seconds
        )
        kinds: tuple[JobKind, ...] = (
            (SyncInvoicesJob, SyncPaymentsJob) if crossed else (SyncPaymentsJob,)
        )
        return Dispatch(kinds, now + interval)
    return Dispatch((SyncInvoicesJob, SyncPaymentsJob), now + interval)
