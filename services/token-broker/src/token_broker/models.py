from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

from dxc_shared.db import Base
from sqlalchemy import JSON, DateTime, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class CredentialStatus(enum.StrEnum):
    ACTIVE = "active"
    REAUTHORISATION_NEEDED = "reauthorisation_needed"


class OAuthCredential(Base):
    """One connection's grant at one provider. Tokens are stored only as ciphertext."""

    __tablename__ = "oauth_credentials"
    __table_args__ = (UniqueConstraint("connection_id", "provider"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    connection_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    provider: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32), default=CredentialStatus.ACTIVE)
    status_message: Mapped[str | None] = mapped_column(Text)
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    refresh_token_ciphertext: Mapped[str | None] = mapped_column(Text)
    access_token_ciphertext: Mapped[str | None] = mapped_column(Text)
    access_token_resource: Mapped[str | None] = mapped_column(String(512))
    access_token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refreshed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
