"""Xero calls per invoice: 200 ready invoices of one connection into Xero, against both
sandboxes over real HTTP with Xero's real per-organisation limits (60 calls a minute, on the
system clock), invoice-sync on PostgreSQL and RabbitMQ.

Every invoice is new, and so are its customer (100 new accounts) and products (40 new ones), so
the figure includes the contact and item look-ups and creates. Target: at most 0.15 Xero calls
per invoice, all 200 exported, no 429 reaching a user (a run failure or an invoice marked
Failed).

    python3 -m uv run python -m bench.invoice_sync [--invoices 200] [--customers 100]
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from cryptography.fernet import Fernet
from dxc_shared.bus import MessageContext, Subscription
from dxc_shared.bus.rabbitmq import RabbitMQBroker
from dxc_shared.clients.dataverse import DataverseClient
from dxc_shared.clients.token_broker import TokenBrokerClient
from dxc_shared.db.migrate import upgrade
from dxc_shared.dynamics.installer import install
from dxc_shared.dynamics.schema import CONNECTOR, INVOICE_CONNECTOR, ConnectorStatus, ExportStatus
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.messages import ConnectionSyncProfile, SyncInvoicesJob, SyncRunCompleted
from invoice_sync.app import create_service as create_invoice_sync
from invoice_sync.settings import InvoiceSyncSettings
from token_broker.app import create_service as create_token_broker
from token_broker.settings import TokenBrokerSettings
from xero_sandbox.app import create_app as create_xero_sandbox
from xero_sandbox.settings import XeroSandboxSettings

from bench.report import report
from bench.scheduler_dispatch import AMQP_URL, _create_database, _drop_database
from tests.deploy.catalogue import SERVICES
from tests.support.dynamics_sandbox import pkce_pair, running_dynamics_sandbox
from tests.support.http_server import serve_in_thread
from tests.support.rabbitmq import delete_namespace_exchanges, delete_queues
from tests.support.xero_sandbox import VERIFIER, XeroSandbox

TARGET = 0.15
API_KEY = "bench-internal-key"
RUNS_QUEUE = "bench-runs"


def _xero(base: str, app: Any, http: httpx.Client) -> XeroSandbox:
    return XeroSandbox(base, app, clock=app.state.sandbox.clock, http=http)


async def run(invoices: int, customers: int, products: int) -> None:
    name = f"dxc_bench_{uuid.uuid4().hex[:8]}"
    database_url = await _create_database(name)
    namespace = f"dxc-bench-{uuid.uuid4().hex[:8]}"
    try:
        await upgrade(database_url)
        xero_app = create_xero_sandbox(
            XeroSandboxSettings(token_signing_key="bench-signing-key-0123456789abcdef")
        )
        with (
            serve_in_thread(xero_app) as xero_base,
            httpx.Client(timeout=30) as sync_http,
            running_dynamics_sandbox() as dynamics,
        ):
            xero = _xero(xero_base, xero_app, sync_http)
            await _measure(xero, dynamics, database_url, namespace, invoices, customers, products)
    finally:
        await _drop_database(name)
        await _delete_bus_topology(namespace)


async def _delete_bus_topology(namespace: str) -> None:
    """The queues invoice-sync and the benchmark's run listener declared, then the exchanges:
    also when the measurement failed half-way."""
    invoice_sync = SERVICES["invoice-sync"].build(namespace)
    listener: Subscription[Any] = Subscription(RUNS_QUEUE, SyncRunCompleted, _ignore)
    await delete_queues(AMQP_URL, namespace, [listener, *invoice_sync.subscriptions])
    await delete_namespace_exchanges(AMQP_URL, namespace)


async def _ignore(message: SyncRunCompleted, context: MessageContext) -> None:
    """A handler for a subscription only named to delete its queue."""


async def _measure(
    xero: XeroSandbox,
    dynamics: Any,
    database_url: str,
    namespace: str,
    invoices: int,
    customers: int,
    products: int,
) -> None:
    org = f"bench{uuid.uuid4().hex[:8]}"
    dynamics.admin("POST", "orgs", json={"unique_name": org, "seed": "demo"})
    dynamics.admin("POST", "users", json={"upn": dynamics.settings.demo_user, "orgs": [org]})
    org_url = dynamics.org_url(org)
    token: str = await asyncio.to_thread(dynamics.user_access_token, org)

    async def access_token() -> str:
        return token

    async with httpx.AsyncClient(timeout=60) as http:
        dataverse = DataverseClient(http, org_url=org_url, access_token=access_token)
        await install(dataverse)
        broker_settings = TokenBrokerSettings(
            database_url=database_url,
            broker_url=AMQP_URL,
            bus_namespace=namespace,
            encryption_keys=Fernet.generate_key().decode(),
            internal_api_key=API_KEY,
            xero_client_id=xero.settings.demo_client_id,
            xero_client_secret=xero.settings.demo_client_secret,
            xero_token_url=f"{xero.base}/connect/token",
            xero_revocation_url=f"{xero.base}/connect/revocation",
            dynamics_client_id=dynamics.settings.demo_client_id,
            dynamics_client_secret=dynamics.settings.demo_client_secret,
            dynamics_token_url=dynamics.token_url,
        )
        token_broker = create_token_broker(
            Infrastructure.from_settings(broker_settings), broker_settings
        )
        token_broker.owns_infrastructure = True
        async with (
            LifespanManager(token_broker.app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(token_broker.app),
                base_url="http://token-broker",
                headers={"Authorization": f"Bearer {API_KEY}"},
            ) as broker_http,
        ):
            connection_id = await _connect(broker_http, dynamics, xero, org_url)
            connector_id = await dataverse.create(
                CONNECTOR.entity_set,
                {
                    "dxc_name": "Xero connector",
                    "dxc_connectionid": str(connection_id),
                    "dxc_status": ConnectorStatus.ACTIVE.value,
                },
            )
            invoice_ids = await _seed(
                dynamics, dataverse, org, connector_id, invoices, customers, products
            )
            settings = InvoiceSyncSettings(
                database_url=database_url,
                broker_url=AMQP_URL,
                bus_namespace=namespace,
                token_broker_url="http://token-broker",
                token_broker_api_key=API_KEY,
                xero_api_url=xero.api(""),
            )
            service = create_invoice_sync(
                Infrastructure.from_settings(settings),
                settings,
                token_broker=TokenBrokerClient(
                    "http://token-broker",
                    API_KEY,
                    client=httpx.AsyncClient(transport=httpx.ASGITransport(token_broker.app)),
                ),
            )
            service.owns_infrastructure = True
            bus = RabbitMQBroker(AMQP_URL, namespace)
            await bus.connect()
            runs: list[SyncRunCompleted] = []
            finished = asyncio.Event()

            async def on_run(message: SyncRunCompleted, _: MessageContext) -> None:
                runs.append(message)
                if message.error or sum(r.succeeded + r.failed for r in runs) >= invoices:
                    finished.set()

            runs_subscription: Subscription[Any] = Subscription(
                RUNS_QUEUE, SyncRunCompleted, on_run
            )
            consumer = await bus.consume(runs_subscription)
            xero.admin("DELETE", "calls")
            dynamics.admin("DELETE", "calls")
            profile = ConnectionSyncProfile(
                connection_id=connection_id,
                xero_tenant_id=xero.tenant,
                dynamics_org_url=org_url,
                time_zone="UTC",
            )
            async with LifespanManager(service.app):
                started = time.perf_counter()
                await bus.publish(
                    SyncInvoicesJob(job_id=uuid.uuid4(), profile=profile, due_at=datetime.now(UTC))
                )
                await asyncio.wait_for(finished.wait(), timeout=600)
                elapsed = time.perf_counter() - started
            await consumer.stop(1)
            await bus.close()
            exported = [
                row
                for row in await dataverse.query(
                    "invoices", select=["invoiceid", "dxc_exportstatus"]
                )
                if str(row["invoiceid"]) in invoice_ids
                and row["dxc_exportstatus"] == ExportStatus.YES
            ]
    calls = xero.admin("GET", "calls", params={"path_contains": "/api.xro/"}).json()
    throttled = [call for call in calls if call.get("status") == 429]
    dataverse_calls = dynamics.admin("GET", "calls", params={"org": org}).json()
    failures = [failure.message for run in runs for failure in run.failures]
    errors = [run.error for run in runs if run.error]
    per_invoice = len(calls) / invoices
    report(
        "invoice_sync",
        [
            ("invoices handed over", invoices, ""),
            ("exported (export status Yes)", len(exported), f"target {invoices}"),
            ("failures reaching users", len(failures) + len(errors), "target 0"),
            ("Xero calls", len(calls), ""),
            ("Xero calls per invoice", per_invoice, f"target <= {TARGET}"),
            ("Xero 429 answers (waited out)", len(throttled), "never shown to users"),
            ("Dataverse calls", len(dataverse_calls), ""),
            ("seconds, job to last write-back", elapsed, ""),
        ],
        {
            "customers": customers,
            "products": products,
            "xero_calls_by_path": _by_path(calls),
            "failures": failures[:10],
            "errors": errors,
        },
    )


def _by_path(calls: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in calls:
        key = f"{call.get('method')} {str(call.get('path')).split('/api.xro/2.0/')[-1]}"
        counts[key] = counts.get(key, 0) + 1
    return counts


async def _connect(
    client: httpx.AsyncClient, dynamics: Any, xero: XeroSandbox, org_url: str
) -> uuid.UUID:
    connection_id = uuid.uuid4()
    verifier, challenge = pkce_pair()
    code = await asyncio.to_thread(
        dynamics.authorization_code, f"{org_url}/user_impersonation offline_access", challenge
    )
    response = await client.post(
        f"/v1/connections/{connection_id}/credentials/dynamics",
        json={"code": code, "redirect_uri": dynamics.redirect_uri, "code_verifier": verifier},
    )
    response.raise_for_status()
    code = await asyncio.to_thread(xero.authorize)
    response = await client.post(
        f"/v1/connections/{connection_id}/credentials/xero",
        json={
            "code": code,
            "redirect_uri": xero.settings.demo_redirect_uris[0],
            "code_verifier": VERIFIER,
        },
    )
    response.raise_for_status()
    return connection_id


async def _seed(
    dynamics: Any,
    dataverse: DataverseClient,
    org: str,
    connector_id: str,
    invoices: int,
    customers: int,
    products: int,
) -> set[str]:
    """New customers and products, and invoices handed to the connector that use them."""

    def seed(table: str, rows: list[dict[str, Any]]) -> list[str]:
        ids: list[str] = dynamics.admin("POST", f"orgs/{org}/records/{table}", json=rows).json()[
            "ids"
        ]
        return ids

    price_list = (await dataverse.query("pricelevels", select=["pricelevelid"], top=1))[0][
        "pricelevelid"
    ]
    currency = (
        await dataverse.query(
            "transactioncurrencies",
            select=["transactioncurrencyid"],
            filter="isocurrencycode eq 'NZD'",
        )
    )[0]["transactioncurrencyid"]
    account_ids = seed(
        "account",
        [
            {"name": f"Bench Customer {n:04d}", "accountnumber": f"BC-{n:04d}"}
            for n in range(customers)
        ],
    )
    product_ids = seed(
        "product",
        [
            {"productnumber": f"BENCH-{n:03d}", "name": f"Bench product {n}", "price": 10.0 + n}
            for n in range(products)
        ],
    )
    today = datetime.now(UTC).date().isoformat()
    invoice_ids = seed(
        "invoice",
        [
            {
                "invoicenumber": f"B-{n:05d}",
                "name": f"Bench invoice {n}",
                "datedelivered": today,
                "customerid_account@odata.bind": f"/accounts({account_ids[n % customers]})",
                "pricelevelid@odata.bind": f"/pricelevels({price_list})",
                "transactioncurrencyid@odata.bind": f"/transactioncurrencies({currency})",
                **INVOICE_CONNECTOR.bind(CONNECTOR.entity_set, connector_id),
            }
            for n in range(invoices)
        ],
    )
    lines: list[dict[str, Any]] = []
    for n, invoice_id in enumerate(invoice_ids):
        for k in range(2):
            lines.append(
                {
                    "invoiceid@odata.bind": f"/invoices({invoice_id})",
                    "productid@odata.bind": f"/products({product_ids[(n + k) % products]})",
                    "isproductoverridden": False,
                    "quantity": 1 + k,
                }
            )
        lines.append(
            {
                "invoiceid@odata.bind": f"/invoices({invoice_id})",
                "isproductoverridden": True,
                "productdescription": "Freight",
                "quantity": 1,
                "priceperunit": 15.0,
            }
        )
    seed("invoicedetail", lines)
    return set(invoice_ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=200)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--products", type=int, default=40)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.invoices, arguments.customers, arguments.products))


if __name__ == "__main__":
    main()
