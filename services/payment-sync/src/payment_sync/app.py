from dxc_shared.infrastructure import Infrastructure
from dxc_shared.service import Service

from payment_sync.settings import PaymentSyncSettings

SERVICE_NAME = "payment-sync"


def create_service(infrastructure: Infrastructure, settings: PaymentSyncSettings) -> Service:
    return Service(
        SERVICE_NAME,
        infrastructure,
        title="dx-connector payment-sync",
        shutdown_timeout=settings.shutdown_timeout_seconds,
    )
