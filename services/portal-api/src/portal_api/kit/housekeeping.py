"""Forget what has expired: sessions, e-mail links, OAuth states, old login attempts, sent
e-mails, the run ids the invoice usage counted, and sync runs and invoice outcomes past their
retention. Every replica may run it; the deletes are idempotent."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from dxc_shared.db import Database
from dxc_shared.logging import get_logger
from sqlalchemy import delete, or_

from portal_api.activity.models import Invoice, InvoiceEvent, SyncRun
from portal_api.activity.service import RETENTION
from portal_api.auth.models import AuthSession, EmailToken, LoginAttempt
from portal_api.billing.models import CountedRun
from portal_api.kit.email import OutgoingEmail
from portal_api.kit.time import utcnow
from portal_api.notifications.models import NotificationSent
from portal_api.oauth.models import OAuthState

logger = get_logger(__name__)

SENT_EMAIL_KEPT = timedelta(days=7)
# Long past any redelivery of a run report.
COUNTED_RUNS_KEPT = timedelta(days=7)
NOTIFICATIONS_KEPT = timedelta(days=30)  # beyond the longest once-only window


async def purge_expired(database: Database, *, login_window: timedelta) -> int:
    now = utcnow()
    removed = 0
    async with database.unit_of_work() as session:
        for statement in (
            delete(AuthSession).where(AuthSession.expires_at <= now),
            delete(OAuthState).where(OAuthState.expires_at <= now),
            delete(EmailToken).where(
                or_(EmailToken.expires_at <= now, EmailToken.used_at.is_not(None))
            ),
            delete(LoginAttempt).where(LoginAttempt.attempted_at <= now - login_window),
            delete(OutgoingEmail).where(OutgoingEmail.sent_at <= now - SENT_EMAIL_KEPT),
            delete(CountedRun).where(CountedRun.counted_at <= now - COUNTED_RUNS_KEPT),
            delete(SyncRun).where(SyncRun.finished_at <= now - RETENTION),
            delete(InvoiceEvent).where(InvoiceEvent.at <= now - RETENTION),
            delete(Invoice).where(Invoice.updated_at <= now - RETENTION),
            delete(NotificationSent).where(NotificationSent.sent_at <= now - NOTIFICATIONS_KEPT),
        ):
            result = await session.execute(statement)
            removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


async def run_housekeeping(
    database: Database, *, login_window: timedelta, every_seconds: float = 3600
) -> None:
    while True:
        removed = await purge_expired(database, login_window=login_window)
        if removed:
            logger.info("housekeeping.purged", rows=removed)
        await asyncio.sleep(every_seconds)
