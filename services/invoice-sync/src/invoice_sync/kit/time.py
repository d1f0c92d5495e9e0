"""Days and moments in a connection's time zone (an unknown zone counts as UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from datetime import time as day_time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def utcnow() -> datetime:
    return datetime.now(UTC)


def zone(time_zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def today(time_zone: str, now: datetime | None = None) -> date:
    """The date it is in `time_zone` (at `now`, by default the present)."""
    return (now or utcnow()).astimezone(zone(time_zone)).date()


def ready_at(
    date_delivered: date | None, modified_on: datetime | None, time_zone: str
) -> datetime | None:
    """When an invoice became ready: delivered (the start of that day in the connection's
    zone) and last edited (the connector lookup being set is an edit), whichever is later."""
    moments = [m for m in (modified_on,) if m is not None]
    if date_delivered is not None:
        moments.append(datetime.combine(date_delivered, day_time(), zone(time_zone)))
    return max(moments) if moments else None


def waited(
    date_delivered: date | None, modified_on: datetime | None, time_zone: str, now: datetime
) -> float | None:
    """Seconds from an invoice being ready (`ready_at`) to `now`; never negative (Dynamics'
    clock and ours differ a little), None when Dynamics gave no moment."""
    ready = ready_at(date_delivered, modified_on, time_zone)
    return None if ready is None else max(0.0, (now - ready).total_seconds())
