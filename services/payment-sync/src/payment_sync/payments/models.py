"""How far each connection's Xero changes have been read (ids and times only)."""

from __future__ import annotations

import uuid
from datetime import datetime

from dxc_shared.db import Base
from sqlalchemy import DateTime, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from payment_sync.connections.models import utcnow


class PaymentSyncCursor(Base):
    """How far a connection's Xero changes have been brought to Dynamics: for `invoices`, the
    newest `UpdatedDateUTC` written back; for `balances`, when every linked customer's balances
    were last refreshed. Moved only after the Dynamics write succeeded."""

    __tablename__ = "payment_sync_cursors"

    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    resource: Mapped[str] = mapped_column(String(32), primary_key=True)
    modified_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
