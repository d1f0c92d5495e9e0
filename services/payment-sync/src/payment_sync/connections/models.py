"""What payment-sync knows of each connection (ids, times and codes only: the connector stores
no amounts, names or lines)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from dxc_shared.db import Base
from sqlalchemy import JSON, Boolean, DateTime, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class PaymentSyncConnection(Base):
    """A connection as portal-api last described it (from `ConnectionChanged`). Maps a Xero
    tenant to the connections that use it, for webhooks, and says when its reference data is
    next due."""

    __tablename__ = "payment_sync_connections"
    __table_args__ = (
        Index(None, "xero_tenant_id"),
        Index(None, "syncable", "reference_data_due_at"),
    )

    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    xero_tenant_id: Mapped[str | None] = mapped_column(String(64))
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    syncable: Mapped[bool] = mapped_column(Boolean)
    xero_short_code: Mapped[str | None] = mapped_column(
        String(32), doc="The organisation's short code, for deep links into Xero"
    )
    reference_data_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reference_data_refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
