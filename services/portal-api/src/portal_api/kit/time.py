from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; everything here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# A moment read from a row into an API schema: UTC, whatever the database gave back.
UtcMoment = Annotated[datetime, AfterValidator(aware)]
