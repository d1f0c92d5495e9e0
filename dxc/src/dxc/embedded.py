"""The embedded mode: every service and both sandboxes in one process, on SQLite and the
in-process bus.

The services are built by the same factories as in distributed mode and handed one shared
`Infrastructure`; only the adapters differ. Each service's app is mounted under its own name
(`/portal-api`, `/scheduler`, ...), the sandboxes under `/sandbox/xero` and `/sandbox/dynamics`.
Starlette does not run the lifespans of mounted apps, so this app's lifespan starts and stops
them itself, in dependency order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import invoice_sync.app
import payment_sync.app
import portal_api.app
import scheduler.app
import token_broker.app
from dxc_shared.db.migrate import upgrade
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.service import Service
from dxc_shared.settings import ServiceSettings
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from invoice_sync.settings import InvoiceSyncSettings
from payment_sync.settings import PaymentSyncSettings
from portal_api.settings import PortalApiSettings
from scheduler.settings import SchedulerSettings
from token_broker.settings import TokenBrokerSettings

MEMORY_BROKER_URL = "memory://"


@dataclass(frozen=True)
class EmbeddedService:
    mount: str
    settings_type: type[ServiceSettings]
    factory: Callable[[Infrastructure, Any], Service]


EMBEDDED_SERVICES = (
    EmbeddedService("token-broker", TokenBrokerSettings, token_broker.app.create_service),
    EmbeddedService("portal-api", PortalApiSettings, portal_api.app.create_service),
    EmbeddedService("scheduler", SchedulerSettings, scheduler.app.create_service),
    EmbeddedService("invoice-sync", InvoiceSyncSettings, invoice_sync.app.create_service),
    EmbeddedService("payment-sync", PaymentSyncSettings, payment_sync.app.create_service),
)


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{(data_dir / 'dxc.sqlite3').resolve()}"


def create_embedded_app(data_dir: Path) -> FastAPI:
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = sqlite_url(data_dir)
    infrastructure = Infrastructure.create(database_url, MEMORY_BROKER_URL, "dxc")
    services = [
        spec.factory(
            infrastructure,
            spec.settings_type(database_url=database_url, broker_url=MEMORY_BROKER_URL),
        )
        for spec in EMBEDDED_SERVICES
    ]
    root = Service("embedded", infrastructure, title="dx-connector (embedded mode)")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await upgrade(database_url)
        async with AsyncExitStack() as stack:
            await infrastructure.start()
            stack.push_async_callback(infrastructure.stop)
            for service in services:
                await service.start()
                stack.push_async_callback(service.stop)
            yield

    root.app.router.lifespan_context = lifespan
    for spec, service in zip(EMBEDDED_SERVICES, services, strict=True):
        root.app.mount(f"/{spec.mount}", service.app)

    @root.app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> str:
        links = "".join(
            f'<li><a href="{spec.mount}/docs">{spec.mount}</a> '
            f'(<a href="{spec.mount}/readyz">ready?</a>)</li>'
            for spec in EMBEDDED_SERVICES
        )
        return (
            "<!doctype html><title>dx-connector</title><h1>dx-connector, embedded mode</h1>"
            f"<ul>{links}</ul>"
        )

    return root.app
