from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from dxc_shared.db import Base
from sqlalchemy import DateTime, ForeignKey, Index, Integer, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from portal_api.kit.models import UuidKey
from portal_api.kit.time import utcnow


class Subscription(UuidKey, Base):
    """A connection's paid plan; at most one per connection. Paid by the month from
    `current_period_start` to `renews_at`; a subscription taken during the trial has no paid
    period yet and `renews_at` is the trial's end, when its first charge falls due."""

    __tablename__ = "portal_subscriptions"

    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("portal_connections.id", ondelete="CASCADE"), unique=True
    )
    plan: Mapped[str] = mapped_column(String(32))
    # active | past_due (a renewal failed: retried, still syncing) | paused (grace over) |
    # cancelled
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    payment_reference: Mapped[str | None] = mapped_column(String(100))
    current_period_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    renews_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    past_due_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def paid(self) -> bool:
        """Whether a charged period is running (not a trial subscription waiting to start)."""
        return self.current_period_start is not None


class Charge(UuidKey, Base):
    """One payment or credit, recorded before the provider is asked (status pending, with the
    idempotency key the provider is given) and completed after: a crash in between leaves a
    pending row that the recovery pass completes with the same key, never a second charge.
    The receipts list. Amounts are the connector's own prices, not customers' financial data."""

    __tablename__ = "portal_charges"
    __table_args__ = (
        Index("ix_portal_charges_user_id_created_at", "user_id", "created_at"),
        Index("ix_portal_charges_status_created_at", "status", "created_at"),
    )

    # No foreign keys to the connection or subscription: the intent is written in its own
    # transaction while the request's transaction holds the connection locked.
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # subscription | renewal | plan_change
    plan: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))  # negative: a credit
    currency: Mapped[str] = mapped_column(String(3))
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    description: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))  # pending | succeeded | failed
    provider_reference: Mapped[str | None] = mapped_column(String(100))
    failure_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InvoiceUsage(Base):
    """Invoices exported to Xero per connection and calendar month, against the plan's
    limit."""

    __tablename__ = "portal_invoice_usage"

    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("portal_connections.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    exported: Mapped[int] = mapped_column(Integer, default=0)
    limit_reached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CountedRun(Base):
    """An invoice run already added to the usage: a redelivered report counts once."""

    __tablename__ = "portal_invoice_usage_runs"

    job_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("portal_connections.id", ondelete="CASCADE"), index=True
    )
    counted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BillingDetails(Base):
    """Who pays, per account; the card itself stays with the payment provider."""

    __tablename__ = "portal_billing_details"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("portal_users.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    postcode: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    vat_number: Mapped[str | None] = mapped_column(String(32))
    payment_customer_ref: Mapped[str | None] = mapped_column(String(100))
    card_brand: Mapped[str | None] = mapped_column(String(32))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
