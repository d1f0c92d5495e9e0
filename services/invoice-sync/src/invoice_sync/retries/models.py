"""The retry requests invoice-sync has taken from the bus, by message id."""

from __future__ import annotations

import uuid
from datetime import datetime

from dxc_shared.db import Base
from sqlalchemy import DateTime, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from invoice_sync.kit.time import utcnow


class RetryRequest(Base):
    """A request to retry a failed invoice, applied by the connection's next run (which holds
    its lease and knows its Dynamics organisation). Kept once applied, so that a redelivered
    message is known by its id and not applied a second time."""

    __tablename__ = "invoice_sync_retry_requests"
    __table_args__ = (Index(None, "connection_id", "applied_at"),)

    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
