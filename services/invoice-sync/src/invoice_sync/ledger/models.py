"""The lease and export ledger tables: who is working on a connection, and what reached Xero.

Ids only, but for the body of a Xero request while it is in flight (`PendingRequest`): it is
deleted once Xero's answer is recorded.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from dxc_shared.db import Base
from sqlalchemy import JSON, Boolean, DateTime, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from invoice_sync.kit.tables import PerInvoice, Stamped
from invoice_sync.kit.time import utcnow


class InvoiceSyncLease(Base):
    """At most one worker runs a connection's invoice job at a time. A job that finds the lease
    held sets `rerun_requested` and is acknowledged; the holder runs once more before it lets
    go. A lease that is not renewed (its worker died) expires and can be taken over."""

    __tablename__ = "invoice_sync_leases"

    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rerun_requested: Mapped[bool] = mapped_column(Boolean, default=False)


class ExportState(enum.StrEnum):
    PENDING = "pending"  # about to be sent to Xero: may or may not have reached it
    CREATED = "created"  # in Xero; Dynamics not yet told
    WRITTEN_BACK = "written_back"  # in Xero, and Dynamics says so
    # "Update in Xero" at `dynamics_version`: about to be sent (may or may not have reached Xero)
    UPDATING = "updating"
    UPDATED = "updated"  # Xero took the update of `dynamics_version`; Dynamics not yet told


class InvoiceExport(PerInvoice, Stamped, Base):
    """The ledger of exports: one row per Dynamics invoice that was (or is being) sent to Xero.
    Written `pending` and committed before the Xero call, so a crash at any point leaves a row
    that the next run reconciles against Xero instead of creating the invoice a second time."""

    __tablename__ = "invoice_sync_exports"
    __table_args__ = (Index(None, "connection_id", "state"),)

    dynamics_version: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    xero_invoice_id: Mapped[str | None] = mapped_column(String(36))
    xero_invoice_number: Mapped[str | None] = mapped_column(String(255))


class PendingRequest(Base):
    """The Xero batch create behind `pending` ledger rows, stored with them and deleted with
    Xero's answer. A worker that takes a connection over re-sends it exactly (the same body
    under the same Idempotency-Key) before planning anything new, so a late copy from a stalled
    worker is answered from Xero's idempotency cache instead of creating the invoices twice."""

    __tablename__ = "invoice_sync_pending_requests"

    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    invoice_ids: Mapped[list[str]] = mapped_column(JSON)  # in the order of `body`
    body: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SkipTold(PerInvoice, Base):
    """Why a handed-over invoice is not sent, as last told in its sync history: a Skipped row is
    written when the reason changes, not on every run. Forgotten once the invoice has an
    outcome (exported or failed)."""

    __tablename__ = "invoice_sync_skips_told"

    reason: Mapped[str] = mapped_column(Text)
    told_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
