from dxc_shared.infrastructure import Infrastructure
from dxc_shared.service import Service

from token_broker.settings import TokenBrokerSettings

SERVICE_NAME = "token-broker"


def create_service(infrastructure: Infrastructure, settings: TokenBrokerSettings) -> Service:
    return Service(
        SERVICE_NAME,
        infrastructure,
        title="dx-connector token-broker",
        shutdown_timeout=settings.shutdown_timeout_seconds,
    )
