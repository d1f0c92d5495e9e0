"""portal-api: users, connections, plans, billing, OAuth connect flows and the checklist."""

from __future__ import annotations

from datetime import timedelta

from dxc_shared.bus import Subscription
from dxc_shared.clients.token_broker import TokenBrokerClient
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.messages import CredentialNeedsReauthorisation, SyncRunCompleted
from dxc_shared.service import Service

from portal_api.activity.endpoints import router as activity_router
from portal_api.activity.service import ActivityHandlers
from portal_api.auth.endpoints import router as auth_router
from portal_api.billing.endpoints import router as billing_router
from portal_api.billing.jobs import BillingJobs
from portal_api.billing.payments import FakePaymentProvider, PaymentProvider
from portal_api.billing.usage import UsageHandlers
from portal_api.connections.endpoints import router as connections_router
from portal_api.context import PortalContext
from portal_api.health.endpoints import router as health_router
from portal_api.kit.email import EmailRelay, MailboxSender, MailSender, SmtpSender
from portal_api.kit.errors import install_error_handlers
from portal_api.kit.housekeeping import run_housekeeping
from portal_api.notifications.endpoints import router as notifications_router
from portal_api.notifications.service import run_notifications
from portal_api.oauth.endpoints import router as oauth_router
from portal_api.push.endpoints import router as push_router
from portal_api.push.service import PushRelay
from portal_api.settings import PortalApiSettings
from portal_api.setup.endpoints import router as setup_router
from portal_api.setup.endpoints import solution_router

SERVICE_NAME = "portal-api"
ROUTERS = (
    auth_router,
    connections_router,
    oauth_router,
    setup_router,
    solution_router,
    billing_router,
    activity_router,
    health_router,
    notifications_router,
    push_router,
)


def mail_sender(settings: PortalApiSettings) -> MailSender:
    if settings.mailbox_dir is not None:
        return MailboxSender(settings.mailbox_dir)
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpSender(
        settings.smtp_host,
        settings.smtp_port,
        username=settings.smtp_username,
        password=password,
        starttls=settings.smtp_starttls,
    )


def create_service(
    infrastructure: Infrastructure,
    settings: PortalApiSettings,
    *,
    payments: PaymentProvider | None = None,
) -> Service:
    service = Service.for_settings(SERVICE_NAME, infrastructure, settings)
    http = service.http_client(30.0)
    context = PortalContext(
        settings=settings,
        database=infrastructure.database,
        http=http,
        token_broker=TokenBrokerClient.from_settings(settings, http),
        payments=payments or FakePaymentProvider(),
    )
    service.app.state.portal = context
    install_error_handlers(service.app)
    for router in ROUTERS:
        service.app.include_router(router)

    relay = EmailRelay(
        infrastructure.database,
        mail_sender(settings),
        sender_address=settings.email_from,
        poll_seconds=settings.email_poll_seconds,
    )
    service.app.state.email_relay = relay
    service.run_in_background(relay.run)

    login_window = timedelta(seconds=settings.login_window_seconds)
    service.run_in_background(
        lambda: run_housekeeping(infrastructure.database, login_window=login_window)
    )

    push_relay = PushRelay(
        infrastructure.database, window=timedelta(seconds=settings.push_coalesce_seconds)
    )
    service.app.state.push_relay = push_relay
    service.run_in_background(push_relay.run)

    billing_jobs = BillingJobs(infrastructure.database, context.payments, settings.web_url)
    service.app.state.billing_jobs = billing_jobs
    service.run_in_background(billing_jobs.run)
    usage = UsageHandlers(infrastructure.database, settings.web_url)
    service.app.state.usage_handlers = usage
    service.subscribe(
        Subscription("portal-api.invoice-usage", SyncRunCompleted, usage.on_run_completed)
    )

    service.run_in_background(
        lambda: run_notifications(
            infrastructure.database,
            web_url=settings.web_url,
            every_seconds=settings.notifications_every_seconds,
        )
    )

    handlers = ActivityHandlers(
        infrastructure.database, context.token_broker, web_url=settings.web_url
    )
    service.app.state.activity_handlers = handlers
    service.subscribe(
        Subscription("portal-api.sync-run-completed", SyncRunCompleted, handlers.on_run_completed)
    )
    service.subscribe(
        Subscription(
            "portal-api.reauthorisation-needed",
            CredentialNeedsReauthorisation,
            handlers.on_reauthorisation_needed,
        )
    )
    return service
