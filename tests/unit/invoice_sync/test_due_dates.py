"""Invoice and due dates as Xero gets them."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from invoice_sync.due_dates import due_date, local_date

pytestmark = pytest.mark.unit
AUCKLAND = ZoneInfo("Pacific/Auckland")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("value", "zone", "expected"),
    [
        ("2026-11-29T11:00:00Z", AUCKLAND, date(2026, 11, 30)),
        ("2026-11-29T11:00:00Z", NEW_YORK, date(2026, 11, 29)),
        ("2026-11-30T05:00:00Z", NEW_YORK, date(2026, 11, 30)),
        ("2026-11-30", AUCKLAND, date(2026, 11, 30)),
        (None, AUCKLAND, None),
        ("", AUCKLAND, None),
    ],
)
def test_local_date(value: str | None, zone: ZoneInfo, expected: date | None) -> None:
    assert local_date(value, zone) == expected


INVOICED = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("dynamics_due", "terms", "default_days", "expected"),
    [
        (date(2026, 4, 1), 4, 14, date(2026, 4, 1)),  # Dynamics' own due date first
        (None, 1, 14, date(2026, 4, 9)),  # Net 30
        (None, 2, None, date(2026, 4, 9)),  # 2% 10, Net 30
        (None, 3, None, date(2026, 4, 24)),  # Net 45
        (None, 4, None, date(2026, 5, 9)),  # Net 60
        (None, None, 14, date(2026, 3, 24)),  # the connector's default
        (None, None, None, None),  # none: Xero's payment terms apply
    ],
)
def test_due_date(
    dynamics_due: date | None, terms: int | None, default_days: int | None, expected: date | None
) -> None:
    assert due_date(INVOICED, dynamics_due, terms, default_days) == expected
