"""Storing, renewing and handing out OAuth credentials.

Refresh tokens rotate: spending one twice burns the grant. So a refresh happens under a lock on
the credential row (`SELECT ... FOR UPDATE`, which holds across replicas on PostgreSQL) and, for
the embedded mode's SQLite, which has no row locks, under a per-credential lock in this process.
Whoever waited then finds the fresh access token and does not refresh again.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from dxc_shared.credentials import (
    AccessToken,
    AuthorisationFailed,
    CredentialMissing,
    ReauthorisationNeeded,
)
from dxc_shared.db import Database
from dxc_shared.logging import get_logger
from dxc_shared.messages import CredentialNeedsReauthorisation, Provider
from dxc_shared.outbox import enqueue
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from token_broker.crypto import TokenCipher
from token_broker.metrics import REAUTHORISATION_NEEDED, TOKEN_REFRESHES
from token_broker.models import CredentialStatus, OAuthCredential
from token_broker.providers import (
    PROVIDER_NAMES,
    GrantRejected,
    ProviderUnavailable,
    TokenEndpoint,
    TokenResponse,
    reauthorisation_message,
)

logger = get_logger(__name__)

Clock = Callable[[], datetime]


def resource_of_scope(scope: str | None) -> str | None:
    """The resource an Entra token is for, read from its first URL-shaped scope:
    `https://org.crm.dynamics.com/user_impersonation` -> `https://org.crm.dynamics.com`."""
    for item in (scope or "").split():
        if "://" in item:
            return item.rsplit("/", 1)[0]
    return None


class CredentialService:
    def __init__(
        self,
        database: Database,
        cipher: TokenCipher,
        endpoints: Mapping[Provider, TokenEndpoint],
        *,
        refresh_margin: timedelta = timedelta(minutes=5),
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._database = database
        self._cipher = cipher
        self._endpoints = endpoints
        self._refresh_margin = refresh_margin
        self._clock = clock
        self._local_locks: weakref.WeakValueDictionary[tuple[uuid.UUID, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def store_authorization_code(
        self,
        connection_id: uuid.UUID,
        provider: Provider,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str,
    ) -> OAuthCredential:
        try:
            tokens = await self._endpoints[provider].exchange_code(
                code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
            )
        except GrantRejected as rejection:
            name = PROVIDER_NAMES[provider]
            raise AuthorisationFailed(
                f"{name} did not accept the authorisation ({rejection.error}"
                f"{': ' + rejection.description if rejection.description else ''}). "
                f"Try connecting to {name} again."
            ) from rejection
        if not tokens.refresh_token:
            raise AuthorisationFailed(
                f"{PROVIDER_NAMES[provider]} granted no refresh token: the offline_access "
                "scope is missing, so the connection could not keep syncing."
            )
        async with self._lock(connection_id, provider), self._database.unit_of_work() as session:
            credential = await self._get(session, connection_id, provider, for_update=True)
            if credential is None:
                credential = OAuthCredential(connection_id=connection_id, provider=provider)
                session.add(credential)
            self._apply(credential, tokens, refresh_token=tokens.refresh_token)
            credential.status = CredentialStatus.ACTIVE
            credential.status_message = None
            credential.scopes = (tokens.scope or "").split()
            await session.flush()
        logger.info("credential.stored", connection_id=str(connection_id), provider=provider)
        return credential

    async def access_token(
        self,
        connection_id: uuid.UUID,
        provider: Provider,
        *,
        resource: str | None = None,
        rejected: str | None = None,
    ) -> AccessToken:
        """A token valid for at least the refresh margin, refreshing it if needed, or if it is
        the `rejected` one (the provider refused it: the grant may be gone). A worker that
        reports a token another worker already replaced gets the replacement, no refresh."""
        reauthorisation: str | None = None
        async with self._lock(connection_id, provider), self._database.unit_of_work() as session:
            credential = await self._get(session, connection_id, provider, for_update=True)
            if credential is None:
                raise CredentialMissing(f"no {provider} credential for {connection_id}")
            if credential.status != CredentialStatus.ACTIVE:
                raise ReauthorisationNeeded(
                    provider, credential.status_message or "Reconnect in the portal."
                )
            cached = self._usable_access_token(credential, resource)
            if cached is not None and cached.access_token != rejected:
                return cached
            assert credential.refresh_token_ciphertext is not None
            try:
                tokens = await self._endpoints[provider].refresh(
                    self._cipher.decrypt(credential.refresh_token_ciphertext),
                    scope=f"{resource}/user_impersonation offline_access" if resource else None,
                )
            except GrantRejected as rejection:
                TOKEN_REFRESHES.labels(provider, "rejected").inc()
                reauthorisation = reauthorisation_message(provider, rejection)
                self._mark_for_reauthorisation(session, credential, reauthorisation)
            except ProviderUnavailable:
                TOKEN_REFRESHES.labels(provider, "unavailable").inc()
                raise
            else:
                TOKEN_REFRESHES.labels(provider, "ok").inc()
                self._apply(credential, tokens, refresh_token=tokens.refresh_token)
                if resource and credential.access_token_resource is None:
                    credential.access_token_resource = resource.rstrip("/")
                assert credential.access_token_expires_at is not None
                return AccessToken(
                    access_token=tokens.access_token,
                    expires_at=credential.access_token_expires_at,
                )
        raise ReauthorisationNeeded(provider, reauthorisation or "Reconnect in the portal.")

    async def statuses(self, connection_id: uuid.UUID) -> list[OAuthCredential]:
        async with self._database.unit_of_work() as session:
            rows = await session.scalars(
                select(OAuthCredential)
                .where(OAuthCredential.connection_id == connection_id)
                .order_by(OAuthCredential.provider)
            )
            return list(rows)

    async def revoke(self, connection_id: uuid.UUID, provider: Provider) -> bool:
        """Revoke the grant at the provider (best effort) and forget it. False if unknown."""
        async with self._lock(connection_id, provider), self._database.unit_of_work() as session:
            credential = await self._get(session, connection_id, provider, for_update=True)
            if credential is None:
                return False
            if credential.refresh_token_ciphertext and credential.status == "active":
                refresh_token = self._cipher.decrypt(credential.refresh_token_ciphertext)
                try:
                    await self._endpoints[provider].revoke(refresh_token)
                except ProviderUnavailable:
                    logger.warning("credential.revoke_failed", provider=provider, exc_info=True)
            await session.execute(
                delete(OAuthCredential).where(OAuthCredential.id == credential.id)
            )
        return True

    async def rotate_encryption(self) -> int:
        """Re-encrypt every stored token with the newest key; returns how many rows."""
        async with self._database.unit_of_work() as session:
            credentials = list(await session.scalars(select(OAuthCredential).with_for_update()))
            for credential in credentials:
                if credential.refresh_token_ciphertext:
                    credential.refresh_token_ciphertext = self._cipher.rotate(
                        credential.refresh_token_ciphertext
                    )
                if credential.access_token_ciphertext:
                    credential.access_token_ciphertext = self._cipher.rotate(
                        credential.access_token_ciphertext
                    )
        return len(credentials)

    def _usable_access_token(
        self, credential: OAuthCredential, resource: str | None
    ) -> AccessToken | None:
        expires_at = credential.access_token_expires_at
        if credential.access_token_ciphertext is None or expires_at is None:
            return None
        if expires_at.tzinfo is None:  # SQLite hands back naive datetimes
            expires_at = expires_at.replace(tzinfo=UTC)
        if expires_at - self._refresh_margin <= self._clock():
            return None
        if resource and (credential.access_token_resource or "") != resource.rstrip("/"):
            return None
        return AccessToken(
            access_token=self._cipher.decrypt(credential.access_token_ciphertext),
            expires_at=expires_at,
        )

    def _apply(
        self, credential: OAuthCredential, tokens: TokenResponse, *, refresh_token: str | None
    ) -> None:
        now = self._clock()
        credential.access_token_ciphertext = self._cipher.encrypt(tokens.access_token)
        credential.access_token_expires_at = now + timedelta(seconds=tokens.expires_in)
        credential.access_token_resource = resource_of_scope(tokens.scope)
        if refresh_token:  # Entra and Xero rotate; keep the old one only if none came back
            credential.refresh_token_ciphertext = self._cipher.encrypt(refresh_token)
        credential.refreshed_at = now

    def _mark_for_reauthorisation(
        self, session: AsyncSession, credential: OAuthCredential, message: str
    ) -> None:
        REAUTHORISATION_NEEDED.labels(credential.provider).inc()
        credential.status = CredentialStatus.REAUTHORISATION_NEEDED
        credential.status_message = message
        credential.access_token_ciphertext = None
        credential.refresh_token_ciphertext = None
        enqueue(
            session,
            CredentialNeedsReauthorisation(
                connection_id=credential.connection_id,
                provider=credential.provider,
                message=message,
            ),
        )
        logger.warning(
            "credential.reauthorisation_needed",
            connection_id=str(credential.connection_id),
            provider=credential.provider,
            reason=message,
        )

    async def _get(
        self,
        session: AsyncSession,
        connection_id: uuid.UUID,
        provider: Provider,
        *,
        for_update: bool,
    ) -> OAuthCredential | None:
        query = select(OAuthCredential).where(
            OAuthCredential.connection_id == connection_id,
            OAuthCredential.provider == provider,
        )
        if for_update:
            query = query.with_for_update()
        return (await session.scalars(query)).one_or_none()

    def _lock(self, connection_id: uuid.UUID, provider: str) -> asyncio.Lock:
        key = (connection_id, provider)
        lock = self._local_locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._local_locks[key] = lock
        return lock
