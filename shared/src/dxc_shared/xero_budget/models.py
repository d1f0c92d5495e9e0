"""The Xero call windows every service shares: one row per organisation and one for the app."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from dxc_shared.db.base import Base


def _utcnow() -> datetime:
    return datetime.now(UTC)


class XeroCallWindow(Base):
    """What the services took from one of Xero's limits (`scope`: `tenant:<id>` or `app`); its
    `state` is a `decisions.TenantWindow` or `AppWindow` as JSON, read and written under a row
    lock."""

    __tablename__ = "xero_call_windows"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=_utcnow, onupdate=_utcnow
    )
