"""The scheduler's choice of jobs per connection state: a held connection (plan ended, or this
month's invoice limit reached) still gets the invoice job that tells invoices why they wait, at
the slower held cadence; an ended one gets no payments job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dxc_shared.messages import Hold, SyncInvoicesJob, SyncPaymentsJob, hold
from scheduler.jobs import dispatch

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 23, 9, 7, 30, tzinfo=UTC)  # 7.5 min past a 15-min boundary
PAST, FUTURE = NOW - timedelta(seconds=1), NOW + timedelta(days=3)
BOTH = (SyncInvoicesJob, SyncPaymentsJob)


@pytest.mark.parametrize(
    ("active_until", "paused_until", "expected"),
    [
        (None, None, Hold.NONE),  # subscribed
        (FUTURE, None, Hold.NONE),  # in the trial
        (NOW, None, Hold.ENDED),  # the trial ends this instant
        (PAST, None, Hold.ENDED),  # cancelled, or the trial over unpaid
        (None, FUTURE, Hold.PAUSED),  # at the invoice limit
        (None, NOW, Hold.NONE),  # the limit lifts this instant (next month)
        (None, PAST, Hold.NONE),
        (PAST, FUTURE, Hold.ENDED),  # ended wins: no payments either
    ],
)
def test_hold(active_until: datetime | None, paused_until: datetime | None, expected: Hold) -> None:
    assert hold(active_until, paused_until, NOW) is expected


@pytest.mark.parametrize(
    ("state", "interval", "last", "kinds", "next_in"),
    [
        (Hold.NONE, 60, NOW - timedelta(seconds=60), BOTH, 60),
        (Hold.NONE, 60, None, BOTH, 60),
        # Ended: the invoice job alone, every max(interval, held interval).
        (Hold.ENDED, 60, None, (SyncInvoicesJob,), 900),
        (Hold.ENDED, 3600, NOW - timedelta(hours=1), (SyncInvoicesJob,), 3600),
        # Paused: payments every interval; the invoice job when newly paused...
        (Hold.PAUSED, 60, None, BOTH, 60),
        # ... then not within the same 15-minute window ...
        (Hold.PAUSED, 60, NOW - timedelta(seconds=60), (SyncPaymentsJob,), 60),
        (Hold.PAUSED, 60, NOW - timedelta(seconds=450), (SyncPaymentsJob,), 60),
        # ... but on the first dispatch past its boundary.
        (Hold.PAUSED, 60, NOW - timedelta(seconds=451), BOTH, 60),
        (Hold.PAUSED, 3600, NOW - timedelta(hours=1), BOTH, 3600),
    ],
)
def test_dispatch(
    state: Hold,
    interval: int,
    last: datetime | None,
    kinds: tuple[type[SyncInvoicesJob | SyncPaymentsJob], ...],
    next_in: int,
) -> None:
    chosen = dispatch(
        state,
        now=NOW,
        interval_seconds=interval,
        held_interval_seconds=900,
        last_dispatched_at=last,
    )
    assert chosen.kinds == kinds
    assert chosen.next_due_at == NOW + timedelta(seconds=next_in)
