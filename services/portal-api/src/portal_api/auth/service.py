"""Accounts: sign-up with a free trial, e-mailed confirmation that sets the password, sign-in
with throttling, sessions, password reset. Services flush; the request's unit of work commits.

Sign-in throttling is kept per e-mail and client address (a few failures), and per e-mail from
every address (a ceiling far higher): someone guessing a victim's password from their own
addresses locks themselves out, not the victim."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from portal_api.auth import repository
from portal_api.auth.models import AuthSession, EmailToken, LoginAttempt, User
from portal_api.auth.schemas import RegisterIn
from portal_api.kit.email import EmailLimits, email_allowed, enqueue_email
from portal_api.kit.errors import Conflict, PortalError
from portal_api.kit.security import hash_password, new_token, token_hash, verify_password
from portal_api.kit.time import aware, utcnow
from portal_api.metrics import LOGINS, SIGNUPS
from portal_api.settings import PortalApiSettings

CONFIRM = "confirm"
RESET = "reset"
TOKEN_LIFETIMES = {CONFIRM: timedelta(days=3), RESET: timedelta(hours=1)}


@dataclass(frozen=True)
class NewSession:
    user: User
    token: str
    csrf_token: str
    expires_at_seconds: int


def _email_limits(settings: PortalApiSettings) -> EmailLimits:
    return EmailLimits(
        per_recipient=settings.email_max_per_recipient,
        per_client=settings.email_max_per_client,
        window=timedelta(seconds=settings.email_window_seconds),
    )


async def _email_link(
    session: AsyncSession,
    settings: PortalApiSettings,
    user: User,
    client: str,
    purpose: str,
    *,
    subject: str,
    before: str,
    page: str,
    after: str,
) -> None:
    """E-mail a one-time link to `page` of the web app, for `purpose` (confirm or reset)."""
    token = new_token()
    session.add(
        EmailToken(
            token_hash=token_hash(token),
            user_id=user.id,
            purpose=purpose,
            expires_at=utcnow() + TOKEN_LIFETIMES[purpose],
        )
    )
    link = f"{settings.web_url.rstrip('/')}/{page}?token={token}"
    enqueue_email(
        session,
        to=user.email,
        requested_by=client,
        subject=subject,
        body=f"Hello {user.name},\n\n{before}\n\n{link}\n\n{after}\n",
    )


async def register(
    session: AsyncSession, settings: PortalApiSettings, data: RegisterIn, client: str
) -> User:
    if await repository.user_by_email(session, data.email) is not None:
        raise Conflict(
            "An account with this e-mail address already exists. Sign in, or reset the "
            "password if you never chose one.",
            field="email",
        )
    now = utcnow()
    user = User(
        email=data.email,
        name=data.name,
        company_name=data.company_name,
        trial_ends_at=now + timedelta(days=settings.trial_days),
        created_at=now,
    )
    session.add(user)
    await session.flush()
    # Beyond the e-mail limits the account exists without a confirmation e-mail (the answer is
    # the same); a password reset confirms the address later.
    if await email_allowed(session, _email_limits(settings), to=user.email, requested_by=client):
        await _email_link(
            session,
            settings,
            user,
            client,
            CONFIRM,
            subject="Confirm your e-mail address for dx-connector",
            before=f"Welcome to dx-connector. Your {settings.trial_days}-day free trial has "
            "started. Confirm your e-mail address and choose a password here:",
            page="confirm",
            after="The link works for 3 days.",
        )
    SIGNUPS.inc()
    return user


async def _use_token(session: AsyncSession, token: str, purpose: str) -> User:
    found = await repository.email_token(session, token, purpose)
    if found is None or found.used_at is not None or aware(found.expires_at) <= utcnow():
        what = "confirmation" if purpose == CONFIRM else "password reset"
        raise PortalError(
            400,
            f"This {what} link is not valid or has expired. "
            + ("Register again." if purpose == CONFIRM else "Ask for a new one."),
            field="token",
        )
    found.used_at = utcnow()
    user = await repository.user_by_id(session, found.user_id)
    assert user is not None  # the token row is deleted with its user
    return user


async def start_session(
    session: AsyncSession, settings: PortalApiSettings, user: User
) -> NewSession:
    token, csrf = new_token(), new_token()
    lifetime = timedelta(days=settings.session_days)
    session.add(
        AuthSession(
            token_hash=token_hash(token),
            csrf_token=csrf,
            user_id=user.id,
            expires_at=utcnow() + lifetime,
        )
    )
    await session.flush()
    return NewSession(user, token, csrf, int(lifetime.total_seconds()))


async def confirm(
    session: AsyncSession, settings: PortalApiSettings, token: str, password: str
) -> NewSession:
    user = await _use_token(session, token, CONFIRM)
    user.password_hash = await hash_password(password)
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    return await start_session(session, settings, user)


async def login(
    session: AsyncSession, settings: PortalApiSettings, email: str, password: str, ip: str
) -> NewSession:
    now = utcnow()
    window = timedelta(seconds=settings.login_window_seconds)
    await repository.forget_attempts(session, email, ip, before=now - window)
    for address, ceiling in (
        (ip, settings.login_max_failures),
        (None, settings.login_account_max_failures),
    ):
        failures, oldest = await repository.recent_failures(session, email, address, now - window)
        if failures >= ceiling and oldest is not None:
            wait = math.ceil((aware(oldest) + window - now).total_seconds())
            LOGINS.labels("throttled").inc()
            raise PortalError(
                429,
                "Too many failed sign-in attempts. Wait a few minutes and try again, or reset "
                "your password.",
                headers={"Retry-After": str(max(wait, 1))},
            )
    user = await repository.user_by_email(session, email)
    # Verified (or a dummy hashed) either way: as long for an unknown e-mail as for a known one.
    verified = await verify_password(password, user.password_hash if user else None)
    if user is None or not verified:
        session.add(LoginAttempt(email=email, ip=ip, succeeded=False, attempted_at=now))
        LOGINS.labels("wrong").inc()
        raise PortalError(401, "The e-mail address or password is not correct.", keep_changes=True)
    await repository.forget_attempts(session, email, ip)
    LOGINS.labels("ok").inc()
    return await start_session(session, settings, user)


async def logout(session: AsyncSession, auth_session: AuthSession) -> None:
    await session.delete(auth_session)


async def request_password_reset(
    session: AsyncSession, settings: PortalApiSettings, email: str, client: str
) -> None:
    """E-mail a reset link, within the e-mail limits. The answer is the same whether the
    account exists or a limit held the e-mail back: no account enumeration."""
    user = await repository.user_by_email(session, email)
    limits = _email_limits(settings)
    if user is None or not await email_allowed(session, limits, to=user.email, requested_by=client):
        return
    await _email_link(
        session,
        settings,
        user,
        client,
        RESET,
        subject="Reset your dx-connector password",
        before="Someone asked to reset the password of your dx-connector account. If it was "
        "you, choose a new password here:",
        page="reset-password",
        after="The link works for one hour. If it was not you, ignore this e-mail.",
    )


async def reset_password(session: AsyncSession, token: str, password: str) -> None:
    user = await _use_token(session, token, RESET)
    user.password_hash = await hash_password(password)
    user.email_confirmed_at = user.email_confirmed_at or utcnow()  # the link proved the address
    await repository.delete_sessions_of(session, user.id)


async def authenticate(session: AsyncSession, token: str) -> tuple[AuthSession, User] | None:
    auth_session = await repository.session_by_token(session, token)
    if auth_session is None or aware(auth_session.expires_at) <= utcnow():
        return None
    user = await repository.user_by_id(session, auth_session.user_id)
    return (auth_session, user) if user is not None else None
