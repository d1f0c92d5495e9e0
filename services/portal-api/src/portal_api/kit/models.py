"""Column sets that many portal tables share, declared once as mixins."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, Uuid
from sqlalchemy.orm import Mapped, mapped_column


class UuidKey:
    """A random UUID primary key, made by the application (ids are known before the insert)."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class OfConnection(UuidKey):
    """A row of one connection's history, deleted with the connection."""

    connection_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("portal_connections.id", ondelete="CASCADE")
    )
