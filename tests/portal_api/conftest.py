"""portal-api on PostgreSQL and RabbitMQ, with token-broker and both sandboxes served over real
HTTP on loopback. Browsers are played by httpx clients that keep cookies; the sandboxes' OAuth
redirects are followed by hand, as a browser would."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from asgi_lifespan import LifespanManager
from dxc_shared.bus import MessageContext, Subscription
from dxc_shared.bus.contract import BusMessage
from dxc_shared.bus.rabbitmq import RabbitMQBroker
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.messages import (
    ConnectionArchived,
    ConnectionChanged,
    InvoiceRetryRequested,
    ReferenceDataRefreshRequested,
    SyncRequested,
)
from dxc_shared.service import Service
from dynamics_sandbox.app import create_app as create_dynamics_sandbox
from dynamics_sandbox.settings import DynamicsSandboxSettings
from portal_api.app import create_service
from portal_api.settings import PortalApiSettings

from tests.conftest import new_bus_namespace
from tests.support.dynamics_sandbox import RunningDynamicsSandbox
from tests.support.http_server import serve_in_thread
from tests.support.polling import WITHIN, eventually
from tests.support.rabbitmq import delete_namespace_exchanges, delete_topology
from tests.support.token_broker import (
    INTERNAL_API_KEY,
    token_broker_served,
    token_broker_settings,
)
from tests.support.xero_sandbox import XeroSandbox, running_xero_sandbox

PORTAL_URL = "http://portal.test"
WEB_URL = "http://web.test"
PASSWORD = "correct horse 42"
M = TypeVar("M", bound=BusMessage)
T = TypeVar("T")


@pytest.fixture(scope="module")
def namespace() -> str:
    """One bus namespace for the module: token-broker publishes where portal-api listens."""
    return new_bus_namespace()


@pytest.fixture(scope="module")
def xero() -> Iterator[XeroSandbox]:
    with running_xero_sandbox(
        demo_redirect_uris=[f"{PORTAL_URL}/v1/oauth/xero/callback"]
    ) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def dynamics() -> Iterator[RunningDynamicsSandbox]:
    settings = DynamicsSandboxSettings(
        token_signing_key="test-signing-key-of-32-bytes-at-least",
        demo_redirect_uris=[f"{PORTAL_URL}/v1/oauth/dynamics/callback"],
    )
    with serve_in_thread(create_dynamics_sandbox(settings)) as base_url:
        yield RunningDynamicsSandbox(base_url, settings)


@pytest.fixture(scope="module")
def token_broker_url(
    xero: XeroSandbox,
    dynamics: RunningDynamicsSandbox,
    migrated_postgres: str,
    rabbitmq_url: str,
    namespace: str,
) -> Iterator[str]:
    settings = token_broker_settings(
        database_url=migrated_postgres,
        broker_url=rabbitmq_url,
        namespace=namespace,
        xero=xero,
        dynamics=dynamics,
    )
    with token_broker_served(settings) as url:
        yield url


def portal_settings(
    *,
    database_url: str,
    broker_url: str,
    namespace: str,
    mailbox: Path,
    token_broker_url: str,
    xero: XeroSandbox | None,
    dynamics: RunningDynamicsSandbox | None,
    **extra: Any,
) -> PortalApiSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "broker_url": broker_url,
        "bus_namespace": namespace,
        "public_url": PORTAL_URL,
        "web_url": WEB_URL,
        "token_broker_url": token_broker_url,
        "token_broker_api_key": INTERNAL_API_KEY,
        "xero_client_id": xero.settings.demo_client_id if xero else "unused",
        "xero_authorize_url": f"{xero.base if xero else 'http://unused'}/identity/connect/authorize",
        "xero_connections_url": f"{xero.base if xero else 'http://unused'}/connections",
        "dynamics_client_id": dynamics.settings.demo_client_id if dynamics else "unused",
        "dynamics_authorize_url": (
            f"{dynamics.base_url if dynamics else 'http://unused'}/common/oauth2/v2.0/authorize"
        ),
        "dynamics_discovery_url": dynamics.base_url if dynamics else "http://unused",
        "mailbox_dir": mailbox,
        "email_poll_seconds": 0.2,
        # Every test signs up from 127.0.0.1 into one database: no e-mail limit in the way
        # (tests/portal_api/test_public_safety.py sets its own).
        "email_max_per_client": 100_000,
    }
    return PortalApiSettings(**(values | extra))


async def until(
    fetch: Callable[[], Awaitable[T]], done: Callable[[T], bool], *, within: float = WITHIN
) -> T:
    """Fetch until `done(value)` (for what only an async call can read); fails after `within`."""
    deadline = time.monotonic() + within
    while True:
        value = await fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {within} s; last value: {value!r}")
        await asyncio.sleep(0.02)


@dataclass
class Portal:
    service: Service
    mailbox: Path

    @property
    def app(self) -> Any:
        return self.service.app

    def browser(self, address: str = "127.0.0.1") -> httpx.AsyncClient:
        """A new browser (its own cookie jar) at a client IP address."""
        transport = httpx.ASGITransport(self.app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url=PORTAL_URL, timeout=60)

    def mails_to(self, address: str) -> list[dict[str, Any]]:
        mails = [json.loads(path.read_text()) for path in sorted(self.mailbox.glob("*.json"))]
        return [mail for mail in mails if mail["to"] == address]

    async def link_sent_to(self, address: str, path: str, *, count: int = 1) -> str:
        """The token of the newest `path` link mailed to `address` (waits for the relay)."""
        await eventually(
            lambda: sum(f"/{path}?token=" in m["body"] for m in self.mails_to(address)) >= count
        )
        body = [m for m in self.mails_to(address) if f"/{path}?token=" in m["body"]][-1]["body"]
        link: str = next(word for word in body.split() if f"/{path}?token=" in word)
        assert link.startswith(f"{WEB_URL}/{path}?token=")
        return parse_qs(urlparse(link).query)["token"][0]

    @asynccontextmanager
    async def signed_up(self, email: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
        """Register, confirm through the e-mailed link: a signed-in browser (the CSRF header
        set from its cookie, as the web frontend does)."""
        email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
        async with self.browser() as browser:
            await self._sign_up(browser, email)
            yield browser

    async def _sign_up(self, browser: httpx.AsyncClient, email: str) -> None:
        response = await browser.post(
            "/v1/auth/register",
            json={"email": email, "name": "Ada Lovelace", "company_name": "Analytical Ltd"},
        )
        assert response.status_code == 201, response.text
        token = await self.link_sent_to(email, "confirm")
        response = await browser.post(
            "/v1/auth/confirm", json={"token": token, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        browser.headers["X-CSRF-Token"] = browser.cookies["dxc_csrf"]


@pytest.fixture(scope="module")
async def portal(
    migrated_postgres: str,
    rabbitmq_url: str,
    namespace: str,
    token_broker_url: str,
    xero: XeroSandbox,
    dynamics: RunningDynamicsSandbox,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Portal]:
    mailbox = tmp_path_factory.mktemp("mailbox")
    settings = portal_settings(
        database_url=migrated_postgres,
        broker_url=rabbitmq_url,
        namespace=namespace,
        mailbox=mailbox,
        token_broker_url=token_broker_url,
        xero=xero,
        dynamics=dynamics,
    )
    async with started_portal(settings, rabbitmq_url) as service:
        yield Portal(service, mailbox)


@asynccontextmanager
async def started_portal(settings: PortalApiSettings, rabbitmq_url: str) -> AsyncIterator[Service]:
    """portal-api started as its lifespan starts it, its bus topology removed afterwards."""
    service = create_service(Infrastructure.from_settings(settings), settings)
    service.owns_infrastructure = True
    async with LifespanManager(service.app):
        yield service
    await delete_topology(rabbitmq_url, service.infrastructure.broker, service.subscriptions)


class Bus:
    """What portal-api published, as the scheduler would see it; and a way to publish to it."""

    def __init__(self, broker: RabbitMQBroker) -> None:
        self.broker = broker
        self.received: list[BusMessage] = []

    async def collect(self, message: BusMessage, _context: MessageContext) -> None:
        self.received.append(message)

    def of(self, kind: type[M], connection_id: uuid.UUID | str) -> list[M]:
        wanted = uuid.UUID(str(connection_id))
        return [m for m in self.received if isinstance(m, kind) and _connection_of(m) == wanted]

    async def publish(self, message: BusMessage) -> None:
        await self.broker.publish(message)


def _connection_of(message: BusMessage) -> uuid.UUID | None:
    if isinstance(message, ConnectionChanged):
        return message.profile.connection_id
    found = getattr(message, "connection_id", None)
    return found if isinstance(found, uuid.UUID) else None


@pytest.fixture(scope="module")
async def bus(rabbitmq_url: str, namespace: str) -> AsyncIterator[Bus]:
    broker = RabbitMQBroker(rabbitmq_url, namespace)
    await broker.connect()
    listener = Bus(broker)
    subscriptions: list[Subscription[Any]] = [
        Subscription(f"test-listener.{kind.__name__}", kind, listener.collect)
        for kind in (
            ConnectionChanged,
            ConnectionArchived,
            SyncRequested,
            ReferenceDataRefreshRequested,
            InvoiceRetryRequested,
        )
    ]
    consumers = [await broker.consume(subscription) for subscription in subscriptions]
    yield listener
    for consumer in consumers:
        await consumer.stop(drain_seconds=1)
    await broker.close()
    await delete_topology(rabbitmq_url, broker, subscriptions)
    await delete_namespace_exchanges(rabbitmq_url, namespace)
