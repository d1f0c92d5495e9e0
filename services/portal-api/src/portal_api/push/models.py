from __future__ import annotations

import uuid
from datetime import datetime

from dxc_shared.db import Base
from sqlalchemy import DateTime, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column


class PushSubscription(Base):
    """A connection's Dataverse webhook: the SHA-256 hash of the secret Dataverse sends in its
    header (the secret itself lives only in Dataverse) and the organisation that may post."""

    __tablename__ = "portal_push_subscriptions"

    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    organization_id: Mapped[str | None] = mapped_column(String(64))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When the relay last sent this connection's sync request: pushes within the coalescing
    # window after it wait for the window's end (see `context.coalesced_due_at`).
    last_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PushRequest(Base):
    """A push waiting to become a sync request: one row per connection, so every post that
    arrives before `due_at` joins the same request."""

    __tablename__ = "portal_push_requests"

    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
