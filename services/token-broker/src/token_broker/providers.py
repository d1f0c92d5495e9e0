"""The OAuth token endpoints of Xero's identity server and Microsoft Entra ID.

Only token-broker calls these. Errors are sorted into two kinds: the provider rejected the grant
(a person must reconnect) or the provider could not be reached (try again later).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import httpx
from dxc_shared.messages import Provider
from pydantic import BaseModel, ValidationError

PROVIDER_NAMES: dict[Provider, str] = {"xero": "Xero", "dynamics": "Dynamics 365"}


class TokenResponse(BaseModel):
    access_token: str
    expires_in: int
    refresh_token: str | None = None
    scope: str | None = None


class GrantRejected(Exception):
    """The provider refused the code or refresh token (`invalid_grant` and friends)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


class ProviderUnavailable(Exception):
    """A network error, timeout, 5xx or 429: nothing is known about the grant."""


@dataclass(frozen=True)
class OAuthClientConfig:
    provider: Provider
    client_id: str
    client_secret: str
    token_url: str
    revocation_url: str | None
    # Xero documents HTTP Basic; Entra ID takes the secret in the form body.
    client_authentication: Literal["basic", "body"]


class TokenEndpoint:
    def __init__(self, config: OAuthClientConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self._http = http

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str
    ) -> TokenResponse:
        return await self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            }
        )

    async def refresh(self, refresh_token: str, *, scope: str | None = None) -> TokenResponse:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if scope:
            form["scope"] = scope
        return await self._token_request(form)

    async def revoke(self, refresh_token: str) -> None:
        if self.config.revocation_url is None:
            return
        form = {"token": refresh_token, "token_type_hint": "refresh_token"}
        response = await self._post(self.config.revocation_url, form)
        if response.status_code >= 500:
            raise ProviderUnavailable(f"revocation answered {response.status_code}")

    async def _token_request(self, form: dict[str, str]) -> TokenResponse:
        response = await self._post(self.config.token_url, form)
        if response.status_code in (429,) or response.status_code >= 500:
            raise ProviderUnavailable(f"token endpoint answered {response.status_code}")
        try:
            body = response.json()
        except ValueError as error:
            raise ProviderUnavailable(f"token endpoint answered non-JSON: {error}") from error
        if response.status_code != 200:
            raise GrantRejected(
                str(body.get("error", f"http_{response.status_code}")),
                str(body.get("error_description", "")),
            )
        try:
            return TokenResponse.model_validate(body)
        except ValidationError as error:
            raise ProviderUnavailable(f"unexpected token response: {error}") from error

    async def _post(self, url: str, form: dict[str, str]) -> httpx.Response:
        config = self.config
        try:
            if config.client_authentication == "basic":
                auth = httpx.BasicAuth(config.client_id, config.client_secret)
                return await self._http.post(url, data=form, auth=auth)
            credentials = {"client_id": config.client_id, "client_secret": config.client_secret}
            return await self._http.post(url, data={**form, **credentials})
        except httpx.TransportError as error:
            raise ProviderUnavailable(f"{type(error).__name__}: {error}") from error


def reauthorisation_message(provider: Provider, rejection: GrantRejected) -> str:
    """What a person reads in the portal and in Dynamics when a grant can't be renewed."""
    name = PROVIDER_NAMES[provider]
    detail = rejection.description or rejection.error
    if "AADSTS700082" in detail:
        reason = "has expired because it was not used for 90 days"
    elif "AADSTS50173" in detail:
        reason = "was revoked (the password changed or access was withdrawn)"
    elif rejection.error == "invalid_grant":
        reason = "has expired or was revoked"
    else:
        reason = f"was refused ({rejection.error})"
    return f"The {name} authorisation {reason}. Connect to {name} again in the portal."
