"""The plans on sale, as data, and the arithmetic of billing periods."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    monthly_price: Decimal
    currency: str
    sync_interval_seconds: int
    max_invoices_per_month: int


PLANS: dict[str, Plan] = {
    plan.code: plan
    for plan in (
        Plan("starter", "Starter", Decimal("29.00"), "GBP", 60, 500),
        Plan("growth", "Growth", Decimal("79.00"), "GBP", 30, 2500),
        Plan("scale", "Scale", Decimal("199.00"), "GBP", 15, 20000),
    )
}
DEFAULT_PLAN = "starter"

# Dunning: a renewal the card refuses is retried daily; after the grace period the connection
# is paused (never deleted) until a card pays.
RETRY_EVERY = timedelta(days=1)
GRACE_PERIOD = timedelta(days=7)

_PENNY = Decimal("0.01")


def add_month(moment: datetime) -> datetime:
    """The same day and time a month later; the 31st becomes the month's last day."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def month_start(moment: datetime) -> datetime:
    """The first instant (UTC) of the calendar month `moment` falls in: invoice limits count
    per calendar month."""
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def prorated_difference(
    old_price: Decimal,
    new_price: Decimal,
    *,
    now: datetime,
    period_start: datetime,
    period_end: datetime,
) -> Decimal:
    """What a plan change costs for the rest of a paid period, to the penny: positive is
    charged, negative credited. The unused share of the old price is given back and the same
    share of the new price is taken."""
    total = (period_end - period_start).total_seconds()
    left = min(max((period_end - now).total_seconds(), 0.0), total)
    share = Decimal(str(left)) / Decimal(str(total))
    return ((new_price - old_price) * share).quantize(_PENNY, rounding=ROUND_HALF_UP)
