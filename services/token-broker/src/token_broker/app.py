from datetime import timedelta

import httpx
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.service import Service

from token_broker.credentials import CredentialService
from token_broker.crypto import TokenCipher
from token_broker.endpoints import router
from token_broker.providers import OAuthClientConfig, TokenEndpoint
from token_broker.settings import TokenBrokerSettings

SERVICE_NAME = "token-broker"


def create_credential_service(
    infrastructure: Infrastructure, settings: TokenBrokerSettings, http: httpx.AsyncClient
) -> CredentialService:
    xero = OAuthClientConfig(
        provider="xero",
        client_id=settings.xero_client_id,
        client_secret=settings.xero_client_secret.get_secret_value(),
        token_url=settings.xero_token_url,
        revocation_url=settings.xero_revocation_url,
        client_authentication="basic",
    )
    dynamics = OAuthClientConfig(
        provider="dynamics",
        client_id=settings.dynamics_client_id,
        client_secret=settings.dynamics_client_secret.get_secret_value(),
        token_url=settings.dynamics_token_url,
        revocation_url=None,  # Entra ID has no token revocation endpoint
        client_authentication="body",
    )
    return CredentialService(
        infrastructure.database,
        TokenCipher.from_setting(settings.encryption_keys.get_secret_value()),
        {"xero": TokenEndpoint(xero, http), "dynamics": TokenEndpoint(dynamics, http)},
        refresh_margin=timedelta(seconds=settings.refresh_margin_seconds),
    )


def create_service(infrastructure: Infrastructure, settings: TokenBrokerSettings) -> Service:
    service = Service.for_settings(SERVICE_NAME, infrastructure, settings)
    http = service.http_client(20.0)
    service.app.state.credentials = create_credential_service(infrastructure, settings, http)
    service.app.state.internal_api_key = settings.internal_api_key.get_secret_value()
    service.app.include_router(router)
    return service
