from dxc_shared.infrastructure import Infrastructure
from dxc_shared.service import Service

from portal_api.settings import PortalApiSettings

SERVICE_NAME = "portal-api"


def create_service(infrastructure: Infrastructure, settings: PortalApiSettings) -> Service:
    return Service(
        SERVICE_NAME,
        infrastructure,
        title="dx-connector portal-api",
        shutdown_timeout=settings.shutdown_timeout_seconds,
    )
