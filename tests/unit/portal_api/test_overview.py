"""The overview's figures from the invoices' exported steps: the median of the lags invoice-sync
reported, and the volume per day of the last 30."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from portal_api.activity.overview import daily_volume, median_lag

pytestmark = pytest.mark.unit

TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("lags", "expected"),
    [
        ([], None),
        ([None, None], None),
        ([42.0], 42.0),
        ([30.0, 10.0, 2000.0], 30.0),
        ([10.0, 20.0, 30.0, 40.0], 25.0),
        ([None, 5.0, 600.0, None, 7.0], 7.0),
    ],
    ids=[
        "nothing sent",
        "none reported",
        "one",
        "odd: an outlier does not pull it",
        "even",
        "unreported left out",
    ],
)
def test_the_median_lag_is_over_the_reported_lags(
    lags: list[float | None], expected: float | None
) -> None:
    assert median_lag(lags) == expected


@pytest.mark.parametrize(
    ("exported_at", "counts"),
    [
        ([], {}),
        (
            [
                datetime(2026, 11, 30, 9, tzinfo=UTC),
                datetime(2026, 11, 30, 23, 59, tzinfo=UTC),
                datetime(2026, 11, 29, 0, 0, tzinfo=UTC),
            ],
            {date(2026, 11, 30): 2, date(2026, 11, 29): 1},
        ),
        (
            [datetime(2026, 11, 1, 12, tzinfo=UTC), datetime(2026, 10, 31, 12, tzinfo=UTC)],
            {date(2026, 11, 1): 1},
        ),
        ([datetime(2026, 11, 30, 8)], {date(2026, 11, 30): 1}),
    ],
    ids=["none", "by utc day", "older than 30 days left out", "stored without a zone (sqlite)"],
)
def test_daily_volume_has_every_day_of_the_period(
    exported_at: list[datetime], counts: dict[date, int]
) -> None:
    days = daily_volume(exported_at, TODAY)

    assert [d.day for d in days] == [date(2026, 11, n) for n in range(1, 31)]
    assert {d.day: d.invoices for d in days if d.invoices} == counts
