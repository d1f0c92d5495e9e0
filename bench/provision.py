"""Connections and invoices for a running stack, without the portal: what portal-api and a
person would do, through the sandboxes' admin APIs, token-broker's API and Dataverse.

Per connection: a Xero organisation of its own (with its own user, so revoking one
connection's grant leaves the others alone), a Dynamics organisation with the demo data and the
connector's tables, both grants stored in token-broker (authorization codes through the
sandboxes' auto-approve), the connector row, and `ConnectionChanged` on the bus so the scheduler
schedules it and the workers learn its profile. Invoices are seeded in bulk (mixed kinds:
existing products, write-ins, note lines, a foreign currency) and handed over later, in waves,
the way a user says "ready to sync": by setting the invoice's connector lookup.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from dxc_shared.bus.rabbitmq import RabbitMQBroker
from dxc_shared.clients.dataverse import (
    BatchOperation,
    DataverseClient,
    DataverseThrottled,
    DataverseUnavailable,
)
from dxc_shared.clients.token_broker import TokenBrokerClient
from dxc_shared.clients.xero_accounting import XeroAccountingClient
from dxc_shared.dynamics.installer import install
from dxc_shared.dynamics.schema import CONNECTOR, INVOICE_CONNECTOR, ConnectorStatus
from dxc_shared.messages import ConnectionChanged, ConnectionSyncProfile, SyncRequested

from bench.stack import AMQP_URL, INTERNAL_API_KEY, Stack
from tests.support.dynamics_sandbox import pkce_pair

JSON = dict[str, Any]
XERO_CLIENT_ID = "DEMOCLIENTID0000000000000000000"
XERO_CLIENT_SECRET = "demo-client-secret"
XERO_REDIRECT_URI = "http://127.0.0.1:8000/connections/xero/callback"
XERO_SCOPES = (
    "openid profile email offline_access accounting.invoices accounting.payments "
    "accounting.contacts accounting.settings"
)
DYNAMICS_CLIENT_ID = "0f0c5e2a-5a6e-4b3a-9d8e-4e7f6d9a1c01"
DYNAMICS_USER = "alex@contoso-demo.example"
DYNAMICS_REDIRECT_URI = "http://127.0.0.1:8000/connections/dynamics/callback"
# The kinds of invoice the run mixes, in turn.
KINDS = ("products", "write-in", "note", "foreign-currency")
# Customers (Dynamics demo accounts and contacts) and products the invoices use.
ACCOUNTS = ("Contoso Pharmaceuticals (NZ)", "Fabrikam Ltd", "Northwind Traders")
CONTACTS = ("Yvonne McKay",)
PRODUCTS = ("WIDGET-A", "CONS-100", "SUPPORT-Y")


def _code_from(response: httpx.Response) -> str:
    if response.status_code != 302:
        raise RuntimeError(f"authorize answered {response.status_code}: {response.text[:300]}")
    return parse_qs(urlparse(response.headers["location"]).query)["code"][0]


@dataclass
class BenchInvoice:
    invoice_id: str
    number: str
    kind: str
    ready_at: float | None = None  # wall clock (time.time()) when handed over


@dataclass
class Connection:
    index: int
    profile: ConnectionSyncProfile
    xero_user: str
    org: str
    connector_id: str
    dataverse: DataverseClient
    invoices: list[BenchInvoice] = field(default_factory=list)
    handover_calls: int = 0

    @property
    def connection_id(self) -> uuid.UUID:
        return self.profile.connection_id

    @property
    def tenant_id(self) -> str:
        assert self.profile.xero_tenant_id is not None
        return self.profile.xero_tenant_id


class Provisioner:
    def __init__(self, stack: Stack, *, sync_interval_seconds: int = 60) -> None:
        self.stack = stack
        self.http = stack.http
        self.sync_interval_seconds = sync_interval_seconds
        self.token_broker = TokenBrokerClient(
            stack.token_broker_url, INTERNAL_API_KEY, client=self.http
        )
        # The bench's own connection goes straight to RabbitMQ, never through the relay whose
        # connections the resilience run cuts.
        self.bus = RabbitMQBroker(AMQP_URL, stack.namespace)
        self._xero_login = asyncio.Lock()

    async def __aenter__(self) -> Provisioner:
        await self.bus.connect()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.bus.close()

    # -- connections -------------------------------------------------------------------------

    async def connection(self, index: int) -> Connection:
        stack = self.stack
        connection_id = uuid.uuid4()
        tenant_id = str(uuid.uuid4())
        xero_user = f"bench-{stack.run_id}-{index}@xero-sandbox.example"
        await stack.xero_admin(
            "POST",
            "organisations",
            json={"name": f"Bench {index}", "tenant_id": tenant_id, "currencies": ["USD"]},
        )
        await stack.xero_admin(
            "POST", "users", json={"email": xero_user, "tenant_ids": [tenant_id]}
        )
        org = f"b{stack.run_id}{index}"
        await stack.dynamics_admin("POST", "orgs", json={"unique_name": org, "seed": "demo"})
        await stack.dynamics_admin("POST", "users", json={"upn": DYNAMICS_USER, "orgs": [org]})
        org_url = f"{stack.dynamics_url}/orgs/{org}"

        verifier, challenge = pkce_pair()
        code = _code_from(
            await self.http.get(
                f"{stack.dynamics_url}/common/oauth2/v2.0/authorize",
                params={
                    "client_id": DYNAMICS_CLIENT_ID,
                    "response_type": "code",
                    "redirect_uri": DYNAMICS_REDIRECT_URI,
                    "scope": f"{org_url}/user_impersonation offline_access",
                    "state": "bench",
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                    "login_hint": DYNAMICS_USER,
                },
            )
        )
        await self.token_broker.store_authorization_code(
            connection_id,
            "dynamics",
            code=code,
            redirect_uri=DYNAMICS_REDIRECT_URI,
            code_verifier=verifier,
        )
        code, verifier = await self.xero_code(xero_user, tenant_id)
        await self.token_broker.store_authorization_code(
            connection_id, "xero", code=code, redirect_uri=XERO_REDIRECT_URI, code_verifier=verifier
        )

        async def dynamics_token() -> str:
            token = await self.token_broker.access_token(
                connection_id, "dynamics", resource=org_url
            )
            return token.access_token

        dataverse = DataverseClient(self.http, org_url=org_url, access_token=dynamics_token)
        await install(dataverse)
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
            xero_tenant_id=tenant_id,
            dynamics_org_url=org_url,
            sync_interval_seconds=self.sync_interval_seconds,
        )
        return Connection(index, profile, xero_user, org, connector_id, dataverse)

    async def announce(self, connection: Connection) -> None:
        """What portal-api publishes once a connection is set up: the scheduler starts
        dispatching its jobs, the workers learn its profile."""
        await self.bus.publish(
            ConnectionChanged(profile=connection.profile, syncable=True),
            headers={"connection_id": str(connection.connection_id)},
        )

    async def sync_now(self, connection: Connection) -> None:
        """A person pressing "Sync now" in the portal: the scheduler dispatches at once."""
        await self.bus.publish(
            SyncRequested(connection_id=connection.connection_id),
            headers={"connection_id": str(connection.connection_id)},
        )

    async def xero_code(self, email: str, tenant_id: str) -> tuple[str, str]:
        """An authorization code of `email` for `tenant_id` through the sandbox's auto-approve
        (one at a time: auto-approve is one setting for the whole sandbox)."""
        verifier, challenge = pkce_pair()
        async with self._xero_login:
            await self.stack.xero_admin(
                "PUT", "auto-approve", json={"email": email, "tenant_ids": [tenant_id]}
            )
            response = await self.http.get(
                f"{self.stack.xero_url}/identity/connect/authorize",
                params={
                    "client_id": XERO_CLIENT_ID,
                    "redirect_uri": XERO_REDIRECT_URI,
                    "response_type": "code",
                    "scope": XERO_SCOPES,
                    "state": "bench",
                    "code_challenge": challenge,
                    "code_challenge_method": "S256",
                },
            )
        return _code_from(response), verifier

    async def xero_reader(self, connection: Connection) -> XeroAccountingClient:
        """A Xero client on a grant of the bench's own (not the connection's), to check what
        reached Xero; it works for a connection whose grant was revoked too."""
        code, verifier = await self.xero_code(connection.xero_user, connection.tenant_id)
        response = await self.http.post(
            f"{self.stack.xero_url}/connect/token",
            data={
                "grant_type": "authorization_code",
                "client_id": XERO_CLIENT_ID,
                "client_secret": XERO_CLIENT_SECRET,
                "code": code,
                "redirect_uri": XERO_REDIRECT_URI,
                "code_verifier": verifier,
            },
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]

        async def access_token() -> str:
            return token

        return XeroAccountingClient(
            self.http,
            base_url=f"{self.stack.xero_url}/api.xro/2.0",
            tenant_id=connection.tenant_id,
            access_token=access_token,
        )

    # -- invoices ----------------------------------------------------------------------------

    async def seed_invoices(self, connection: Connection, count: int) -> None:
        """`count` active, delivered invoices with lines, not yet handed over."""
        dataverse = connection.dataverse

        async def ids(entity_set: str, key: str, name: str) -> dict[str, str]:
            rows = await dataverse.query(entity_set, select=[key, name])
            return {str(row[name]): str(row[key]) for row in rows}

        currencies = await ids("transactioncurrencies", "transactioncurrencyid", "isocurrencycode")
        accounts = await ids("accounts", "accountid", "name")
        contacts = await ids("contacts", "contactid", "fullname")
        price_lists = await ids("pricelevels", "pricelevelid", "name")
        products = await ids("products", "productid", "productnumber")
        delivered = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
        prefix = f"B{connection.index:02d}"
        for start in range(0, count, 250):
            invoices: list[JSON] = []
            kinds: list[str] = []
            lines: list[list[JSON]] = []
            for number in range(start, min(count, start + 250)):
                kind = KINDS[number % len(KINDS)]
                kinds.append(kind)
                currency = "USD" if kind == "foreign-currency" else "NZD"
                if kind == "write-in":
                    customer = (
                        "customerid_contact@odata.bind",
                        f"/contacts({contacts[CONTACTS[0]]})",
                    )
                else:
                    account = ACCOUNTS[number % len(ACCOUNTS)]
                    customer = "customerid_account@odata.bind", f"/accounts({accounts[account]})"
                invoices.append(
                    {
                        "invoicenumber": f"{prefix}-{number + 1:05d}",
                        "name": f"Bench invoice {number + 1} ({kind})",
                        "datedelivered": delivered,
                        customer[0]: customer[1],
                        "transactioncurrencyid@odata.bind": (
                            f"/transactioncurrencies({currencies[currency]})"
                        ),
                        "pricelevelid@odata.bind": (
                            f"/pricelevels({price_lists[f'Retail {currency}']})"
                        ),
                    }
                )
                product = PRODUCTS[number % len(PRODUCTS)]
                items: list[JSON] = [
                    {
                        "productid@odata.bind": f"/products({products[product]})",
                        "quantity": 1 + number % 5,
                        "isproductoverridden": False,
                    }
                ]
                if kind in ("write-in", "foreign-currency"):
                    items.append(
                        {
                            "isproductoverridden": True,
                            "productdescription": f"Site work {number + 1} (write-in)",
                            "priceperunit": 40.0 + number % 17,
                            "quantity": 1,
                        }
                    )
                if kind == "note":
                    items.append(
                        {
                            "isproductoverridden": True,
                            "productdescription": f"Deliver to door {number % 9} (note)",
                            "priceperunit": 0.0,
                            "quantity": 0,
                        }
                    )
                for item in items:
                    item["transactioncurrencyid@odata.bind"] = (
                        f"/transactioncurrencies({currencies[currency]})"
                    )
                lines.append(items)
            seeded = await self.stack.dynamics_admin(
                "POST", f"orgs/{connection.org}/records/invoice", json=invoices
            )
            details = [
                item | {"invoiceid@odata.bind": f"/invoices({invoice_id})"}
                for invoice_id, items in zip(seeded["ids"], lines, strict=True)
                for item in items
            ]
            await self.stack.dynamics_admin(
                "POST", f"orgs/{connection.org}/records/invoicedetail", json=details
            )
            connection.invoices.extend(
                BenchInvoice(invoice_id, invoice["invoicenumber"], kind)
                for invoice_id, invoice, kind in zip(seeded["ids"], invoices, kinds, strict=True)
            )

    async def hand_over(self, connection: Connection, invoices: list[BenchInvoice]) -> None:
        """Set the connector lookup of `invoices` in one `$batch`, as a user marking them ready
        to sync; retried while Dataverse is down or throttling (the resilience run's faults hit
        the bench too). Records when each became ready."""
        pending = list(invoices)
        bind = INVOICE_CONNECTOR.bind(CONNECTOR.entity_set, connection.connector_id)
        while pending:
            try:
                connection.handover_calls += 1
                results = await connection.dataverse.batch(
                    [[BatchOperation("PATCH", f"invoices({i.invoice_id})", bind)] for i in pending]
                )
            except (DataverseUnavailable, DataverseThrottled, httpx.HTTPError):
                # token-broker restarting, or Dataverse down or throttling: try again.
                await asyncio.sleep(1)
                continue
            now = time.time()
            failed = []
            for invoice, result in zip(pending, results, strict=True):
                if result[0].ok:
                    invoice.ready_at = now
                else:
                    failed.append(invoice)
            if failed:
                await asyncio.sleep(1)
            pending = failed


async def provision_all(
    provisioner: Provisioner, connections: int, invoices: int, *, parallel: int = 4
) -> list[Connection]:
    """`connections` connections with `invoices` seeded invoices each, a few at a time."""
    gate = asyncio.Semaphore(parallel)

    async def one(index: int) -> Connection:
        async with gate:
            connection = await provisioner.connection(index)
            await provisioner.seed_invoices(connection, invoices)
            return connection

    return list(await asyncio.gather(*(one(index + 1) for index in range(connections))))
