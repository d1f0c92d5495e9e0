"""The typed vendor clients of one connection's run, with tokens from token-broker.

A run asks token-broker once per provider and reuses the token while it has more than a minute
left, instead of asking before every call.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from dxc_shared.clients.dataverse import AccessTokenSource, DataverseClient
from dxc_shared.clients.token_broker import TokenBrokerClient
from dxc_shared.clients.xero_accounting import XeroAccountingClient
from dxc_shared.credentials import AccessToken
from dxc_shared.messages import ConnectionSyncProfile, Provider

TOKEN_REUSE_MARGIN = timedelta(seconds=60)


class ConnectionUnusable(Exception):
    """The run cannot proceed until a person acts; `message` says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Vendors:
    xero: XeroAccountingClient
    dataverse: DataverseClient


class VendorFactory:
    def __init__(
        self, tokens: TokenBrokerClient, http: httpx.AsyncClient, *, xero_api_url: str
    ) -> None:
        self._tokens = tokens
        self._http = http
        self._xero_api_url = xero_api_url

    def for_connection(self, profile: ConnectionSyncProfile) -> Vendors:
        if not profile.xero_tenant_id:
            raise ConnectionUnusable("No Xero organisation is chosen for this connection.")
        if not profile.dynamics_org_url:
            raise ConnectionUnusable("No Dynamics 365 organisation is chosen for this connection.")
        connection_id = profile.connection_id
        return Vendors(
            xero=XeroAccountingClient(
                self._http,
                base_url=self._xero_api_url,
                tenant_id=profile.xero_tenant_id,
                access_token=self._token_source(connection_id, "xero"),
            ),
            dataverse=DataverseClient(
                self._http,
                org_url=profile.dynamics_org_url,
                access_token=self._token_source(
                    connection_id, "dynamics", profile.dynamics_org_url
                ),
            ),
        )

    def _token_source(
        self, connection_id: uuid.UUID, provider: Provider, resource: str | None = None
    ) -> AccessTokenSource:
        cached: AccessToken | None = None

        async def access_token() -> str:
            nonlocal cached
            if cached is None or cached.expires_at - datetime.now(UTC) < TOKEN_REUSE_MARGIN:
                cached = await self._tokens.access_token(connection_id, provider, resource=resource)
            return cached.access_token

        return access_token
