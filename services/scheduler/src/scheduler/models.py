from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from dxc_shared.db import Base
from sqlalchemy import JSON, Boolean, DateTime, Index, Uuid
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class ConnectionSchedule(Base):
    """When a connection is next due. Fed only by portal-api's connection events; the profile
    is the copy the jobs carry to the workers."""

    __tablename__ = "connection_schedules"
    __table_args__ = (Index(None, "syncable", "next_due_at"),)

    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Jobs go out: syncable, or set up with its plan ended (held invoice jobs only, see `jobs`).
    syncable: Mapped[bool] = mapped_column(Boolean)
    next_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    active_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    invoices_paused_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
