from dxc_shared.infrastructure import Infrastructure
from dxc_shared.service import Service

from invoice_sync.settings import InvoiceSyncSettings

SERVICE_NAME = "invoice-sync"


def create_service(infrastructure: Infrastructure, settings: InvoiceSyncSettings) -> Service:
    return Service(
        SERVICE_NAME,
        infrastructure,
        title="dx-connector invoice-sync",
        shutdown_timeout=settings.shutdown_timeout_seconds,
    )
