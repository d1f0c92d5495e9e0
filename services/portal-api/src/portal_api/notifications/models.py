from __future__ import annotations

import uuid
from datetime import datetime

from dxc_shared.db import Base
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal_api.kit.models import UuidKey


class NotificationPreferences(Base):
    """Which e-mails a person wants; a person without a row gets them all."""

    __tablename__ = "portal_notification_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("portal_users.id", ondelete="CASCADE"), primary_key=True
    )
    reauthorisation: Mapped[bool] = mapped_column(Boolean, default=True)
    failures: Mapped[bool] = mapped_column(Boolean, default=True)
    trial_ending: Mapped[bool] = mapped_column(Boolean, default=True)
    billing: Mapped[bool] = mapped_column(Boolean, default=True)


class NotificationSent(UuidKey, Base):
    """One notification e-mail queued: what the once-only rules and the daily limit count."""

    __tablename__ = "portal_notifications_sent"
    __table_args__ = (Index("ix_portal_notifications_sent_user_id_sent_at", "user_id", "sent_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("portal_users.id", ondelete="CASCADE"))
    connection_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("portal_connections.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(32))
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
