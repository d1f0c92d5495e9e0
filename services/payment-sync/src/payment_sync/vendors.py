"""The typed vendor clients of one connection's run, with tokens from token-broker.

A run asks token-broker once per provider and reuses the token while it has more than a minute
left, instead of asking before every call; a token the vendor refuses is handed back, so a lost
grant is found out at once (see dxc_shared.clients.token_broker.BrokeredToken).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from dxc_shared.clients.dataverse import DataverseClient
from dxc_shared.clients.token_broker import BrokeredToken, TokenBrokerClient
from dxc_shared.clients.xero_accounting import XeroAccountingClient
from dxc_shared.messages import ConnectionSyncProfile


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
        xero_token = BrokeredToken(self._tokens, connection_id, "xero")
        dynamics_token = BrokeredToken(
            self._tokens, connection_id, "dynamics", resource=profile.dynamics_org_url
        )
        return Vendors(
            xero=XeroAccountingClient(
                self._http,
                base_url=self._xero_api_url,
                tenant_id=profile.xero_tenant_id,
                access_token=xero_token,
                token_rejected=xero_token.rejected,
            ),
            dataverse=DataverseClient(
                self._http,
                org_url=profile.dynamics_org_url,
                access_token=dynamics_token,
                token_rejected=dynamics_token.rejected,
            ),
        )
