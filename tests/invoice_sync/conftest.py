"""A whole world per test: the Xero and Dynamics sandboxes over real HTTP, token-broker holding
both grants of a new connection, invoice-sync on PostgreSQL and RabbitMQ, and a Dynamics org of
its own with the connector installed and the demo invoices."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

import httpx
import pytest
from asgi_lifespan import LifespanManager
from cryptography.fernet import Fernet
from dxc_shared.bus import MessageContext, Subscription
from dxc_shared.bus.rabbitmq import RabbitMQBroker
from dxc_shared.clients.dataverse import DataverseClient
from dxc_shared.clients.token_broker import TokenBrokerClient
from dxc_shared.dynamics.installer import install
from dxc_shared.dynamics.schema import (
    CONNECTOR,
    INVOICE,
    INVOICE_CONNECTOR,
    SETTINGS,
    SETTINGS_CONNECTOR,
    SYNC_HISTORY,
    ConnectorStatus,
)
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.messages import (
    ConnectionSyncProfile,
    SyncInvoicesJob,
    SyncRequested,
    SyncRunCompleted,
)
from invoice_sync.app import create_service as create_invoice_sync
from invoice_sync.settings import InvoiceSyncSettings
from token_broker.app import create_service as create_token_broker
from token_broker.settings import TokenBrokerSettings
from xero_sandbox.models import Invoice as XeroInvoice
from xero_sandbox.models import Organisation

from tests.support.dynamics_sandbox import (
    RunningDynamicsSandbox,
    pkce_pair,
)
from tests.support.polling import WITHIN, eventually
from tests.support.rabbitmq import delete_topology
from tests.support.xero_sandbox import VERIFIER, XeroSandbox

API_KEY = "internal-test-key"
KEY = Fernet.generate_key().decode()
JSON = dict[str, Any]
# The Xero organisation's default due dates (Invoice settings), as most organisations have them:
# an approved invoice sent without a due date takes one from them.
DEMO_PAYMENT_TERMS: JSON = {"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}}


class WorldFactory(Protocol):
    """What the `world_factory` fixture yields: builds one more `World` per call."""

    async def __call__(
        self,
        replicas: int = 1,
        time_zone: str = "UTC",
        field_mappings: dict[str, str] | None = None,
        **extra: Any,
    ) -> World: ...


@dataclass
class World:
    """One connection, its two organisations and the running services."""

    dynamics: RunningDynamicsSandbox
    xero: XeroSandbox
    org: str
    dataverse: DataverseClient
    connector_id: str
    profile: ConnectionSyncProfile
    bus: RabbitMQBroker
    services: list[Any]
    runs: list[SyncRunCompleted] = field(default_factory=list)
    sync_requests: list[SyncRequested] = field(default_factory=list)  # runs asked of the scheduler

    @property
    def connection_id(self) -> uuid.UUID:
        return self.profile.connection_id

    @property
    def xero_org(self) -> Organisation:
        return self.xero.state.organisations[self.xero.tenant.lower()]

    def xero_invoices(self) -> list[XeroInvoice]:
        return [i for i in self.xero_org.invoices.values() if i.status != "DELETED"]

    # -- Dynamics setup ---------------------------------------------------------------------

    def fail_write_back_once(self) -> None:
        """Dataverse answers the next `$batch` of this organisation 503: the job dies after Xero
        took what it sent, and the bus delivers it again."""
        self.dynamics.admin(
            "POST",
            "faults",
            json={
                "kind": "error",
                "path": "*/$batch",
                "organisation": self.org,
                "status": 503,
                "count": 1,
            },
        )

    def slow_xero_invoices_once(self, method: str, seconds: float) -> None:
        """Xero's next `method` on Invoices takes `seconds` to answer."""
        self.xero.admin(
            "POST",
            "faults",
            json={
                "kind": "latency",
                "path": "*/Invoices",
                "method": method,
                "latency_seconds": seconds,
                "count": 1,
            },
        )

    async def settings(self, **columns: Any) -> None:
        """Write the connector's settings row (logical column names without the prefix)."""
        rows = await self.dataverse.query(
            SETTINGS.entity_set,
            select=[SETTINGS.primary_id],
            filter=f"{SETTINGS_CONNECTOR.value_property} eq {self.connector_id}",
        )
        body = {f"dxc_{name}": value for name, value in columns.items()}
        if rows:
            await self.dataverse.update(SETTINGS.entity_set, rows[0][SETTINGS.primary_id], body)
        else:
            await self.dataverse.create(
                SETTINGS.entity_set,
                {
                    "dxc_name": "Settings",
                    **body,
                    **SETTINGS_CONNECTOR.bind(CONNECTOR.entity_set, self.connector_id),
                },
            )

    def seed(self, table: str, rows: list[JSON]) -> list[str]:
        response = self.dynamics.admin("POST", f"orgs/{self.org}/records/{table}", json=rows)
        ids: list[str] = response.json()["ids"]
        return ids

    async def invoice_ids(self) -> dict[str, str]:
        rows = await self.dataverse.query("invoices", select=["invoiceid", "invoicenumber"])
        return {str(row["invoicenumber"]): str(row["invoiceid"]) for row in rows}

    async def ids_of(self, entity_set: str, key: str, name: str) -> dict[str, str]:
        rows = await self.dataverse.query(entity_set, select=[key, name])
        return {str(row[name]): str(row[key]) for row in rows}

    async def new_invoice(
        self,
        number: str,
        *,
        customer: tuple[str, str] | None = ("account", "Fabrikam Ltd"),
        price_list: str | None = "Retail NZD",
        delivered: date | None = None,
        lines: list[JSON] | None = None,
        currency: str = "NZD",
        **columns: Any,
    ) -> str:
        """An active invoice with lines; `lines` are invoicedetail payloads where `product` is a
        product number, or write-ins with `productdescription` and `priceperunit`."""
        currencies = await self.ids_of(
            "transactioncurrencies", "transactioncurrencyid", "isocurrencycode"
        )
        if currency not in currencies:
            currencies[currency] = self.seed(
                "transactioncurrency",
                [
                    {
                        "currencyname": currency,
                        "isocurrencycode": currency,
                        "currencysymbol": currency,
                        "exchangerate": 1.0,
                        "currencyprecision": 2,
                    }
                ],
            )[0]
        payload: JSON = {
            "invoicenumber": number,
            "name": f"Invoice {number}",
            "datedelivered": (delivered or datetime.now(UTC).date()).isoformat(),
            "transactioncurrencyid@odata.bind": f"/transactioncurrencies({currencies[currency]})",
            **columns,
        }
        if customer is not None:
            kind, name = customer
            if kind == "account":
                found = await self.ids_of("accounts", "accountid", "name")
            else:
                found = await self.ids_of("contacts", "contactid", "fullname")
            payload[f"customerid_{kind}@odata.bind"] = f"/{kind}s({found[name]})"
        if price_list is not None:
            levels = await self.ids_of("pricelevels", "pricelevelid", "name")
            payload["pricelevelid@odata.bind"] = f"/pricelevels({levels[price_list]})"
        invoice_id = self.seed("invoice", [payload])[0]
        products = await self.ids_of("products", "productid", "productnumber")
        details = []
        for line in lines if lines is not None else [{"product": "WIDGET-A", "quantity": 2}]:
            detail = {k: v for k, v in line.items() if k != "product"}
            detail["invoiceid@odata.bind"] = f"/invoices({invoice_id})"
            detail["transactioncurrencyid@odata.bind"] = (
                f"/transactioncurrencies({currencies[currency]})"
            )
            if "product" in line:
                detail["productid@odata.bind"] = f"/products({products[str(line['product'])]})"
                detail.setdefault("isproductoverridden", False)
            else:
                detail.setdefault("isproductoverridden", True)
            details.append(detail)
        if details:
            self.seed("invoicedetail", details)
        return invoice_id

    def xero_contact(self, name: str) -> str:
        """A contact someone already keeps in Xero."""
        response = self.xero.admin(
            "POST",
            f"organisations/{self.xero.tenant}/contacts",
            json={"Contacts": [{"Name": name}]},
        )
        response.raise_for_status()
        contact_id: str = response.json()["Contacts"][0]["ContactID"]
        return contact_id

    async def xero_reference_row(self, entity_set: str, **columns: Any) -> str:
        """A row of the connector's Xero tax rates or chart of accounts, as payment-sync keeps
        them, for per-line overrides."""
        return await self.dataverse.create(
            entity_set,
            {
                "dxc_name": "Xero reference row",
                **{f"dxc_{name}": value for name, value in columns.items()},
                "dxc_ConnectorId@odata.bind": f"/{CONNECTOR.entity_set}({self.connector_id})",
            },
        )

    async def hand_over(self, *invoice_ids: str) -> None:
        """What a user does to say "ready to sync": set the invoice's connector lookup."""
        for invoice_id in invoice_ids:
            await self.dataverse.update(
                "invoices",
                invoice_id,
                INVOICE_CONNECTOR.bind(CONNECTOR.entity_set, self.connector_id),
            )

    async def invoice(self, invoice_id: str) -> JSON:
        rows = await self.dataverse.query(
            "invoices",
            select=[
                "invoicenumber",
                *(column.logical_name for column in INVOICE.columns),
            ],
            filter=f"invoiceid eq {invoice_id}",
        )
        return rows[0]

    async def history(self, invoice_id: str) -> list[JSON]:
        return await self.dataverse.query(
            SYNC_HISTORY.entity_set,
            select=["dxc_outcome", "dxc_message", "dxc_name"],
            filter=f"_dxc_invoiceid_value eq {invoice_id}",
            orderby="createdon asc",
        )

    async def connector(self) -> JSON:
        rows = await self.dataverse.query(
            CONNECTOR.entity_set,
            select=["dxc_status", "dxc_statusmessage", "dxc_lastsyncon"],
            filter=f"{CONNECTOR.primary_id} eq {self.connector_id}",
        )
        return rows[0]

    # -- running a job ----------------------------------------------------------------------

    async def sync(
        self, *, within: float = WITHIN, invoices_paused_until: datetime | None = None
    ) -> SyncRunCompleted:
        """Publish an invoice job as the scheduler does and wait for the report of the run that
        does its work: the job's own run, or, when the previous job's worker still held the
        connection's lease, the rerun that worker makes for it (reported under an id of its own,
        as is a retry after a transient fault); either started after the job was published."""
        published_at = datetime.now(UTC)
        job = SyncInvoicesJob(
            job_id=uuid.uuid4(),
            profile=self.profile,
            due_at=published_at,
            invoices_paused_until=invoices_paused_until,
        )

        def for_this_job(run: SyncRunCompleted) -> bool:
            return run.job_id == job.job_id or run.started_at >= published_at

        await self.bus.publish(job, headers={"connection_id": str(self.connection_id)})
        await eventually(lambda: any(for_this_job(run) for run in self.runs), within=within)
        return next(run for run in self.runs if for_this_job(run))


async def connect(
    client: httpx.AsyncClient, dynamics: RunningDynamicsSandbox, xero: XeroSandbox, org_url: str
) -> uuid.UUID:
    """Store both grants for a new connection, as portal-api does after the two callbacks."""
    connection_id = uuid.uuid4()
    verifier, challenge = pkce_pair()
    scope = f"{org_url}/user_impersonation offline_access"
    code = await asyncio.to_thread(dynamics.authorization_code, scope, challenge)
    response = await client.post(
        f"/v1/connections/{connection_id}/credentials/dynamics",
        json={"code": code, "redirect_uri": dynamics.redirect_uri, "code_verifier": verifier},
    )
    assert response.status_code == 201, response.text
    code = await asyncio.to_thread(xero.authorize)
    response = await client.post(
        f"/v1/connections/{connection_id}/credentials/xero",
        json={
            "code": code,
            "redirect_uri": xero.settings.demo_redirect_uris[0],
            "code_verifier": VERIFIER,
        },
    )
    assert response.status_code == 201, response.text
    return connection_id


def invoice_sync_settings(
    database_url: str, rabbitmq_url: str, namespace: str, xero: XeroSandbox, **extra: Any
) -> InvoiceSyncSettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "broker_url": rabbitmq_url,
        "bus_namespace": namespace,
        "token_broker_url": "http://token-broker",
        "token_broker_api_key": API_KEY,
        "xero_api_url": xero.api(""),
        "job_max_attempts": 3,
    }
    return InvoiceSyncSettings(**(values | extra))


@pytest.fixture
async def world_factory(
    dynamics: RunningDynamicsSandbox,
    xero: XeroSandbox,
    migrated_postgres: str,
    rabbitmq_url: str,
    bus_namespace: str,
) -> AsyncIterator[WorldFactory]:
    """`await world_factory(replicas=1, time_zone=..., **invoice_sync_settings)`."""
    stack = AsyncExitStack()
    subscriptions: list[Subscription[Any]] = []
    bus = RabbitMQBroker(rabbitmq_url, bus_namespace)
    await bus.connect()
    http = await stack.enter_async_context(httpx.AsyncClient(timeout=30))

    async def build(
        replicas: int = 1,
        time_zone: str = "UTC",
        field_mappings: dict[str, str] | None = None,
        xero_payment_terms: JSON | None = DEMO_PAYMENT_TERMS,
        **extra: Any,
    ) -> World:
        xero.admin("POST", "reset", params={"demo": "true"}).raise_for_status()
        if xero_payment_terms is not None:
            xero.admin(
                "PUT", f"organisations/{xero.tenant}/payment-terms", json=xero_payment_terms
            ).raise_for_status()
        org = f"t{uuid.uuid4().hex[:10]}"
        # The Dynamics users work in the connection's time zone.
        dynamics.admin(
            "POST", "orgs", json={"unique_name": org, "seed": "demo", "time_zone": time_zone}
        )
        dynamics.admin("POST", "users", json={"upn": dynamics.settings.demo_user, "orgs": [org]})
        org_url = dynamics.org_url(org)
        token = await asyncio.to_thread(dynamics.user_access_token, org)

        async def access_token() -> str:
            return token

        dataverse = DataverseClient(http, org_url=org_url, access_token=access_token)
        await install(dataverse)

        broker_settings = TokenBrokerSettings(
            database_url=migrated_postgres,
            broker_url=rabbitmq_url,
            bus_namespace=bus_namespace,
            encryption_keys=KEY,
            internal_api_key=API_KEY,
            xero_client_id=xero.settings.demo_client_id,
            xero_client_secret=xero.settings.demo_client_secret,
            xero_token_url=f"{xero.base}/connect/token",
            xero_revocation_url=f"{xero.base}/connect/revocation",
            dynamics_client_id=dynamics.settings.demo_client_id,
            dynamics_client_secret=dynamics.settings.demo_client_secret,
            dynamics_token_url=dynamics.token_url,
        )
        broker_service = create_token_broker(
            Infrastructure.from_settings(broker_settings), broker_settings
        )
        broker_service.owns_infrastructure = True
        await stack.enter_async_context(LifespanManager(broker_service.app))
        subscriptions.extend(broker_service.subscriptions)
        broker_http = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(broker_service.app),
                base_url="http://token-broker",
                headers={"Authorization": f"Bearer {API_KEY}"},
            )
        )
        connection_id = await connect(broker_http, dynamics, xero, org_url)
        connector_id = await dataverse.create(
            CONNECTOR.entity_set,
            {
                "dxc_name": "Xero connector",
                "dxc_connectionid": str(connection_id),
                "dxc_status": ConnectorStatus.ACTIVE.value,
            },
        )
        profile = ConnectionSyncProfile(
            connection_id=connection_id,
            xero_tenant_id=xero.tenant,
            dynamics_org_url=org_url,
            time_zone=time_zone,
            field_mappings=field_mappings or {},
        )
        world = World(dynamics, xero, org, dataverse, connector_id, profile, bus, [])

        async def on_run(message: SyncRunCompleted, _: MessageContext) -> None:
            world.runs.append(message)

        async def on_sync_requested(message: SyncRequested, _: MessageContext) -> None:
            world.sync_requests.append(message)

        reports: list[Subscription[Any]] = [
            Subscription("test-run-completed", SyncRunCompleted, on_run),
            Subscription("test-sync-requested", SyncRequested, on_sync_requested),
        ]
        for subscription in reports:
            subscriptions.append(subscription)
            consumer = await bus.consume(subscription)
            stack.push_async_callback(consumer.stop, 1)

        settings = invoice_sync_settings(
            migrated_postgres, rabbitmq_url, bus_namespace, xero, **extra
        )
        for _ in range(replicas):
            worker_http = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(broker_service.app), timeout=30)
            )
            service = create_invoice_sync(
                Infrastructure.from_settings(settings),
                settings,
                token_broker=TokenBrokerClient("http://token-broker", API_KEY, client=worker_http),
            )
            service.owns_infrastructure = True
            await stack.enter_async_context(LifespanManager(service.app))
            subscriptions.extend(service.subscriptions)
            world.services.append(service)
        return world

    yield build
    await stack.aclose()
    await bus.close()
    await delete_topology(rabbitmq_url, bus, subscriptions)
