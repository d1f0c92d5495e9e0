"""Columns several invoice-sync tables share, declared once (SQLAlchemy declarative mixins)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from invoice_sync.kit.time import utcnow


class PerInvoice:
    """Keyed by connection and Dynamics invoice: one row per invoice a connection handed over."""

    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    dynamics_invoice_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class Stamped:
    """When the row was written first and last."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
