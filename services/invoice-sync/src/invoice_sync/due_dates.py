"""An invoice's dates in Xero: the invoice date is Dynamics' date delivered as a day in the
connection's time zone; the due date is Dynamics' own, else its payment terms', else the
connector's default payment terms, else none (Xero then applies the contact's or the
organisation's payment terms). Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# Dynamics 365 Sales' payment terms (paymenttermscode) -> days until due. "2% 10, Net 30" is
# due in 30 days; the early-payment discount is not Xero's to apply.
PAYMENT_TERMS_DAYS: dict[int, int] = {1: 30, 2: 30, 3: 45, 4: 60}


def local_date(value: object, zone: ZoneInfo) -> date | None:
    """A Dynamics date column as the day it is in `zone`. UserLocal columns come back as a UTC
    moment (``2026-11-29T11:00:00Z`` is the 30th in Auckland); a DateOnly column's plain
    ``2026-11-30`` is that day anywhere."""
    if not isinstance(value, str) or not value:
        return None
    if len(value) == 10:
        return date.fromisoformat(value)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def due_date(
    invoice_date: date | None,
    dynamics_due: date | None,
    payment_terms_code: int | None,
    default_days: int | None,
) -> date | None:
    if dynamics_due is not None:
        return dynamics_due
    if invoice_date is None:
        return None
    days = PAYMENT_TERMS_DAYS.get(payment_terms_code or 0, default_days)
    return invoice_date + timedelta(days=days) if days is not None else None
