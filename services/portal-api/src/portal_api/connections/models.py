from __future__ import annotations

import uuid
from datetime import datetime

from dxc_shared.db import Base
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal_api.kit.models import UuidKey
from portal_api.kit.time import utcnow


class Connection(UuidKey, Base):
    """One customer's Dynamics Xero Connector: both OAuth sides, the chosen organisations,
    the install state in Dynamics, plan and time zone. Tokens live in token-broker only."""

    __tablename__ = "portal_connections"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("portal_users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    plan: Mapped[str] = mapped_column(String(32))
    xero_connected: Mapped[bool] = mapped_column(Boolean, default=False)
    xero_tenant_id: Mapped[str | None] = mapped_column(String(64))
    xero_tenant_name: Mapped[str | None] = mapped_column(String(200))
    xero_error: Mapped[str | None] = mapped_column(Text)
    dynamics_connected: Mapped[bool] = mapped_column(Boolean, default=False)
    dynamics_org_url: Mapped[str | None] = mapped_column(String(512))
    dynamics_org_name: Mapped[str | None] = mapped_column(String(200))
    dynamics_error: Mapped[str | None] = mapped_column(Text)
    tables_installed: Mapped[bool] = mapped_column(Boolean, default=False)
    missing_privileges: Mapped[list[str] | None] = mapped_column(JSON)
    dynamics_connector_id: Mapped[str | None] = mapped_column(String(64))
    field_mappings: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The plan's monthly invoice limit is reached: new invoices wait until then (billing sets
    # and clears it; the scheduler is told).
    invoices_paused_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the scheduler and workers were told the trial ended without a subscription (the
    # billing pass tells them once, so the connector record in Dynamics says Inactive).
    trial_end_announced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
