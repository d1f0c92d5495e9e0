"""The plan's monthly invoice limit, kept by the run itself: portal-api counts what the runs
report and pauses a connection at its limit, but a run that starts below the limit would
otherwise send every ready invoice (a bulk hand-over of thousands on a 500-invoice plan). So a
run sends no more new invoices than the calendar month (UTC, as portal-api counts) has left, by
its own ledger, and the rest wait with the reason a paused connection gives."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from invoice_sync.invoices.plan import Create, Skip, limit_reached


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The first instant of `now`'s calendar month (UTC) and of the next."""
    now = now.astimezone(UTC)
    start = datetime(now.year, now.month, 1, tzinfo=UTC)
    following = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
    return start, following


def within_limit(
    creates: Sequence[Create], *, sent_this_month: int, limit: int | None, now: datetime
) -> tuple[list[Create], list[Skip]]:
    """The creates this month's limit leaves room for (in the order given: oldest hand-over
    first), and the rest as skips."""
    if limit is None:
        return list(creates), []
    room = max(0, limit - sent_this_month)
    _, next_month = month_bounds(now)
    reason = limit_reached(next_month.date())
    return list(creates[:room]), [Skip(c.invoice, reason) for c in creates[room:]]
