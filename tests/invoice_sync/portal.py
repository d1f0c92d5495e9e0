"""portal-api's side of an invoice-sync world: its user and connection rows (the world's
connection), and its invoice view fed by the run reports on the bus, as portal-api is."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import httpx
from dxc_shared.bus import Subscription
from dxc_shared.clients.token_broker import TokenBrokerClient
from dxc_shared.db import Database
from dxc_shared.messages import SyncRunCompleted
from portal_api.activity import invoices as invoice_list
from portal_api.activity import service as activity
from portal_api.activity.schemas import InvoiceOut
from portal_api.auth.models import User
from portal_api.connections import service as connections
from portal_api.connections.models import Connection

from tests.invoice_sync.conftest import API_KEY, World
from tests.support.polling import eventually_async
from tests.support.rabbitmq import delete_queues


async def portal_rows(database: Database, world: World, trial_ends_at: datetime) -> uuid.UUID:
    """The portal's user and its connection (the world's), set up and in its trial."""
    user_id = uuid.uuid4()
    async with database.unit_of_work() as session:
        session.add(
            User(
                id=user_id,
                email=f"trial-{user_id.hex[:8]}@example.com",
                name="Jo Finance",
                company_name="Contoso",
                trial_ends_at=trial_ends_at,
            )
        )
        await session.flush()
        session.add(
            Connection(
                id=world.connection_id,
                user_id=user_id,
                name="Contoso books",
                time_zone="UTC",
                plan="starter",
                xero_connected=True,
                xero_tenant_id=world.xero.tenant,
                dynamics_connected=True,
                dynamics_org_url=world.profile.dynamics_org_url,
                tables_installed=True,
            )
        )
    return user_id


class InvoiceView:
    """What the portal's invoice view (`GET /v1/connections/{id}/invoices`) lists."""

    def __init__(self, database: Database, world: World) -> None:
        self._database = database
        self._world = world

    async def invoices(self, outcome: str | None = None) -> list[InvoiceOut]:
        async with self._database.unit_of_work() as session:
            connection = await session.get(Connection, self._world.connection_id)
            assert connection is not None
            user = await session.get(User, connection.user_id)
            assert user is not None
            state = await connections.state_of(session, user, connection)
            page = await invoice_list.page(
                session, state, search=None, outcome=outcome, cursor=None
            )
        return page.invoices

    async def shows(self, invoice_id: str, outcome: str, message: str | None) -> None:
        async def listed() -> bool:
            return any(
                (i.record_id, i.message) == (invoice_id, message)
                for i in await self.invoices(outcome)
            )

        await eventually_async(listed)


@asynccontextmanager
async def portal_view(
    database: Database, world: World, rabbitmq_url: str
) -> AsyncIterator[InvoiceView]:
    """portal-api's handler of run reports, consuming from the world's bus (its queues are
    removed after; the exchanges are the world's)."""
    async with httpx.AsyncClient() as http:
        handlers = activity.ActivityHandlers(
            database,
            TokenBrokerClient("http://token-broker", API_KEY, client=http),
            web_url="http://web.test",
        )
        subscription = Subscription(
            "test-portal-run-completed", SyncRunCompleted, handlers.on_run_completed
        )
        consumer = await world.bus.consume(subscription)
        try:
            yield InvoiceView(database, world)
        finally:
            await consumer.stop(1)
            await delete_queues(rabbitmq_url, world.bus.namespace, [subscription])
