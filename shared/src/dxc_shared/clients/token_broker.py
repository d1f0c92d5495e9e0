"""Client of token-broker's internal API, used by portal-api and the sync workers.

Tokens never leave memory on this side: callers ask for an access token just before a call and
drop it afterwards.
"""

from __future__ import annotations

import uuid

import httpx

from dxc_shared.credentials import (
    AccessToken,
    AuthorisationFailed,
    CredentialMissing,
    CredentialStatus,
    ReauthorisationNeeded,
)
from dxc_shared.messages import Provider


class TokenBrokerClient:
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
        self, connection_id: uuid.UUID, provider: Provider, *, resource: str | None = None
    ) -> AccessToken:
        """A token valid for at least a few minutes; for Dynamics, for `resource` (an
        organisation URL, or the discovery service)."""
        response = await self._client.post(
            self._url(connection_id, "credentials", provider, "access-token"),
            json={"resource": resource},
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
