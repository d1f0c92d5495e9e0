"""Issuing and checking tokens: access tokens are HS256 JWTs shaped like Xero's (with the
authentication_event_id and xero_userid claims clients read), refresh tokens are opaque and
rotate on every use."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from .models import AccessToken, Grant, RefreshToken
from .state import SandboxState

OFFLINE_ACCESS = "offline_access"


@dataclass(frozen=True)
class Caller:
    """Who is calling the API: the grant behind a valid access token."""

    grant: Grant

    @property
    def client_id(self) -> str:
        return self.grant.client_id

    @property
    def user_id(self) -> str:
        return self.grant.user_id


def issue_tokens(state: SandboxState, grant: Grant, issuer: str) -> dict[str, Any]:
    """A token response; a refresh token only when the grant includes offline_access."""
    s = state.settings
    now = state.clock.now()
    user = state.users[grant.user_id]
    jti = uuid.uuid4().hex
    expires_at = now + timedelta(seconds=s.access_token_lifetime_seconds)
    claims = {
        "nbf": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "iss": issuer,
        "aud": f"{issuer}/resources",
        "client_id": grant.client_id,
        "sub": user.user_id.replace("-", ""),
        "auth_time": int(grant.created.timestamp()),
        "xero_userid": user.user_id,
        "global_session_id": grant.grant_id.replace("-", ""),
        "sid": grant.grant_id.replace("-", ""),
        "jti": jti,
        "authentication_event_id": grant.auth_event_id,
        "scope": grant.scopes,
    }
    state.access_tokens[jti] = AccessToken(jti, grant.grant_id, expires_at)
    body: dict[str, Any] = {
        "access_token": jwt.encode(claims, s.token_signing_key, algorithm="HS256"),
        "expires_in": s.access_token_lifetime_seconds,
        "token_type": "Bearer",
        "scope": " ".join(grant.scopes),
    }
    if "openid" in grant.scopes:
        body["id_token"] = jwt.encode(
            {
                "nbf": claims["nbf"],
                "exp": claims["exp"],
                "iss": issuer,
                "aud": grant.client_id,
                "iat": claims["nbf"],
                "sub": claims["sub"],
                "auth_time": claims["auth_time"],
                "xero_userid": user.user_id,
                "global_session_id": claims["global_session_id"],
                "preferred_username": user.email,
                "email": user.email,
                "given_name": user.first_name,
                "family_name": user.last_name,
                "name": f"{user.first_name} {user.last_name}",
            },
            s.token_signing_key,
            algorithm="HS256",
        )
    if OFFLINE_ACCESS in grant.scopes:
        refresh = RefreshToken(
            token=secrets.token_hex(32),
            grant_id=grant.grant_id,
            expires_at=now + timedelta(seconds=s.refresh_token_lifetime_seconds),
        )
        state.refresh_tokens[refresh.token] = refresh
        body["refresh_token"] = refresh.token
    return body


def caller_for(state: SandboxState, token: str) -> Caller | None:
    """The caller behind a bearer token, or None when it is forged, expired or revoked."""
    try:
        claims = jwt.decode(
            token,
            state.settings.token_signing_key,
            algorithms=["HS256"],
            options={"verify_exp": False, "verify_aud": False, "verify_nbf": False},
        )
    except jwt.PyJWTError:
        return None
    record = state.access_tokens.get(str(claims.get("jti")))
    if record is None or record.expires_at <= state.clock.now():
        return None
    grant = state.grants.get(record.grant_id)
    if grant is None or grant.revoked:
        return None
    return Caller(grant)


def redeem_refresh_token(state: SandboxState, token: str, client_id: str) -> Grant | None:
    """Spend a refresh token: valid, unexpired, unrevoked, and unspent or within the grace
    period after its first use (Xero lets a lost response be retried for 30 minutes)."""
    now = state.clock.now()
    record = state.refresh_tokens.get(token)
    if record is None or record.expires_at <= now:
        return None
    grant = state.grants.get(record.grant_id)
    if grant is None or grant.revoked or grant.client_id != client_id:
        return None
    if record.spent_at is None:
        record.spent_at = now
    elif now - record.spent_at > timedelta(seconds=state.settings.refresh_token_grace_seconds):
        return None
    return grant
