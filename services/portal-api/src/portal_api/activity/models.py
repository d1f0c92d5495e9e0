from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from dxc_shared.db import Base
from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column


class SyncRun(Base):
    """One finished sync job, for the activity page: counts, ids and messages, never amounts."""

    __tablename__ = "portal_sync_runs"
    __table_args__ = (
        UniqueConstraint("job_id", "direction"),
        Index("ix_portal_sync_runs_connection_id_finished_at", "connection_id", "finished_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("portal_connections.id", ondelete="CASCADE")
    )
    job_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    direction: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    succeeded: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
