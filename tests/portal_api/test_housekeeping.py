"""Expired sessions, links, OAuth states, old login attempts, and runs and invoices past their
retention are forgotten; live ones stay."""

from __future__ import annotations

import uuid
from datetime import timedelta

from dxc_shared.db import Database
from portal_api.activity.models import Invoice, InvoiceEvent, SyncRun
from portal_api.activity.service import RETENTION
from portal_api.auth.models import AuthSession, EmailToken, LoginAttempt, User
from portal_api.connections.models import Connection
from portal_api.kit.housekeeping import purge_expired
from portal_api.kit.time import utcnow
from portal_api.oauth.models import OAuthState
from sqlalchemy import func, select


async def test_purge_keeps_what_is_still_valid(migrated_postgres: str) -> None:
    database = Database(migrated_postgres)
    now = utcnow()
    user_id = uuid.uuid4()
    email = f"{user_id.hex[:8]}@example.com"
    live, dead = uuid.uuid4(), uuid.uuid4()
    try:
        async with database.unit_of_work() as session:
            session.add(
                User(
                    id=user_id,
                    email=email,
                    name="N",
                    company_name="C",
                    trial_ends_at=now + timedelta(days=14),
                )
            )
            await session.flush()
            connection = Connection(
                user_id=user_id, name="C", time_zone="UTC", plan="starter", tables_installed=False
            )
            session.add(connection)
            for session_id, expires in ((live, now + timedelta(days=1)), (dead, now)):
                session.add(
                    AuthSession(
                        id=session_id,
                        token_hash=uuid.uuid4().hex,
                        csrf_token="c",
                        user_id=user_id,
                        expires_at=expires,
                    )
                )
            await session.flush()
            for state, expires in (("live-state", now + timedelta(minutes=5)), ("dead", now)):
                session.add(
                    OAuthState(
                        state=f"{state}-{user_id.hex}",
                        provider="xero",
                        connection_id=connection.id,
                        session_id=live,
                        code_verifier="v",
                        expires_at=expires,
                    )
                )
            for used, expires in ((None, now + timedelta(days=1)), (now, now + timedelta(days=1))):
                session.add(
                    EmailToken(
                        token_hash=uuid.uuid4().hex,
                        user_id=user_id,
                        purpose="confirm",
                        expires_at=expires,
                        used_at=used,
                    )
                )
            for age in (timedelta(minutes=1), timedelta(hours=1)):
                session.add(
                    LoginAttempt(
                        email=email, ip="203.0.113.1", succeeded=False, attempted_at=now - age
                    )
                )

        assert await purge_expired(database, login_window=timedelta(minutes=15)) >= 4

        async with database.unit_of_work() as session:
            sessions = (
                await session.scalars(select(AuthSession.id).where(AuthSession.user_id == user_id))
            ).all()
            assert sessions == [live]
            states = (
                await session.scalars(
                    select(OAuthState.state).where(OAuthState.connection_id == connection.id)
                )
            ).all()
            assert states == [f"live-state-{user_id.hex}"]
            tokens = (
                await session.scalars(
                    select(EmailToken.used_at).where(EmailToken.user_id == user_id)
                )
            ).all()
            assert tokens == [None]
            attempts = await session.scalar(
                select(func.count()).select_from(LoginAttempt).where(LoginAttempt.email == email)
            )
            assert attempts == 1
    finally:
        await database.dispose()


async def test_runs_and_invoices_are_kept_for_their_stated_retention(
    migrated_postgres: str,
) -> None:
    database = Database(migrated_postgres)
    now = utcnow()
    user_id = uuid.uuid4()
    try:
        async with database.unit_of_work() as session:
            session.add(
                User(
                    id=user_id,
                    email=f"{user_id.hex[:8]}@example.com",
                    name="N",
                    company_name="C",
                    trial_ends_at=now + timedelta(days=14),
                )
            )
            await session.flush()
            connection = Connection(
                user_id=user_id, name="C", time_zone="UTC", plan="starter", tables_installed=False
            )
            session.add(connection)
            await session.flush()
            for number, age in (("OLD", RETENTION + timedelta(days=1)), ("NEW", timedelta(days=1))):
                session.add(
                    SyncRun(
                        connection_id=connection.id,
                        job_id=uuid.uuid4(),
                        direction="invoices",
                        started_at=now - age,
                        finished_at=now - age,
                        succeeded=1,
                        failed=0,
                        failures=[],
                    )
                )
                invoice = Invoice(
                    connection_id=connection.id,
                    record_id=number,
                    number=number,
                    outcome="exported",
                    updated_at=now - age,
                )
                session.add(invoice)
                await session.flush()
                session.add(InvoiceEvent(invoice_id=invoice.id, at=now - age, outcome="exported"))

        assert await purge_expired(database, login_window=timedelta(minutes=15)) >= 3

        async with database.unit_of_work() as session:
            kept = (
                await session.scalars(
                    select(Invoice.number).where(Invoice.connection_id == connection.id)
                )
            ).all()
            assert kept == ["NEW"]
            runs = await session.scalar(
                select(func.count()).where(SyncRun.connection_id == connection.id)
            )
            assert runs == 1
            events = await session.scalar(
                select(func.count())
                .select_from(InvoiceEvent)
                .join(Invoice, Invoice.id == InvoiceEvent.invoice_id)
                .where(Invoice.connection_id == connection.id)
            )
            assert events == 1
    finally:
        await database.dispose()
