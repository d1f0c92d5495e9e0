"""The cancellation tables: where change tracking continues from, and how far each cancelled
invoice's handling in Xero got. Ids only."""

from __future__ import annotations

import uuid
from datetime import datetime

from dxc_shared.db import Base
from sqlalchemy import Boolean, DateTime, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from invoice_sync.kit.tables import PerInvoice, Stamped
from invoice_sync.kit.time import utcnow


class ChangeCursor(Base):
    """Where Dynamics' change tracking of a connection's invoices continues from."""

    __tablename__ = "invoice_sync_change_cursors"

    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    delta_link: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Cancellation(PerInvoice, Stamped, Base):
    """An exported invoice cancelled or deleted in Dynamics, and how far its handling in Xero
    got (see invoice_sync.cancellations.workflow)."""

    __tablename__ = "invoice_sync_cancellations"
    __table_args__ = (Index(None, "connection_id", "state"),)

    xero_invoice_id: Mapped[str] = mapped_column(String(36))
    invoice_number: Mapped[str | None] = mapped_column(String(255))
    deleted_in_dynamics: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(32))
    xero_credit_note_id: Mapped[str | None] = mapped_column(String(36))
