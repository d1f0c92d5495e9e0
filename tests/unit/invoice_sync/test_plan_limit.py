"""The plan's monthly limit within a run: how many creates the month has room for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from invoice_sync.invoices.limit import month_bounds, within_limit
from invoice_sync.invoices.plan import Create

from tests.unit.invoice_sync.records import invoice

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 30, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "start", "following"),
    [
        (NOW, datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        (
            datetime(2026, 2, 28, 23, 59, tzinfo=UTC),
            datetime(2026, 2, 1, tzinfo=UTC),
            datetime(2026, 3, 1, tzinfo=UTC),
        ),
        # 1 Jan 00:30 in Auckland is still 31 Dec in UTC, where portal-api counts months.
        (
            datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=13))),
            datetime(2026, 12, 1, tzinfo=UTC),
            datetime(2027, 1, 1, tzinfo=UTC),
        ),
    ],
)
def test_a_month_is_a_calendar_month_in_utc(
    now: datetime, start: datetime, following: datetime
) -> None:
    assert month_bounds(now) == (start, following)


def _creates(count: int) -> list[Create]:
    return [Create(invoice(invoice_id=f"inv-{n}"), {}) for n in range(count)]


@pytest.mark.parametrize(
    ("sent", "limit", "creates", "sent_now"),
    [
        (0, None, 7, 7),  # no limit
        (0, 500, 7, 7),
        (497, 500, 7, 3),  # the month's last three, oldest hand-over first
        (500, 500, 7, 0),
        (520, 500, 2, 0),  # past it (counted before a smaller plan): none
        (0, 0, 1, 0),
    ],
)
def test_a_run_sends_what_the_month_has_left_and_the_rest_wait(
    sent: int, limit: int | None, creates: int, sent_now: int
) -> None:
    planned = _creates(creates)
    going, waiting = within_limit(planned, sent_this_month=sent, limit=limit, now=NOW)
    assert going == planned[:sent_now]
    assert [skip.invoice for skip in waiting] == [c.invoice for c in planned[sent_now:]]
    assert {skip.reason for skip in waiting} <= {
        "Not sent: this month's plan limit is reached; it waits until 1 Jan 2027 or a bigger plan."
    }
