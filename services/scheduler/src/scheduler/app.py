from dxc_shared.bus import Subscription
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.messages import ConnectionArchived, ConnectionChanged, SyncRequested
from dxc_shared.service import Service

from scheduler.dispatch import Scheduler
from scheduler.settings import SchedulerSettings

SERVICE_NAME = "scheduler"


def create_service(infrastructure: Infrastructure, settings: SchedulerSettings) -> Service:
    service = Service.for_settings(SERVICE_NAME, infrastructure, settings)
    scheduler = Scheduler(
        infrastructure.database,
        batch_size=settings.dispatch_batch_size,
        held_interval_seconds=settings.held_interval_seconds,
    )
    service.app.state.scheduler = scheduler
    service.subscribe(
        Subscription(
            "scheduler.connection-changed", ConnectionChanged, scheduler.on_connection_changed
        )
    )
    service.subscribe(
        Subscription(
            "scheduler.connection-archived", ConnectionArchived, scheduler.on_connection_archived
        )
    )
    service.subscribe(
        Subscription("scheduler.sync-requested", SyncRequested, scheduler.on_sync_requested)
    )
    service.run_in_background(lambda: scheduler.run(settings.tick_seconds))
    return service
