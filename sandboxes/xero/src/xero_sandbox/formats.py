"""Xero's wire formats: Microsoft JSON dates, ISO date strings, money rounding, GUIDs."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from email.utils import parsedate_to_datetime

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
CENT = Decimal("0.01")
# The id Xero gives an element it did not save (its published examples of failed elements).
ZERO_GUID = "00000000-0000-0000-0000-000000000000"


def ms_timestamp(value: datetime) -> str:
    """The envelope's ``DateTimeUTC`` has no offset: ``/Date(1552357736850)/``."""
    return f"/Date({int(value.timestamp() * 1000)})/"


def date_string(value: date) -> str:
    return f"{value.isoformat()}T00:00:00"


def utc_string(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def parse_date(value: object) -> date | None:
    """A document date as clients send it: ISO date or datetime, or a Microsoft JSON date."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC).date()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def parse_http_datetime(value: str) -> datetime | None:
    """If-Modified-Since: RFC 1123 (HTTP) or ISO 8601 (what Xero's SDKs send); naive is UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_ms_date(value: str) -> datetime | None:
    match = _MS_DATE.match(value)
    return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC) if match else None


def to_decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def money(value: Decimal) -> Decimal:
    """Round half away from zero to cents, as Xero rounds each line's tax and amount."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_guid(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def new_id() -> str:
    return str(uuid.uuid4())
