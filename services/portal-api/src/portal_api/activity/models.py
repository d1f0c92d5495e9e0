from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from dxc_shared.db import Base
from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from portal_api.kit.models import OfConnection, UuidKey


class SyncRun(OfConnection, Base):
    """One finished sync job, for the activity page: counts, ids and messages, never amounts."""

    __tablename__ = "portal_sync_runs"
    __table_args__ = (
        UniqueConstraint("job_id", "direction"),
        Index("ix_portal_sync_runs_connection_id_finished_at", "connection_id", "finished_at"),
    )

    job_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    direction: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    succeeded: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Runs with nothing to do are folded into one row: how many, from started_at to finished_at.
    empty_runs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Invoice(OfConnection, Base):
    """One invoice handed over, as the workers reported it: its latest outcome and the ids
    that link to it in Dynamics 365 and Xero. Numbers and words only, never amounts."""

    __tablename__ = "portal_invoices"
    __table_args__ = (
        UniqueConstraint("connection_id", "record_id"),
        Index("ix_portal_invoices_connection_id_updated_at", "connection_id", "updated_at"),
    )

    record_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str | None] = mapped_column(String(100))
    customer_name: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)
    xero_invoice_id: Mapped[str | None] = mapped_column(String(64))
    xero_url: Mapped[str | None] = mapped_column(String(512))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InvoiceEvent(UuidKey, Base):
    """One step of an invoice's history: exported, failed, not written back, retry asked."""

    __tablename__ = "portal_invoice_events"

    invoice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("portal_invoices.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)
    # Exported: seconds from handed over in Dynamics to written back (reported by invoice-sync).
    lag_seconds: Mapped[float | None] = mapped_column(Float)
