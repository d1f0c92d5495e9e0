from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.auth.models import AuthSession, EmailToken, LoginAttempt, User
from portal_api.kit.security import token_hash


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    found: User | None = await session.scalar(select(User).where(User.email == email.lower()))
    return found


async def user_by_id(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def session_by_token(session: AsyncSession, token: str) -> AuthSession | None:
    found: AuthSession | None = await session.scalar(
        select(AuthSession).where(AuthSession.token_hash == token_hash(token))
    )
    return found


async def email_token(session: AsyncSession, token: str, purpose: str) -> EmailToken | None:
    found: EmailToken | None = await session.scalar(
        select(EmailToken)
        .where(EmailToken.token_hash == token_hash(token), EmailToken.purpose == purpose)
        .with_for_update()
    )
    return found


async def delete_sessions_of(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(delete(AuthSession).where(AuthSession.user_id == user_id))


async def recent_failures(
    session: AsyncSession, email: str, ip: str | None, since: datetime
) -> tuple[int, datetime | None]:
    """How many failed logins for this e-mail (from this address; from any when `ip` is None)
    since `since`, and the oldest."""
    condition = [
        LoginAttempt.email == email,
        LoginAttempt.succeeded.is_(False),
        LoginAttempt.attempted_at >= since,
    ]
    if ip is not None:
        condition.append(LoginAttempt.ip == ip)
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(LoginAttempt.attempted_at)).where(*condition)
        )
    ).one()
    return int(count), oldest


async def forget_attempts(
    session: AsyncSession, email: str, ip: str, *, before: datetime | None = None
) -> None:
    """Clear the failure count after a success, or drop attempts that no longer count."""
    condition = [LoginAttempt.email == email]
    if before is None:
        condition.append(LoginAttempt.ip == ip)
    else:
        condition.append(LoginAttempt.attempted_at < before)
    await session.execute(delete(LoginAttempt).where(*condition))
