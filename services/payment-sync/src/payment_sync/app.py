from datetime import timedelta

from dxc_shared.bus import Subscription
from dxc_shared.clients.token_broker import TokenBrokerClient
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.messages import (
    ConnectionArchived,
    ConnectionChanged,
    ReferenceDataRefreshRequested,
    SyncPaymentsJob,
    XeroChangesNotified,
)
from dxc_shared.service import Service
from dxc_shared.sync import VendorFactory

from payment_sync.service import PaymentSync
from payment_sync.settings import PaymentSyncSettings
from payment_sync.webhooks.endpoints import router as webhooks_router

SERVICE_NAME = "payment-sync"


def create_service(infrastructure: Infrastructure, settings: PaymentSyncSettings) -> Service:
    service = Service.for_settings(SERVICE_NAME, infrastructure, settings)
    http = service.http_client(settings.http_timeout_seconds)
    tokens = TokenBrokerClient.from_settings(settings, http)
    sync = PaymentSync(
        infrastructure.database,
        VendorFactory.from_settings(infrastructure.database, tokens, http, settings),
        xero_web_url=settings.xero_web_url,
        reference_data_interval=timedelta(seconds=settings.reference_data_interval_seconds),
        balances_refresh_interval=timedelta(seconds=settings.balances_refresh_interval_seconds),
        webhook_coalesce_seconds=settings.webhook_coalesce_seconds,
    )
    service.app.state.payment_sync = sync
    service.app.state.database = infrastructure.database
    service.app.state.xero_webhook_key = settings.xero_webhook_key.get_secret_value()
    service.app.include_router(webhooks_router)
    for subscription in (
        Subscription(
            "payment-sync.connection-changed", ConnectionChanged, sync.on_connection_changed
        ),
        Subscription(
            "payment-sync.connection-archived", ConnectionArchived, sync.on_connection_archived
        ),
        Subscription("payment-sync.sync-payments", SyncPaymentsJob, sync.on_sync_payments_job),
        Subscription("payment-sync.xero-changes", XeroChangesNotified, sync.on_xero_changes),
        Subscription(
            "payment-sync.reference-data",
            ReferenceDataRefreshRequested,
            sync.on_reference_data_requested,
        ),
    ):
        service.subscribe(subscription)
    service.run_in_background(
        lambda: sync.run_reference_schedule(settings.reference_data_tick_seconds)
    )
    return service
