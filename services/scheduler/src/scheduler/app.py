from dxc_shared.infrastructure import Infrastructure
from dxc_shared.service import Service

from scheduler.settings import SchedulerSettings

SERVICE_NAME = "scheduler"


def create_service(infrastructure: Infrastructure, settings: SchedulerSettings) -> Service:
    return Service(
        SERVICE_NAME,
        infrastructure,
        title="dx-connector scheduler",
        shutdown_timeout=settings.shutdown_timeout_seconds,
    )
