"""Who is calling: a session cookie (with the CSRF double-submit on unsafe methods) or a bearer
token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from portal_api.auth import service
from portal_api.auth.models import AuthSession, User
from portal_api.context import Session
from portal_api.kit.errors import PortalError

SESSION_COOKIE = "dxc_session"
CSRF_COOKIE = "dxc_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="`access_token` from sign-in")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="Set by sign-in; send X-CSRF-Token too"
)


@dataclass(frozen=True)
class Authenticated:
    user: User
    session: AuthSession


async def authenticated(
    request: Request,
    session: Session,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Authenticated:
    token = bearer.credentials if bearer is not None else cookie
    if not token:
        raise PortalError(401, "Sign in first.", headers={"WWW-Authenticate": "Bearer"})
    found = await service.authenticate(session, token)
    if found is None:
        raise PortalError(
            401, "Your session has ended. Sign in again.", headers={"WWW-Authenticate": "Bearer"}
        )
    auth_session, user = found
    if bearer is None and request.method not in SAFE_METHODS:
        presented = request.headers.get(CSRF_HEADER, "")
        cookie_value = request.cookies.get(CSRF_COOKIE, "")
        if not (
            presented
            and secrets.compare_digest(presented, cookie_value)
            and secrets.compare_digest(presented, auth_session.csrf_token)
        ):
            raise PortalError(
                403,
                f"The {CSRF_HEADER} header must match the {CSRF_COOKIE} cookie. Reload the page "
                "and try again.",
            )
    return Authenticated(user, auth_session)


CurrentUser = Annotated[Authenticated, Depends(authenticated)]
