"""payment-sync end to end: the service and token-broker served over real HTTP on loopback, on
PostgreSQL and RabbitMQ, against both sandboxes. Each test gets its own connection and its own
Xero organisation, and shares one Dynamics organisation (rows are told apart by their Xero ids
and connector record)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from dxc_shared.bus import MessageContext, Subscription
from dxc_shared.bus.contract import BusMessage
from dxc_shared.bus.rabbitmq import RabbitMQBroker
from dxc_shared.clients.dataverse import JSON, DataverseClient
from dxc_shared.clients.token_broker import TokenBrokerClient
from dxc_shared.dynamics import schema
from dxc_shared.dynamics.installer import install
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.messages import (
    ConnectionChanged,
    ConnectionSyncProfile,
    SyncPaymentsJob,
    SyncRunCompleted,
)
from payment_sync.app import create_service as create_payment_sync
from payment_sync.settings import PaymentSyncSettings
from prometheus_client import REGISTRY

from tests.conftest import new_bus_namespace
from tests.support.dynamics_sandbox import (
    RunningDynamicsSandbox,
    demo_user_dataverse,
    pkce_pair,
)
from tests.support.http_server import serve_in_thread
from tests.support.polling import WITHIN, eventually
from tests.support.rabbitmq import delete_namespace_exchanges, delete_queues
from tests.support.token_broker import (
    INTERNAL_API_KEY,
    token_broker_served,
    token_broker_settings,
)
from tests.support.xero_sandbox import VERIFIER, XeroSandbox

WEBHOOK_KEY = "payment-sync-test-webhook-key"


@pytest.fixture(scope="module")
def namespace(rabbitmq_url: str) -> Iterator[str]:
    """The module's bus namespace; its exchanges go once everything using them has stopped."""
    namespace = new_bus_namespace()
    yield namespace
    asyncio.run(delete_namespace_exchanges(rabbitmq_url, namespace))


@pytest.fixture(scope="module")
async def dataverse(dynamics: RunningDynamicsSandbox) -> AsyncIterator[DataverseClient]:
    """The demo user's view of the Dynamics organisation, with the connector's tables."""
    async with demo_user_dataverse(dynamics) as client:
        await install(client)
        yield client


@pytest.fixture(scope="module")
def token_broker_url(
    dynamics: RunningDynamicsSandbox,
    xero: XeroSandbox,
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


@dataclass
class PaymentSyncUnderTest:
    url: str
    settings: PaymentSyncSettings
    subscriptions: tuple[Subscription[Any], ...]


@pytest.fixture(scope="module")
def payment_sync(
    xero: XeroSandbox,
    migrated_postgres: str,
    rabbitmq_url: str,
    namespace: str,
    token_broker_url: str,
) -> Iterator[PaymentSyncUnderTest]:
    settings = PaymentSyncSettings(
        database_url=migrated_postgres,
        broker_url=rabbitmq_url,
        bus_namespace=namespace,
        token_broker_url=token_broker_url,
        token_broker_api_key=INTERNAL_API_KEY,
        xero_webhook_key=WEBHOOK_KEY,
        xero_api_url=xero.api(""),
        xero_web_url=xero.base,
        reference_data_tick_seconds=0.2,
        balances_refresh_interval_seconds=0.001,  # every job also refreshes every balance
        webhook_coalesce_seconds=0.2,
    )
    service = create_payment_sync(Infrastructure.from_settings(settings), settings)
    service.owns_infrastructure = True
    with serve_in_thread(service.app) as url:
        yield PaymentSyncUnderTest(url, settings, service.subscriptions)
    # Only now that its consumers have stopped: a running consumer declares its queue again.
    asyncio.run(delete_queues(rabbitmq_url, namespace, service.subscriptions))


@dataclass
class Bus:
    """The test's own connection to the bus: publishes as the other services do, and hears
    every run payment-sync reports."""

    broker: RabbitMQBroker
    runs: list[SyncRunCompleted] = field(default_factory=list)

    async def publish(self, message: BusMessage) -> None:
        await self.broker.publish(message)

    def runs_of(self, connection_id: uuid.UUID, direction: str) -> list[SyncRunCompleted]:
        return [
            run
            for run in self.runs
            if run.connection_id == connection_id and run.direction == direction
        ]

    async def next_run(
        self, connection_id: uuid.UUID, direction: str, *, after: int, within: float = WITHIN
    ) -> SyncRunCompleted:
        """The first run of `direction` reported after `after` such runs."""
        await eventually(lambda: len(self.runs_of(connection_id, direction)) > after, within=within)
        return self.runs_of(connection_id, direction)[after]


@pytest.fixture(scope="module")
async def bus(
    namespace: str, rabbitmq_url: str, payment_sync: PaymentSyncUnderTest
) -> AsyncIterator[Bus]:
    broker = RabbitMQBroker(rabbitmq_url, namespace)
    await broker.connect()
    bus = Bus(broker)

    async def on_run(run: SyncRunCompleted, _: MessageContext) -> None:
        bus.runs.append(run)

    subscription = Subscription("test-sync-runs", SyncRunCompleted, on_run)
    consumer = await broker.consume(subscription)
    yield bus
    await consumer.stop(drain_seconds=1)
    await broker.close()
    await delete_queues(rabbitmq_url, namespace, [subscription])


@dataclass
class Connection:
    """One connection of the portal: its own Xero organisation, both grants in token-broker,
    and its connector record in Dynamics."""

    connection_id: uuid.UUID
    tenant_id: str
    connector_id: str
    profile: ConnectionSyncProfile
    xero: XeroSandbox
    dynamics: RunningDynamicsSandbox
    dataverse: DataverseClient
    bus: Bus

    # -- Xero, as its users change it ------------------------------------------------------

    def xero_admin(self, path: str, plural: str, elements: list[JSON]) -> list[JSON]:
        response = self.xero.admin(
            "POST", f"organisations/{self.tenant_id}/{path}", json={plural: elements}
        )
        assert response.status_code == 200, response.text
        created: list[JSON] = response.json()[plural]
        assert all(not element.get("ValidationErrors") for element in created), created
        return created

    def xero_contact(self, name: str) -> str:
        return str(self.xero_admin("contacts", "Contacts", [{"Name": name}])[0]["ContactID"])

    def xero_invoice(
        self, contact_id: str, amount: float, due: str = "2025-03-31", status: str = "AUTHORISED"
    ) -> JSON:
        return self.xero_admin(
            "invoices",
            "Invoices",
            [
                {
                    "Type": "ACCREC",
                    "Contact": {"ContactID": contact_id},
                    "Status": status,
                    "Date": "2025-02-01",
                    "DueDate": due,
                    "LineItems": [
                        {
                            "Description": "Consulting",
                            "Quantity": 1,
                            "UnitAmount": amount,
                            "AccountCode": "200",
                        }
                    ],
                }
            ],
        )[0]

    def xero_payment(self, invoice_id: str, amount: float) -> JSON:
        """A payment a Xero user records against the invoice."""
        self.xero.clock.advance(5)  # a later edit has a later UpdatedDateUTC, as in Xero
        return self.xero_admin(
            "payments",
            "Payments",
            [
                {
                    "Invoice": {"InvoiceID": invoice_id},
                    "Account": {"Code": "090"},
                    "Amount": amount,
                    "Date": "2025-03-03",
                }
            ],
        )[0]

    def xero_status(self, invoice_id: str, status: str) -> JSON:
        """A Xero user voids the invoice (VOIDED) or deletes the draft (DELETED)."""
        self.xero.clock.advance(5)
        return self.xero_admin(
            "invoices", "Invoices", [{"InvoiceID": invoice_id, "Status": status}]
        )[0]

    def xero_credit(self, invoice_id: str, contact_id: str, amount: float) -> JSON:
        """A Xero user credits the invoice: a credit note for `amount` (tax included),
        allocated to it."""
        self.xero.clock.advance(5)
        [credit_note] = self.xero_admin(
            "credit-notes",
            "CreditNotes",
            [
                {
                    "Type": "ACCRECCREDIT",
                    "Contact": {"ContactID": contact_id},
                    "Status": "AUTHORISED",
                    "Date": "2025-03-03",
                    "LineAmountTypes": "Inclusive",
                    "LineItems": [
                        {
                            "Description": "Credit",
                            "Quantity": 1,
                            "UnitAmount": amount,
                            "AccountCode": "200",
                        }
                    ],
                }
            ],
        )
        self.xero_admin(
            f"credit-notes/{credit_note['CreditNoteID']}/allocations",
            "Allocations",
            [{"Invoice": {"InvoiceID": invoice_id}, "Amount": amount, "Date": "2025-03-03"}],
        )
        return credit_note

    def xero_contact_balances(self, contact_id: str) -> JSON:
        response = self.xero.http.get(
            self.xero.api(f"Contacts/{contact_id}"),
            headers=self.xero.headers(tenant=self.tenant_id),
        )
        assert response.status_code == 200, response.text
        balances: JSON = response.json()["Contacts"][0]["Balances"]["AccountsReceivable"]
        return balances

    # -- Dynamics, as invoice-sync leaves it after an export --------------------------------

    async def dynamics_account(self, name: str, xero_contact_id: str) -> str:
        return await self.dataverse.create(
            schema.ACCOUNT.entity_set, {"name": name, "dxc_xerocontactid": xero_contact_id}
        )

    async def exported_invoice(self, account_id: str, xero_invoice: JSON) -> str:
        """A Dynamics invoice "was exported" to `xero_invoice`: its dxc_Xero* columns say so."""
        return await self.dataverse.create(
            schema.INVOICE.entity_set,
            {
                "name": f"Exported {xero_invoice['InvoiceNumber']}",
                "customerid_account@odata.bind": f"/accounts({account_id})",
                "dxc_exportstatus": schema.ExportStatus.YES,
                "dxc_exportedon": datetime.now(UTC).isoformat(),
                "dxc_xeroinvoiceid": xero_invoice["InvoiceID"],
                "dxc_xeroinvoicenumber": xero_invoice["InvoiceNumber"],
                "dxc_xerostatus": xero_invoice["Status"],
                "dxc_amountdue": xero_invoice["AmountDue"],
                **schema.INVOICE_CONNECTOR.bind(schema.CONNECTOR.entity_set, self.connector_id),
            },
        )

    async def dynamics_row(self, entity_set: str, row_id: str) -> JSON:
        response = await self.dataverse.request(
            "GET", f"{entity_set}({row_id})", operation="test_read"
        )
        assert response is not None
        row: JSON = response.json()
        return row

    async def cancel_in_dynamics(self, invoice_id: str) -> None:
        """A Dynamics user cancels the invoice (what starts a cancellation in invoice-sync)."""
        await self.dataverse.update(
            schema.INVOICE.entity_set, invoice_id, {"statecode": 3, "statuscode": 100003}
        )

    async def history_of(self, invoice_id: str) -> list[JSON]:
        """The sync history rows linked to the invoice, oldest first."""
        return await self.dataverse.query(
            schema.SYNC_HISTORY.entity_set,
            select=["dxc_name", "dxc_outcome", "dxc_message", "_dxc_connectorid_value"],
            filter=f"_dxc_invoiceid_value eq {invoice_id}",
            orderby="dxc_occurredon asc",
        )

    def dynamics_batches(self) -> int:
        """How many `$batch` requests the Dynamics organisation has answered."""
        calls = self.dynamics.admin("GET", "calls", params={"path_contains": "$batch"}).json()
        return len(calls)

    # -- the bus ---------------------------------------------------------------------------

    async def poll(self, job_id: uuid.UUID | None = None) -> SyncRunCompleted:
        """What the scheduler does each interval: one payments job; returns its report (of
        this delivery, when the same job is sent again)."""
        job_id = job_id or uuid.uuid4()

        def reports() -> list[SyncRunCompleted]:
            return [run for run in self.bus.runs if run.job_id == job_id]

        before = len(reports())
        await self.bus.publish(
            SyncPaymentsJob(job_id=job_id, profile=self.profile, due_at=datetime.now(UTC))
        )
        await eventually(lambda: len(reports()) > before)
        return reports()[before]


@pytest.fixture
async def connection(
    xero: XeroSandbox,
    dynamics: RunningDynamicsSandbox,
    dataverse: DataverseClient,
    token_broker_url: str,
    bus: Bus,
) -> Connection:
    """A new connection, connected and announced: its first reference-data run has finished."""
    connection_id = uuid.uuid4()
    organisation = xero.admin(
        "POST", "organisations", json={"name": f"Payments {connection_id.hex[:8]}"}
    )
    assert organisation.status_code == 201, organisation.text
    tenant_id: str = organisation.json()["tenant_id"]
    tenants = [org["tenant_id"] for org in xero.admin("GET", "organisations").json()]
    xero.admin(
        "POST",
        "users",
        json={
            "email": xero.settings.demo_user_email,
            "password": xero.settings.demo_user_password,
            "tenant_ids": tenants,
        },
    ).raise_for_status()

    async with httpx.AsyncClient(timeout=20) as http:
        tokens = TokenBrokerClient(token_broker_url, INTERNAL_API_KEY, client=http)
        code = await asyncio.to_thread(xero.authorize)
        await tokens.store_authorization_code(
            connection_id,
            "xero",
            code=code,
            redirect_uri=xero.settings.demo_redirect_uris[0],
            code_verifier=VERIFIER,
        )
        verifier, challenge = pkce_pair()
        scope = f"{dynamics.org_url()}/user_impersonation offline_access"
        code = await asyncio.to_thread(dynamics.authorization_code, scope, challenge)
        await tokens.store_authorization_code(
            connection_id,
            "dynamics",
            code=code,
            redirect_uri=dynamics.redirect_uri,
            code_verifier=verifier,
        )
    connector_id = await dataverse.create(
        schema.CONNECTOR.entity_set,
        {"dxc_name": f"Xero: {tenant_id}", "dxc_connectionid": str(connection_id)},
    )
    profile = ConnectionSyncProfile(
        connection_id=connection_id,
        xero_tenant_id=tenant_id,
        dynamics_org_url=dynamics.org_url(),
    )
    await bus.publish(ConnectionChanged(profile=profile, syncable=True))
    first = await bus.next_run(connection_id, "reference-data", after=0)
    assert first.error is None, first
    return Connection(
        connection_id, tenant_id, connector_id, profile, xero, dynamics, dataverse, bus
    )


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    """A metric's value in this process (payment-sync is served from a thread of it)."""
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0
