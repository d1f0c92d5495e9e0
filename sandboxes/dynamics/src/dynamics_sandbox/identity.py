"""Microsoft Entra ID, the parts a Dataverse client meets: app registrations, users, the
authorization-code flow with PKCE, rotating refresh tokens, client credentials, and JWT access
tokens whose audience is one organisation (or the Global Discovery Service)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import jwt
from sandbox_kit.clock import Clock

from .settings import DynamicsSandboxSettings

DISCOVERY = "discovery"
PUBLIC_DISCOVERY_HOST = "globaldisco.crm.dynamics.com"
_ORG_PATH = re.compile(r"/orgs/([A-Za-z0-9_-]+)/?$")


class OAuthError(Exception):
    """An Entra ID error response: ``error``, ``error_description`` with the AADSTS code."""

    def __init__(self, error: str, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.error = error
        self.code = code
        self.message = message
        self.status = status

    def body(self, now: datetime) -> dict[str, Any]:
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": self.error,
            "error_description": (
                f"AADSTS{self.code}: {self.message} Trace ID: {trace} Correlation ID: "
                f"{correlation} Timestamp: {stamp}"
            ),
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={self.code}",
        }


@dataclass
class User:
    upn: str
    password: str
    display_name: str
    tenant_id: str
    # The documented shortcut: sign-in with login_hint skips the login and consent pages.
    auto_approve: bool = False
    object_id: uuid.UUID = field(default_factory=uuid.uuid4)
    # Refresh tokens from sessions that started before this instant are revoked.
    tokens_valid_from: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    # Bumped on every revocation; a session remembers the value it started under.
    session_generation: int = 0


@dataclass
class AppRegistration:
    client_id: str
    display_name: str
    tenant_id: str
    redirect_uris: list[str]
    secrets: list[str] = field(default_factory=list)
    public_client: bool = False
    # Tenant-wide admin consent: users sign in but see no consent page.
    admin_consented: bool = False
    service_principal_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class ScopeRequest:
    resource: str  # "org:<uniquename>" or DISCOVERY
    audience: str  # the resource URI as the client named it
    scopes: tuple[str, ...]
    offline: bool


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    scope: ScopeRequest
    user: User
    challenge: str | None
    challenge_method: str
    expires_at: datetime
    auth_time: datetime
    generation: int
    redeemed: bool = False


@dataclass
class RefreshGrant:
    client_id: str
    user: User
    scope: ScopeRequest
    auth_time: datetime  # when the user signed in
    generation: int  # the user's session generation at sign-in; revocation bumps it
    issued_at: datetime
    expires_at: datetime
    used: bool = False


@dataclass(frozen=True)
class Principal:
    """Who an access token speaks for."""

    object_id: uuid.UUID
    name: str
    tenant_id: str
    client_id: str
    is_app: bool


def _grant_error(code: int, message: str) -> OAuthError:
    return OAuthError("invalid_grant", code, message)


class Identity:
    def __init__(self, settings: DynamicsSandboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.users: dict[str, User] = {}
        self.apps: dict[str, AppRegistration] = {}
        self.consents: set[tuple[uuid.UUID, str]] = set()
        self.codes: dict[str, AuthCode] = {}
        self.refresh_tokens: dict[str, RefreshGrant] = {}

    # --- directory -----------------------------------------------------------------------

    def user(self, upn: str) -> User | None:
        return self.users.get(upn.lower())

    def add_user(self, user: User) -> User:
        self.users[user.upn.lower()] = user
        return user

    def add_app(self, app: AppRegistration) -> AppRegistration:
        self.apps[app.client_id] = app
        return app

    def app(self, client_id: str | None) -> AppRegistration:
        app = self.apps.get(client_id or "")
        if app is None:
            raise OAuthError(
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory.",
            )
        return app

    def check_redirect(self, app: AppRegistration, redirect_uri: str | None) -> str:
        if not redirect_uri or redirect_uri not in app.redirect_uris:
            raise OAuthError(
                "invalid_request",
                50011,
                f"The redirect URI '{redirect_uri}' specified in the request does not match the "
                f"redirect URIs configured for the application '{app.client_id}'.",
            )
        return redirect_uri

    def revoke_sessions(self, user: User) -> None:
        """Like revokeSignInSessions in Microsoft Graph: every refresh token stops working."""
        user.tokens_valid_from = self.clock.now()
        user.session_generation += 1

    def has_consent(self, user: User, app: AppRegistration) -> bool:
        return (
            app.admin_consented
            or user.auto_approve
            or (user.object_id, app.client_id) in self.consents
        )

    # --- scopes ----------------------------------------------------------------------------

    def parse_scope(
        self, scope: str | None, root_path: str, *, client_credentials: bool = False
    ) -> ScopeRequest:
        items = (scope or "").split()
        if not items:
            raise OAuthError(
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            )
        resource_scopes = [
            s for s in items if s not in ("offline_access", "openid", "profile", "email")
        ]
        resources = {s.rsplit("/", 1)[0] for s in resource_scopes}
        if len(resources) != 1:
            raise OAuthError(
                "invalid_scope",
                28000 if resources else 70011,
                "The provided value for the input parameter 'scope' is not valid because it "
                + ("contains more than one resource." if resources else "names no resource."),
            )
        audience = resources.pop()
        if client_credentials and resource_scopes != [f"{audience}/.default"]:
            raise OAuthError(
                "invalid_scope",
                1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows must "
                "have a scope value with /.default suffixed to the resource identifier.",
            )
        for item in resource_scopes:
            if item.rsplit("/", 1)[1] not in ("user_impersonation", ".default"):
                raise OAuthError(
                    "invalid_scope",
                    65005,
                    f"The application asked for scope '{item}' that doesn't exist on the resource.",
                )
        return ScopeRequest(
            resource=self._resource(audience, root_path),
            audience=audience,
            scopes=tuple(items),
            offline="offline_access" in items and not client_credentials,
        )

    def _resource(self, audience: str, root_path: str) -> str:
        parsed = urlparse(audience)
        match = _ORG_PATH.search(parsed.path)
        if match:
            return f"org:{match.group(1).lower()}"
        if parsed.netloc == PUBLIC_DISCOVERY_HOST or parsed.path.rstrip("/") == root_path.rstrip(
            "/"
        ):
            return DISCOVERY
        raise OAuthError(
            "invalid_resource",
            500011,
            f"The resource principal named {audience} was not found in the tenant.",
        )

    # --- authorization code ------------------------------------------------------------------

    def issue_code(
        self,
        app: AppRegistration,
        user: User,
        redirect_uri: str,
        scope: ScopeRequest,
        challenge: str | None,
        challenge_method: str,
    ) -> str:
        code = "1.A" + secrets.token_urlsafe(48)
        now = self.clock.now()
        self.codes[code] = AuthCode(
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            scope=scope,
            user=user,
            challenge=challenge,
            challenge_method=challenge_method,
            expires_at=now + timedelta(seconds=self.settings.auth_code_lifetime_seconds),
            auth_time=now,
            generation=user.session_generation,
        )
        return code

    def redeem_code(
        self, app: AppRegistration, code: str, redirect_uri: str | None, verifier: str | None
    ) -> dict[str, Any]:
        grant = self.codes.get(code)
        if grant is None or grant.client_id != app.client_id:
            raise _grant_error(70000, "Provided grant is invalid or malformed.")
        if grant.redeemed:
            raise _grant_error(
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid "
                "code or use an existing refresh token.",
            )
        if self.clock.now() > grant.expires_at:
            raise _grant_error(
                70008,
                "The provided authorization code or refresh token has expired due to inactivity. "
                "Send a new interactive authorization request for this user and resource.",
            )
        if redirect_uri != grant.redirect_uri:
            raise OAuthError(
                "invalid_grant",
                50011,
                "The redirect URI specified in the request does not match the redirect URI used "
                "to obtain the authorization code.",
            )
        if grant.challenge is not None and not _pkce_matches(
            grant.challenge, grant.challenge_method, verifier
        ):
            raise _grant_error(
                501481,
                "The Code_Verifier does not match the code_challenge supplied in the "
                "authorization request.",
            )
        grant.redeemed = True
        return self._tokens(app, grant.user, grant.scope, grant.auth_time, grant.generation)

    def refresh_grant(self, token: str) -> RefreshGrant | None:
        return self.refresh_tokens.get(token)

    def refresh(
        self, app: AppRegistration, token: str, scope: ScopeRequest | None
    ) -> dict[str, Any]:
        """Redeem a refresh token for any resource; `scope` None keeps the original one."""
        grant = self.refresh_tokens.get(token)
        if grant is None or grant.client_id != app.client_id or grant.used:
            raise _grant_error(70000, "Provided grant is invalid or malformed.")
        now = self.clock.now()
        if grant.generation != grant.user.session_generation:
            raise _grant_error(
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth token is "
                "needed. The user might have changed or reset their password. The grant was "
                f"issued on '{_stamp(grant.auth_time)}' and the TokensValidFrom date (before which "
                f"tokens are not valid) for this user is '{_stamp(grant.user.tokens_valid_from)}'.",
            )
        if now > grant.expires_at:
            raise _grant_error(
                700082,
                f"The refresh token has expired due to inactivity. The token was issued on "
                f"{_stamp(grant.issued_at)} and was inactive for "
                f"{self.settings.refresh_token_lifetime_days}.00:00:00.",
            )
        grant.used = True  # rotation: the new refresh token replaces this one
        return self._tokens(
            app, grant.user, scope or grant.scope, grant.auth_time, grant.generation, offline=True
        )

    def client_credentials(self, app: AppRegistration, scope: ScopeRequest) -> dict[str, Any]:
        principal = Principal(
            app.service_principal_id, app.display_name, app.tenant_id, app.client_id, True
        )
        token = self._access_token(principal, scope)
        lifetime = self.settings.access_token_lifetime_seconds
        return {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
        }

    def authenticate_client(
        self, app: AppRegistration, secret: str | None, *, required: bool
    ) -> None:
        if secret is None:
            if required or (app.secrets and not app.public_client):
                raise OAuthError(
                    "invalid_client",
                    7000218,
                    "The request body must contain the following parameter: "
                    "'client_assertion' or 'client_secret'.",
                    401,
                )
            return
        if secret not in app.secrets:
            raise OAuthError(
                "invalid_client",
                7000215,
                f"Invalid client secret provided. Ensure the secret being sent in the request is "
                f"the client secret value, not the client secret ID, for a secret added to app "
                f"'{app.client_id}'.",
                401,
            )

    # --- tokens ------------------------------------------------------------------------------

    def _tokens(
        self,
        app: AppRegistration,
        user: User,
        scope: ScopeRequest,
        auth_time: datetime,
        generation: int,
        *,
        offline: bool = False,
    ) -> dict[str, Any]:
        principal = Principal(user.object_id, user.upn, user.tenant_id, app.client_id, False)
        lifetime = self.settings.access_token_lifetime_seconds
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(scope.scopes),
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": self._access_token(principal, scope),
        }
        if scope.offline or offline:
            refresh = "0.A" + secrets.token_urlsafe(64)
            now = self.clock.now()
            self.refresh_tokens[refresh] = RefreshGrant(
                client_id=app.client_id,
                user=user,
                scope=scope,
                auth_time=auth_time,
                generation=generation,
                issued_at=now,
                expires_at=now + timedelta(days=self.settings.refresh_token_lifetime_days),
            )
            body["refresh_token"] = refresh
        if "openid" in scope.scopes:
            body["id_token"] = self._sign(
                {
                    "aud": app.client_id,
                    "iss": f"https://login.microsoftonline.com/{user.tenant_id}/v2.0",
                    "oid": str(user.object_id),
                    "tid": user.tenant_id,
                    "preferred_username": user.upn,
                    "name": user.display_name,
                    "iat": int(self.clock.now().timestamp()),
                    "exp": int(self.clock.now().timestamp()) + lifetime,
                }
            )
        return body

    def _access_token(self, principal: Principal, scope: ScopeRequest) -> str:
        now = int(self.clock.now().timestamp())
        claims: dict[str, Any] = {
            "aud": scope.audience,
            "iss": f"https://sts.windows.net/{principal.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + self.settings.access_token_lifetime_seconds,
            "appid": principal.client_id,
            "oid": str(principal.object_id),
            "tid": principal.tenant_id,
            "idtyp": "app" if principal.is_app else "user",
            "ver": "1.0",
            "sbx_res": scope.resource,
        }
        if not principal.is_app:
            claims.update(upn=principal.name, unique_name=principal.name, scp="user_impersonation")
        return self._sign(claims)

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.settings.token_signing_key, algorithm="HS256")

    def validate(self, token: str, resource: str) -> Principal | None:
        """The principal of a live access token for `resource`, else None (→ 401)."""
        try:
            claims = jwt.decode(
                token,
                self.settings.token_signing_key,
                algorithms=["HS256"],
                options={
                    "verify_exp": False,
                    "verify_aud": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError:
            return None
        if (
            claims.get("sbx_res") != resource
            or claims.get("exp", 0) <= self.clock.now().timestamp()
        ):
            return None
        return Principal(
            object_id=uuid.UUID(claims["oid"]),
            name=str(claims.get("upn") or claims.get("appid")),
            tenant_id=str(claims["tid"]),
            client_id=str(claims["appid"]),
            is_app=claims.get("idtyp") == "app",
        )


def _pkce_matches(challenge: str, method: str, verifier: str | None) -> bool:
    if not verifier:
        return False
    if method.upper() == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii") == challenge
    return verifier == challenge


def _stamp(moment: datetime) -> str:
    return moment.strftime("%m/%d/%Y %H:%M:%S")
