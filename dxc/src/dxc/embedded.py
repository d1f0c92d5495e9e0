"""The embedded mode: every service and both sandboxes in one process, on SQLite and the
in-process bus.

The services are built by the same factories as in distributed mode and handed one shared
`Infrastructure`; only the adapters differ. Each service's app is mounted under its own name
(`/portal-api`, `/token-broker`, ...), the sandboxes under `/sandbox/dynamics` and
`/sandbox/xero`, and services reach each other and the sandboxes over HTTP at `public_url`, as
they would across pods. Starlette does not run the lifespans of mounted apps, so this app's
lifespan starts and stops them itself, in dependency order.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import invoice_sync.app
import payment_sync.app
import portal_api.app
import scheduler.app
import token_broker.app
from dxc_shared.db.migrate import upgrade
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.service import Service
from dxc_shared.settings import ServiceSettings
from dynamics_sandbox.app import create_app as create_dynamics_sandbox
from dynamics_sandbox.settings import DynamicsSandboxSettings
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from invoice_sync.settings import InvoiceSyncSettings
from payment_sync.settings import PaymentSyncSettings
from portal_api.settings import PortalApiSettings
from scheduler.settings import SchedulerSettings
from token_broker.crypto import TokenCipher
from token_broker.settings import TokenBrokerSettings
from xero_sandbox.app import create_app as create_xero_sandbox
from xero_sandbox.settings import XeroSandboxSettings

from dxc.web import WEB_DIST, serve_portal_web

MEMORY_BROKER_URL = "memory://"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"
S = TypeVar("S", bound=ServiceSettings)


@dataclass(frozen=True)
class EmbeddedLayout:
    """Where everything lives when one process serves it all."""

    data_dir: Path
    public_url: str

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{(self.data_dir / 'dxc.sqlite3').resolve()}"

    def url(self, mount: str) -> str:
        return f"{self.public_url.rstrip('/')}/{mount}"

    def encryption_key(self) -> str:
        """A token encryption key kept beside the database, so a restart can still read the
        tokens it stored."""
        key_file = self.data_dir / "token-encryption.key"
        if not key_file.exists():
            key_file.write_text(TokenCipher.generate_key())
            key_file.chmod(0o600)
        return key_file.read_text().strip()


def create_embedded_app(
    data_dir: Path, public_url: str = DEFAULT_PUBLIC_URL, web_dist: Path = WEB_DIST
) -> FastAPI:
    data_dir.mkdir(parents=True, exist_ok=True)
    layout = EmbeddedLayout(data_dir, public_url)

    def settings(settings_type: type[S], **values: Any) -> S:
        return settings_type(
            database_url=layout.database_url, broker_url=MEMORY_BROKER_URL, **values
        )

    infrastructure = Infrastructure.create(layout.database_url, MEMORY_BROKER_URL, "dxc")

    dynamics_settings = DynamicsSandboxSettings(
        demo_redirect_uris=[layout.url("portal-api/v1/oauth/dynamics/callback")],
        # Scopes name the sandbox at the public URL, whichever host a browser signs in at.
        resource_hosts=[urlparse(layout.public_url).netloc],
    )
    xero_settings = XeroSandboxSettings(
        demo_redirect_uris=[layout.url("portal-api/v1/oauth/xero/callback")],
        public_base_url=layout.url("sandbox/xero"),
        webhook_url=layout.url("payment-sync/v1/webhooks/xero"),
    )
    sandboxes = {
        "sandbox/dynamics": create_dynamics_sandbox(dynamics_settings),
        "sandbox/xero": create_xero_sandbox(xero_settings),
    }

    internal_api_key = secrets.token_urlsafe(32)
    services = {
        "token-broker": token_broker.app.create_service(
            infrastructure,
            settings(
                TokenBrokerSettings,
                encryption_keys=layout.encryption_key(),
                internal_api_key=internal_api_key,
                xero_client_id=xero_settings.demo_client_id,
                xero_client_secret=xero_settings.demo_client_secret,
                xero_token_url=layout.url("sandbox/xero/connect/token"),
                xero_revocation_url=layout.url("sandbox/xero/connect/revocation"),
                dynamics_client_id=dynamics_settings.demo_client_id,
                dynamics_client_secret=dynamics_settings.demo_client_secret,
                dynamics_token_url=layout.url("sandbox/dynamics/common/oauth2/v2.0/token"),
            ),
        ),
        "portal-api": portal_api.app.create_service(
            infrastructure,
            settings(
                PortalApiSettings,
                public_url=layout.url("portal-api"),
                web_url=layout.public_url,
                token_broker_url=layout.url("token-broker"),
                token_broker_api_key=internal_api_key,
                xero_client_id=xero_settings.demo_client_id,
                xero_authorize_url=layout.url("sandbox/xero/identity/connect/authorize"),
                xero_connections_url=layout.url("sandbox/xero/connections"),
                dynamics_client_id=dynamics_settings.demo_client_id,
                dynamics_authorize_url=layout.url("sandbox/dynamics/common/oauth2/v2.0/authorize"),
                dynamics_discovery_url=layout.url("sandbox/dynamics"),
                mailbox_dir=data_dir / "mailbox",
            ),
        ),
        "scheduler": scheduler.app.create_service(infrastructure, settings(SchedulerSettings)),
        "invoice-sync": invoice_sync.app.create_service(
            infrastructure,
            settings(
                InvoiceSyncSettings,
                token_broker_url=layout.url("token-broker"),
                token_broker_api_key=internal_api_key,
                xero_api_url=layout.url("sandbox/xero/api.xro/2.0"),
            ),
        ),
        "payment-sync": payment_sync.app.create_service(
            infrastructure,
            settings(
                PaymentSyncSettings,
                token_broker_url=layout.url("token-broker"),
                token_broker_api_key=internal_api_key,
                xero_webhook_key=xero_settings.webhook_key,
                xero_api_url=layout.url("sandbox/xero/api.xro/2.0"),
                xero_web_url=layout.url("sandbox/xero"),
            ),
        ),
    }
    root = Service("embedded", infrastructure, title="dx-connector (embedded mode)")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await upgrade(layout.database_url)
        async with AsyncExitStack() as stack:
            for sandbox in sandboxes.values():
                await stack.enter_async_context(sandbox.router.lifespan_context(sandbox))
            await infrastructure.start()
            stack.push_async_callback(infrastructure.stop)
            for service in services.values():
                await service.start()
                stack.push_async_callback(service.stop)
            yield

    root.app.router.lifespan_context = lifespan
    for mount, app in {**sandboxes, **{name: s.app for name, s in services.items()}}.items():
        root.app.mount(f"/{mount}", app)

    @root.app.get("/_services", response_class=HTMLResponse, include_in_schema=False)
    async def services_index() -> str:
        links = "".join(
            f'<li><a href="{name}/docs">{name}</a> (<a href="{name}/readyz">ready?</a>)</li>'
            for name in services
        )
        sandbox_links = "".join(
            f'<li><a href="{name}/sandbox-admin/docs">{name}</a></li>' for name in sandboxes
        )
        return (
            "<!doctype html><title>dx-connector</title><h1>dx-connector, embedded mode</h1>"
            f"<h2>Services</h2><ul>{links}</ul><h2>Sandboxes</h2><ul>{sandbox_links}</ul>"
        )

    # The portal's frontend at `/`, last: it answers every GET nothing above took.
    serve_portal_web(root.app, web_dist)

    return root.app


EMBEDDED_SERVICE_MOUNTS = (
    "token-broker",
    "portal-api",
    "scheduler",
    "invoice-sync",
    "payment-sync",
)
