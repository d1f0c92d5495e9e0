"""Microsoft Entra ID, the parts a Dataverse client meets: app registrations, users, the
authorization-code flow with PKCE, refresh tokens, client credentials, id tokens, and RS256
access tokens whose audience is one organisation (or the Global Discovery Service).

Sources, per rule: token claims follow the ID token claims reference
(https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference) and the
access token claims reference
(https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference);
``client_info`` and the token response follow the authorization code flow page
(https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow); refresh
tokens follow https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens; error
codes follow https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import jwt
from sandbox_kit.clock import Clock

from .settings import DynamicsSandboxSettings
from .signing import SigningKey

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
    nonce: str | None
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


@dataclass(frozen=True)
class TokenContext:
    """What the token request adds to a grant: the sandbox's root URL as the client called it
    (the id token's issuer), and whether the client asked for ``client_info``."""

    root: str
    client_info: bool = False


class Identity:
    def __init__(
        self,
        settings: DynamicsSandboxSettings,
        clock: Clock,
        key: SigningKey,
        hosts_org: Callable[[str], bool],
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.key = key
        self.hosts_org = hosts_org
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
        self, scope: str | None, root: str, *, client_credentials: bool = False
    ) -> ScopeRequest:
        """The resource and scopes of a request; `root` is the sandbox's URL as called."""
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
            resource=self._resource(audience, root),
            audience=audience,
            scopes=tuple(items),
            offline="offline_access" in items and not client_credentials,
        )

    def _resource(self, audience: str, root: str) -> str:
        """The resources this tenant knows: the organisations the sandbox hosts and the Global
        Discovery Service, named with the sandbox's host (as called, or one of
        `resource_hosts`); anything else is AADSTS500011, as Entra answers for a resource
        principal missing from the tenant."""
        host, own = urlparse(audience).netloc.lower(), urlparse(root)
        hosts = {own.netloc.lower(), *(h.lower() for h in self.settings.resource_hosts)}
        key = resource_key(audience, own.path)
        if key is not None and (
            host == PUBLIC_DISCOVERY_HOST
            or (host in hosts and (key == DISCOVERY or self.hosts_org(key.removeprefix("org:"))))
        ):
            return key
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
        nonce: str | None,
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
            nonce=nonce,
        )
        return code

    def redeem_code(
        self,
        app: AppRegistration,
        code: str,
        redirect_uri: str | None,
        verifier: str | None,
        context: TokenContext,
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
        return self._tokens(
            app, grant.user, grant.scope, grant.auth_time, grant.generation, context, grant.nonce
        )

    def refresh_grant(self, token: str) -> RefreshGrant | None:
        return self.refresh_tokens.get(token)

    def refresh(
        self, app: AppRegistration, token: str, scope: ScopeRequest | None, context: TokenContext
    ) -> dict[str, Any]:
        """Redeem a refresh token for any resource; `scope` None keeps the original one.

        Entra answers with a new refresh token but does not revoke the one redeemed: it stays
        valid until it expires or the user's sessions are revoked (refresh tokens page,
        "Token lifetime" and "Token revocation")."""
        grant = self.refresh_tokens.get(token)
        if grant is None or grant.client_id != app.client_id:
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
        return self._tokens(
            app,
            grant.user,
            scope or grant.scope,
            grant.auth_time,
            grant.generation,
            context,
            None,
            offline=True,
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
        context: TokenContext,
        nonce: str | None,
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
            "access_token": self._access_token(principal, scope, public_client=app.public_client),
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
            body["id_token"] = self._id_token(app, user, scope, context.root, nonce)
        if context.client_info:
            # client_info=1 asks for the account's ids: base64url JSON of uid (the user's object
            # id) and utid (its tenant), as MSAL reads them (auth code flow page).
            info = json.dumps({"uid": str(user.object_id), "utid": user.tenant_id})
            body["client_info"] = base64.urlsafe_b64encode(info.encode()).rstrip(b"=").decode()
        return body

    def _id_token(
        self, app: AppRegistration, user: User, scope: ScopeRequest, root: str, nonce: str | None
    ) -> str:
        """A v2.0 id token (ID token claims reference): `iss` is the discovery document's
        issuer for the user's tenant; `name` and `preferred_username` need the profile scope."""
        now = int(self.clock.now().timestamp())
        claims: dict[str, Any] = {
            "ver": "2.0",
            "iss": issuer(root, user.tenant_id),
            "sub": _pairwise_subject(user.object_id, app.client_id),
            "aud": app.client_id,
            "iat": now,
            "nbf": now,
            "exp": now + self.settings.access_token_lifetime_seconds,
            "oid": str(user.object_id),
            "tid": user.tenant_id,
            "uti": _token_id(),
        }
        if "profile" in scope.scopes:
            claims.update(name=user.display_name, preferred_username=user.upn)
        if nonce is not None:
            claims["nonce"] = nonce
        return self.key.sign(claims)

    def _access_token(
        self, principal: Principal, scope: ScopeRequest, *, public_client: bool = False
    ) -> str:
        """A v1.0 access token, the version Dataverse accepts (access token claims reference):
        app-only tokens carry no `scp`; `appidacr` says how the client authenticated."""
        now = int(self.clock.now().timestamp())
        claims: dict[str, Any] = {
            "aud": scope.audience,
            "iss": f"https://sts.windows.net/{principal.tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + self.settings.access_token_lifetime_seconds,
            "appid": principal.client_id,
            "appidacr": "0" if public_client else "1",
            "oid": str(principal.object_id),
            "sub": _pairwise_subject(principal.object_id, principal.client_id),
            "tid": principal.tenant_id,
            "uti": _token_id(),
            "ver": "1.0",
        }
        if not principal.is_app:
            claims.update(
                amr=["pwd"],
                upn=principal.name,
                unique_name=principal.name,
                scp="user_impersonation",
            )
        return self.key.sign(claims, x5t=True)

    def validate(self, token: str, resource: str, root_path: str) -> Principal | None:
        """The principal of a live access token for `resource`, else None (→ 401)."""
        try:
            claims = self.key.verify(token)
        except jwt.PyJWTError:
            return None
        if (
            resource_key(str(claims.get("aud", "")), root_path) != resource
            or claims.get("exp", 0) <= self.clock.now().timestamp()
        ):
            return None
        return Principal(
            object_id=uuid.UUID(claims["oid"]),
            name=str(claims.get("upn") or claims.get("appid")),
            tenant_id=str(claims["tid"]),
            client_id=str(claims["appid"]),
            is_app="scp" not in claims,
        )


def issuer(root: str, tenant: str) -> str:
    """The v2.0 issuer of a tenant, https://login.microsoftonline.com/{tenant}/v2.0 with the
    sandbox's root in place of the Microsoft host (OpenID Connect on the Microsoft identity
    platform, "Find your app's OpenID configuration document URI")."""
    return f"{root}/{tenant}/v2.0"


def resource_key(audience: str, root_path: str) -> str | None:
    """Which of the sandbox's resources a resource URI names, by its path: an organisation
    ("org:<uniquename>") or the discovery service (the sandbox's root, or the public Global
    Discovery Service's URI); None for neither."""
    parsed = urlparse(audience)
    path = parsed.path
    if parsed.netloc.lower() == PUBLIC_DISCOVERY_HOST:
        return DISCOVERY if not path.strip("/") else None
    match = _ORG_PATH.search(path)
    if match:
        return f"org:{match.group(1).lower()}"
    if path.rstrip("/") == root_path.rstrip("/"):
        return DISCOVERY
    return None


def _pairwise_subject(object_id: uuid.UUID, client_id: str) -> str:
    # `sub` is "a pairwise identifier: unique to a particular application ID" (claims refs).
    digest = hashlib.sha256(f"{object_id}:{client_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _token_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode("ascii")


def _pkce_matches(challenge: str, method: str, verifier: str | None) -> bool:
    if not verifier:
        return False
    if method.upper() == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii") == challenge
    return verifier == challenge


def _stamp(moment: datetime) -> str:
    return moment.strftime("%m/%d/%Y %H:%M:%S")
