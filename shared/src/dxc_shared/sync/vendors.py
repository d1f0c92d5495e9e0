"""The vendor clients of one connection's run, with tokens from token-broker.

A run asks token-broker once per provider and reuses the token while it has more than a minute
left; a token the vendor refuses is handed back, so a lost grant is found out at once (see
dxc_shared.clients.token_broker.BrokeredToken). Every Xero client made here spends from its
organisation's budget shared with the other services (dxc_shared.xero_budget), at the priority
of the run's work.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from dxc_shared.clients.dataverse import DataverseClient
from dxc_shared.clients.token_broker import BrokeredToken, TokenBrokerClient
from dxc_shared.clients.xero_accounting import XeroAccountingClient
from dxc_shared.db import Database
from dxc_shared.messages import ConnectionSyncProfile
from dxc_shared.settings import XeroApiSettings
from dxc_shared.sync.errors import RunBlocked
from dxc_shared.xero_budget.budget import XeroBudget
from dxc_shared.xero_budget.decisions import Priority


@dataclass(frozen=True)
class Vendors:
    xero: XeroAccountingClient
    dataverse: DataverseClient


class VendorFactory:
    def __init__(
        self,
        tokens: TokenBrokerClient,
        http: httpx.AsyncClient,
        *,
        xero_api_url: str,
        xero_budget: XeroBudget,
    ) -> None:
        self._tokens = tokens
        self._http = http
        self._xero_api_url = xero_api_url
        self._xero_budget = xero_budget

    @classmethod
    def from_settings(
        cls,
        database: Database,
        tokens: TokenBrokerClient,
        http: httpx.AsyncClient,
        settings: XeroApiSettings,
    ) -> VendorFactory:
        """A worker's factory: Xero where the settings say, every call within the
        organisation's budget kept in `database` (shared with the other services)."""
        budget = XeroBudget(database, limits=settings.xero_limits())
        return cls(tokens, http, xero_api_url=settings.xero_api_url, xero_budget=budget)

    def for_connection(
        self, profile: ConnectionSyncProfile, priority: Priority = Priority.EXPORT
    ) -> Vendors:
        """Both clients of a connection; `RunBlocked` while an organisation is not chosen."""
        if not profile.xero_tenant_id or not profile.dynamics_org_url:
            raise RunBlocked(
                "The connection has no Dynamics 365 or no Xero organisation chosen yet: finish "
                "connecting both in the portal."
            )
        xero_token = BrokeredToken(self._tokens, profile.connection_id, "xero")
        return Vendors(
            xero=XeroAccountingClient(
                self._http,
                base_url=self._xero_api_url,
                tenant_id=profile.xero_tenant_id,
                access_token=xero_token,
                token_rejected=xero_token.rejected,
                budget=self._xero_budget.for_tenant(profile.xero_tenant_id, priority),
            ),
            dataverse=self.dataverse(profile.connection_id, profile.dynamics_org_url),
        )

    def dataverse(self, connection_id: uuid.UUID, org_url: str) -> DataverseClient:
        """The Dataverse client alone (for work that needs no Xero organisation)."""
        token = BrokeredToken(self._tokens, connection_id, "dynamics", resource=org_url)
        return DataverseClient(
            self._http, org_url=org_url, access_token=token, token_rejected=token.rejected
        )
