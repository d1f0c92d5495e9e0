"""E-mail through an outbox: services add a row in their unit of work; after the commit the
relay sends it, retrying with back-off, so a rolled-back registration sends nothing and a mail
server outage loses nothing. Each e-mail row records the client address that asked for it, so
the rate limits (per recipient, per client) hold across replicas.

Senders: the development mailbox (one `.eml` and one `.json` file per e-mail, for people and
tests to read) in embedded mode, SMTP in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import smtplib
import uuid
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from dxc_shared.db import Base, Database
from dxc_shared.logging import get_logger
from sqlalchemy import DateTime, Index, Integer, String, Text, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from portal_api.kit.models import UuidKey
from portal_api.kit.time import utcnow
from portal_api.metrics import EMAILS

logger = get_logger(__name__)

_PENDING_KEY = "portal_email_pending"
MAX_BACKOFF = timedelta(hours=1)


class OutgoingEmail(UuidKey, Base):
    __tablename__ = "portal_emails"
    __table_args__ = (
        Index("ix_portal_emails_sent_at_next_attempt_at", "sent_at", "next_attempt_at"),
        Index("ix_portal_emails_recipient_created_at", "recipient", "created_at"),
        Index("ix_portal_emails_requested_by_created_at", "requested_by", "created_at"),
    )

    recipient: Mapped[str] = mapped_column(String(320))
    requested_by: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class EmailLimits:
    """At most `per_recipient` e-mails to one address and `per_client` requested from one
    client address within `window`."""

    per_recipient: int
    per_client: int
    window: timedelta


async def email_allowed(
    session: AsyncSession, limits: EmailLimits, *, to: str, requested_by: str
) -> bool:
    """Whether the limits allow one more e-mail to `to` asked for from `requested_by`. When
    not, the caller sends nothing and answers the same: no hint either way."""
    since = utcnow() - limits.window
    to_recipient, from_client = (
        await session.execute(
            select(
                func.count().filter(OutgoingEmail.recipient == to),
                func.count().filter(OutgoingEmail.requested_by == requested_by),
            ).where(
                OutgoingEmail.created_at >= since,
                or_(OutgoingEmail.recipient == to, OutgoingEmail.requested_by == requested_by),
            )
        )
    ).one()
    if to_recipient < limits.per_recipient and from_client < limits.per_client:
        return True
    logger.warning(
        "email.rate_limited",
        per_recipient_reached=to_recipient >= limits.per_recipient,
        per_client_reached=from_client >= limits.per_client,
    )
    EMAILS.labels("rate_limited").inc()
    return False


def enqueue_email(
    session: AsyncSession, *, to: str, subject: str, body: str, requested_by: str | None = None
) -> None:
    """Send this e-mail if, and only if, the session's transaction commits. `requested_by`:
    the client address that asked for it, if a client did (what `email_allowed` counts)."""
    session.add(OutgoingEmail(recipient=to, requested_by=requested_by, subject=subject, body=body))
    session.info[_PENDING_KEY] = True


class MailSender(Protocol):
    async def send(self, message: EmailMessage, email_id: uuid.UUID) -> None: ...


class MailboxSender:
    """Development mailbox: `<id>.eml` (open it in a mail client) and `<id>.json`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage, email_id: uuid.UUID) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / f"{email_id}.eml").write_bytes(bytes(message))
        record = {
            "id": str(email_id),
            "from": message["From"],
            "to": message["To"],
            "subject": message["Subject"],
            "body": message.get_content(),
            "date": message["Date"],
        }
        (self.directory / f"{email_id}.json").write_text(json.dumps(record, indent=2))


class SmtpSender:
    def __init__(
        self, host: str, port: int, *, username: str | None, password: str | None, starttls: bool
    ) -> None:
        self._host, self._port = host, port
        self._username, self._password = username, password
        self._starttls = starttls

    def _send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self._host, self._port, timeout=30) as smtp:
            if self._starttls:
                smtp.starttls()
            if self._username:
                smtp.login(self._username, self._password or "")
            smtp.send_message(message)

    async def send(self, message: EmailMessage, email_id: uuid.UUID) -> None:
        await asyncio.to_thread(self._send, message)


@dataclass
class EmailRelay:
    """Sends the outbox's e-mails: woken by a commit that queued one, else every
    `poll_seconds` (retries fall due with time)."""

    database: Database
    sender: MailSender
    _: KW_ONLY
    sender_address: str
    poll_seconds: float
    _wake: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    def __post_init__(self) -> None:
        self.database.on_commit(self._after_commit)

    def _after_commit(self, session: AsyncSession) -> None:
        if session.info.pop(_PENDING_KEY, False):
            self._wake.set()

    def _message(self, row: OutgoingEmail) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender_address
        message["To"] = row.recipient
        message["Subject"] = row.subject
        message["Date"] = row.created_at.strftime("%a, %d %b %Y %H:%M:%S +0000")
        message["Message-ID"] = f"<{row.id}@dx-connector>"
        message.set_content(row.body)
        return message

    async def send_pending(self, batch_size: int = 20) -> int:
        """Send every e-mail that is due; returns how many went out."""
        sent = 0
        async with self.database.unit_of_work() as session:
            now = utcnow()
            rows = (
                await session.scalars(
                    select(OutgoingEmail)
                    .where(OutgoingEmail.sent_at.is_(None), OutgoingEmail.next_attempt_at <= now)
                    .order_by(OutgoingEmail.created_at)
                    .limit(batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                try:
                    await self.sender.send(self._message(row), row.id)
                except Exception as error:
                    row.attempts += 1
                    row.last_error = f"{type(error).__name__}: {error}"[:2000]
                    row.next_attempt_at = now + min(
                        timedelta(seconds=30 * 2**row.attempts), MAX_BACKOFF
                    )
                    logger.warning("email.send_failed", attempts=row.attempts, error=row.last_error)
                    EMAILS.labels("failed").inc()
                    continue
                row.sent_at = now
                EMAILS.labels("sent").inc()
                sent += 1
        return sent

    async def run(self) -> None:
        while True:
            await self.send_pending()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            self._wake.clear()
