"""token-broker for tests: wired to the two sandboxes and served over HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cryptography.fernet import Fernet
from dxc_shared.infrastructure import Infrastructure
from token_broker.app import create_service
from token_broker.settings import TokenBrokerSettings

from tests.support.dynamics_sandbox import RunningDynamicsSandbox
from tests.support.http_server import serve_in_thread
from tests.support.xero_sandbox import XeroSandbox

INTERNAL_API_KEY = "internal-test-key"


def token_broker_settings(
    *,
    database_url: str,
    broker_url: str,
    namespace: str,
    xero: XeroSandbox,
    dynamics: RunningDynamicsSandbox,
) -> TokenBrokerSettings:
    return TokenBrokerSettings(
        database_url=database_url,
        broker_url=broker_url,
        bus_namespace=namespace,
        encryption_keys=Fernet.generate_key().decode(),
        internal_api_key=INTERNAL_API_KEY,
        xero_client_id=xero.settings.demo_client_id,
        xero_client_secret=xero.settings.demo_client_secret,
        xero_token_url=f"{xero.base}/connect/token",
        xero_revocation_url=f"{xero.base}/connect/revocation",
        dynamics_client_id=dynamics.settings.demo_client_id,
        dynamics_client_secret=dynamics.settings.demo_client_secret,
        dynamics_token_url=dynamics.token_url,
    )


@contextmanager
def token_broker_served(settings: TokenBrokerSettings) -> Iterator[str]:
    """One replica served over HTTP on loopback; its base URL."""
    service = create_service(Infrastructure.from_settings(settings), settings)
    service.owns_infrastructure = True
    with serve_in_thread(service.app) as url:
        yield url
