"""The sandbox's in-memory state (``app.state.sandbox``): organisations and their data, the
identity server's users, clients, grants and tokens, and the machinery around the API (limits,
faults, idempotency, webhooks, call log). An embedding process may seed it directly."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sandbox_kit.clock import Clock
from sandbox_kit.faults import FaultBook

from .faults import XeroFault
from .idempotency import IdempotencyStore
from .models import (
    AccessToken,
    AuthorizationCode,
    Connection,
    Grant,
    OAuthClient,
    Organisation,
    RefreshToken,
    User,
)
from .ratelimit import RateLimiter
from .settings import XeroSandboxSettings
from .webhooks import WebhookDispatcher


@dataclass
class CallRecord:
    time: datetime
    method: str
    path: str
    tenant_id: str | None
    status: int
    duration_ms: float
    idempotent_replay: bool = False
    # What a read asked for: the query string and the If-Modified-Since header, so a test can
    # see that a client reads only what changed.
    query: str = ""
    if_modified_since: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "time": self.time.isoformat()}


@dataclass
class AutoApprove:
    """Pre-approval for tests and demos: authorize signs this user in and consents at once."""

    email: str
    tenant_ids: list[str] | None = None  # None: all the user's organisations


@dataclass
class LoginSession:
    session_id: str
    user_id: str
    params: dict[str, str]
    expires_at: datetime


class SandboxState:
    def __init__(self, settings: XeroSandboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.limiter = RateLimiter(settings, clock)
        self.faults: FaultBook[XeroFault] = FaultBook()
        self.idempotency = IdempotencyStore(settings.idempotency_window_seconds, clock)
        self.webhooks = WebhookDispatcher(settings, clock)
        self.calls: list[CallRecord] = []
        self.organisations: dict[str, Organisation] = {}
        self.users: dict[str, User] = {}
        self.clients: dict[str, OAuthClient] = {}
        self.grants: dict[str, Grant] = {}
        self.connections: dict[str, Connection] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.login_sessions: dict[str, LoginSession] = {}
        self.auto_approve: AutoApprove | None = None

    def user_by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email.lower() == email.lower()), None)

    def connections_of(self, client_id: str, user_id: str) -> list[Connection]:
        return [
            c
            for c in self.connections.values()
            if c.client_id == client_id and c.user_id == user_id
        ]

    def revoke_grants(self, client_id: str, user_id: str) -> None:
        """Revocation ends every grant of the user to the app and removes their connections."""
        for grant in self.grants.values():
            if grant.client_id == client_id and grant.user_id == user_id:
                grant.revoked = True
        for connection in self.connections_of(client_id, user_id):
            del self.connections[connection.id]

    def revoke_tenant_grants(self, tenant_id: str) -> int:
        """The "revoked grant" fault: every grant that reaches this organisation stops working."""
        pairs = {
            (c.client_id, c.user_id) for c in self.connections.values() if c.tenant_id == tenant_id
        }
        for client_id, user_id in pairs:
            self.revoke_grants(client_id, user_id)
        return len(pairs)

    def reset(self) -> None:
        """Forget everything: data, identities, tokens, faults, limits, logs."""
        for collection in (
            self.calls,
            self.organisations,
            self.users,
            self.clients,
            self.grants,
            self.connections,
            self.codes,
            self.access_tokens,
            self.refresh_tokens,
            self.login_sessions,
        ):
            collection.clear()
        self.auto_approve = None
        self.limiter.reset()
        self.faults.clear()
        self.idempotency.clear()
        self.webhooks.reset()
