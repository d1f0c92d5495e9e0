"""invoice-sync: Dynamics 365 invoices, customers and products into Xero."""

from __future__ import annotations

from dxc_shared.bus import RetryPolicy, Subscription
from dxc_shared.clients.token_broker import TokenBrokerClient
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.messages import ConnectionChanged, InvoiceRetryRequested, SyncInvoicesJob
from dxc_shared.service import Service
from dxc_shared.sync import VendorFactory

from invoice_sync.settings import InvoiceSyncSettings
from invoice_sync.worker import InvoiceExporter

SERVICE_NAME = "invoice-sync"
JOB_QUEUE = "invoice-sync.jobs"
RETRY_QUEUE = "invoice-sync.retry-requested"


def create_service(
    infrastructure: Infrastructure,
    settings: InvoiceSyncSettings,
    *,
    token_broker: TokenBrokerClient | None = None,
) -> Service:
    """`token_broker` replaces the client built from the settings (the embedded mode and tests
    reach token-broker in-process)."""
    service = Service.for_settings(SERVICE_NAME, infrastructure, settings)
    http = service.http_client(settings.http_timeout_seconds)
    if token_broker is None:
        token_broker = TokenBrokerClient.from_settings(settings, http)
    exporter = InvoiceExporter(
        infrastructure.database,
        VendorFactory.from_settings(infrastructure.database, token_broker, http, settings),
        xero_web_url=settings.xero_web_url,
        lease_ttl_seconds=settings.lease_ttl_seconds,
        max_attempts=settings.job_max_attempts,
    )
    service.app.state.exporter = exporter
    service.subscribe(
        Subscription(
            JOB_QUEUE,
            SyncInvoicesJob,
            exporter.on_job,
            retry=RetryPolicy(
                max_attempts=settings.job_max_attempts, backoff=(2.0, 10.0, 30.0, 60.0, 120.0)
            ),
            concurrency=settings.job_concurrency,
        )
    )
    service.subscribe(
        Subscription(
            "invoice-sync.connection-changed", ConnectionChanged, exporter.on_connection_changed
        )
    )
    service.subscribe(Subscription(RETRY_QUEUE, InvoiceRetryRequested, exporter.on_retry_requested))
    return service
