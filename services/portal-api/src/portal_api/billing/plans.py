"""The plans on sale, as data."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


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
