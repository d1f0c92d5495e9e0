"""The arithmetic of billing: prorated plan changes to the penny, and monthly periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from portal_api.billing.plans import add_month, month_start, prorated_difference

pytestmark = pytest.mark.unit

START = datetime(2026, 4, 1, tzinfo=UTC)
END = datetime(2026, 5, 1, tzinfo=UTC)  # 30 days


def change(old: str, new: str, now: datetime) -> Decimal:
    return prorated_difference(
        Decimal(old), Decimal(new), now=now, period_start=START, period_end=END
    )


def test_an_upgrade_at_the_start_of_the_period_costs_the_whole_difference() -> None:
    assert change("29.00", "199.00", START) == Decimal("170.00")


def test_an_upgrade_half_way_costs_half_the_difference() -> None:
    assert change("29.00", "79.00", START + timedelta(days=15)) == Decimal("25.00")


def test_a_downgrade_is_credited_for_the_days_left() -> None:
    assert change("199.00", "29.00", START + timedelta(days=20)) == Decimal("-56.67")


def test_the_share_is_rounded_half_up_to_the_penny() -> None:
    # 50 * 1/30 = 1.6666… → 1.67; 10 days of 0.05 a month = 0.01666… → 0.02
    assert change("29.00", "79.00", END - timedelta(days=1)) == Decimal("1.67")
    assert change("0.00", "0.05", END - timedelta(days=10)) == Decimal("0.02")


def test_at_or_after_the_period_end_nothing_is_left_to_prorate() -> None:
    assert change("29.00", "199.00", END) == Decimal("0.00")
    assert change("29.00", "199.00", END + timedelta(days=3)) == Decimal("0.00")


def test_before_the_period_start_the_whole_period_counts() -> None:
    assert change("29.00", "79.00", START - timedelta(days=1)) == Decimal("50.00")


def test_the_same_price_costs_nothing() -> None:
    assert change("79.00", "79.00", START + timedelta(days=7)) == Decimal("0.00")


@pytest.mark.parametrize(
    ("moment", "month_later"),
    [
        (datetime(2026, 1, 15, 9, 30, tzinfo=UTC), datetime(2026, 2, 15, 9, 30, tzinfo=UTC)),
        (datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2028, 1, 31, tzinfo=UTC), datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), datetime(2027, 1, 31, 23, 59, tzinfo=UTC)),
    ],
)
def test_a_month_later_keeps_the_day_or_takes_the_months_last(
    moment: datetime, month_later: datetime
) -> None:
    assert add_month(moment) == month_later


def test_invoice_limits_count_per_calendar_month() -> None:
    assert month_start(datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == datetime(
        2026, 11, 1, tzinfo=UTC
    )
