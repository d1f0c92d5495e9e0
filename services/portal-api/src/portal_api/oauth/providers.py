"""What portal-api asks of Xero and Microsoft directly: the authorize URLs, and the lists of
organisations a grant reaches (Xero's /connections, the Global Discovery Service). Tokens come
from token-broker; this side never sees a refresh token."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
from dxc_shared.messages import Provider

from portal_api.kit.errors import UpstreamFailed
from portal_api.oauth.schemas import DynamicsOrganisation, XeroOrganisation
from portal_api.settings import PortalApiSettings

PROVIDER_NAMES: dict[Provider, str] = {"xero": "Xero", "dynamics": "Dynamics 365"}


def redirect_uri(settings: PortalApiSettings, provider: Provider) -> str:
    return f"{settings.public_url.rstrip('/')}/v1/oauth/{provider}/callback"


def discovery_scope(settings: PortalApiSettings) -> str:
    return f"{settings.dynamics_discovery_url.rstrip('/')}/user_impersonation"


def authorize_url(
    settings: PortalApiSettings, provider: Provider, *, state: str, code_challenge: str
) -> str:
    if provider == "xero":
        base, client_id, scope = (
            settings.xero_authorize_url,
            settings.xero_client_id,
            settings.xero_scopes,
        )
    else:
        # Signed in for the discovery service; token-broker later exchanges the refresh token
        # for a token of the chosen organisation.
        base, client_id = settings.dynamics_authorize_url, settings.dynamics_client_id
        scope = f"{discovery_scope(settings)} offline_access openid profile"
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri(settings, provider),
            "scope": scope,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{base}?{query}"


def denial_message(provider: Provider, error: str, description: str | None) -> str:
    name = PROVIDER_NAMES[provider]
    if error == "access_denied":
        return f"You did not allow dx-connector to access {name}. Connect again and accept."
    detail = f": {description}" if description else ""
    return f"{name} refused the authorisation ({error}{detail}). Connect to {name} again."


async def _get_json(
    http: httpx.AsyncClient, url: str, access_token: str, what: str
) -> httpx.Response:
    try:
        response = await http.get(
            url, headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"}
        )
    except httpx.HTTPError as error:
        raise UpstreamFailed(f"{what} could not be reached ({type(error).__name__}).") from error
    if response.status_code != 200:
        raise UpstreamFailed(f"{what} answered {response.status_code}. Try again shortly.")
    return response


async def xero_organisations(
    http: httpx.AsyncClient, settings: PortalApiSettings, access_token: str
) -> list[XeroOrganisation]:
    response = await _get_json(http, settings.xero_connections_url, access_token, "Xero")
    return [
        XeroOrganisation(tenant_id=item["tenantId"], name=item.get("tenantName") or "")
        for item in response.json()
        if item.get("tenantType", "ORGANISATION") == "ORGANISATION"
    ]


async def dynamics_organisations(
    http: httpx.AsyncClient, settings: PortalApiSettings, access_token: str
) -> list[DynamicsOrganisation]:
    url = f"{settings.dynamics_discovery_url.rstrip('/')}/api/discovery/v2.0/Instances"
    response = await _get_json(http, url, access_token, "The Dynamics 365 discovery service")
    return [
        DynamicsOrganisation(
            org_url=str(item["Url"]).rstrip("/"),
            name=item.get("FriendlyName") or item.get("UniqueName") or "",
            unique_name=item.get("UniqueName") or "",
        )
        for item in response.json().get("value", [])
        if item.get("State", 0) == 0
    ]
