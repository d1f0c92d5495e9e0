"""Client of token-broker's internal API, used by portal-api and the sync workers.

Tokens never leave memory on this side: callers ask for an access token just before a call and
drop it afterwards.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx

from dxc_shared.credentials import (
    AccessToken,
    AuthorisationFailed,
    CredentialMissing,
    CredentialStatus,
    ReauthorisationNeeded,
)
from dxc_shared.messages import Provider
from dxc_shared.settings import TokenBrokerClientSettings

# A token this close to expiry is asked for again rather than used.
_REUSE_MARGIN = timedelta(seconds=60)


class TokenBrokerClient:
    @classmethod
    def from_settings(
        cls, settings: TokenBrokerClientSettings, client: httpx.AsyncClient
    ) -> TokenBrokerClient:
        return cls(
            settings.token_broker_url,
            settings.token_broker_api_key.get_secret_value(),
            client=client,
        )

    def __init__(self, base_url: str, api_key: str, *, client: httpx.AsyncClient | None = None):
        self._client = client or httpx.AsyncClient(timeout=30)
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"}

    async def aclose(self) -> None:
        await self._client.aclose()

    def _url(self, connection_id: uuid.UUID, *parts: str) -> str:
        return "/".join([self._base_url, "v1", "connections", str(connection_id), *parts])

    async def store_authorization_code(
        self,
        connection_id: uuid.UUID,
        provider: Provider,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str,
    ) -> CredentialStatus:
        response = await self._client.post(
            self._url(connection_id, "credentials", provider),
            json={"code": code, "redirect_uri": redirect_uri, "code_verifier": code_verifier},
            headers=self._headers,
        )
        if response.status_code == 400:
            raise AuthorisationFailed(response.json()["detail"])
        response.raise_for_status()
        return CredentialStatus.model_validate(response.json())

    async def access_token(
        self,
        connection_id: uuid.UUID,
        provider: Provider,
        *,
        resource: str | None = None,
        rejected: str | None = None,
    ) -> AccessToken:
        """A token valid for at least a few minutes; for Dynamics, for `resource` (an
        organisation URL, or the discovery service). `rejected`: a token the provider has just
        refused, so token-broker refreshes instead of handing it out again."""
        response = await self._client.post(
            self._url(connection_id, "credentials", provider, "access-token"),
            json={"resource": resource, "rejected_token": rejected},
            headers=self._headers,
        )
        if response.status_code == 404:
            raise CredentialMissing(f"no {provider} credential for connection {connection_id}")
        if response.status_code == 409:
            raise ReauthorisationNeeded(provider, response.json()["detail"]["message"])
        response.raise_for_status()
        return AccessToken.model_validate(response.json())

    async def statuses(self, connection_id: uuid.UUID) -> list[CredentialStatus]:
        response = await self._client.get(
            self._url(connection_id, "credentials"), headers=self._headers
        )
        response.raise_for_status()
        return [CredentialStatus.model_validate(item) for item in response.json()]

    async def revoke(self, connection_id: uuid.UUID, provider: Provider) -> None:
        response = await self._client.delete(
            self._url(connection_id, "credentials", provider), headers=self._headers
        )
        if response.status_code != 404:
            response.raise_for_status()


class BrokeredToken:
    """One connection's access token for one provider, for a vendor client: asked of
    token-broker when needed, kept in memory until shortly before it expires, and given back
    when the provider refuses it (`rejected`), which makes token-broker refresh it, or
    report that the grant is gone (`ReauthorisationNeeded`)."""

    def __init__(
        self,
        broker: TokenBrokerClient,
        connection_id: uuid.UUID,
        provider: Provider,
        *,
        resource: str | None = None,
    ) -> None:
        self._broker = broker
        self._connection_id = connection_id
        self._provider = provider
        self._resource = resource
        self._token: AccessToken | None = None

    async def __call__(self) -> str:
        token = self._token
        if token is None or _aware(token.expires_at) - _REUSE_MARGIN <= datetime.now(UTC):
            token = await self._broker.access_token(
                self._connection_id, self._provider, resource=self._resource
            )
            self._token = token
        return token.access_token

    async def rejected(self, access_token: str) -> None:
        self._token = await self._broker.access_token(
            self._connection_id, self._provider, resource=self._resource, rejected=access_token
        )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
