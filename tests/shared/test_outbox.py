"""Publish after commit, on both stacks: PostgreSQL + RabbitMQ and SQLite + in-process bus."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from dxc_shared.bus import BusMessage, MessageContext, Subscription
from dxc_shared.bus.contract import Envelope, Publisher
from dxc_shared.bus.rabbitmq import RabbitMQBroker
from dxc_shared.db import Database
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.logging import log_context
from dxc_shared.outbox import OutboxMessage, OutboxRelay, enqueue
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from tests.support.polling import eventually
from tests.support.rabbitmq import delete_topology


class InvoiceSynced(BusMessage):
    topic: ClassVar[str] = "test.invoice-synced"
    invoice_id: str


@dataclass
class Stack:
    infrastructure: Infrastructure
    received: list[tuple[InvoiceSynced, MessageContext]]

    async def pending_rows(self) -> int:
        async with self.infrastructure.database.unit_of_work() as session:
            return int(await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


@pytest.fixture(params=["distributed", "embedded"])
async def stack(
    request: pytest.FixtureRequest,
    migrated_postgres: str,
    migrated_sqlite: str,
    rabbitmq_url: str,
    bus_namespace: str,
) -> AsyncIterator[Stack]:
    if request.param == "distributed":
        infrastructure = Infrastructure.create(migrated_postgres, rabbitmq_url, bus_namespace)
    else:
        infrastructure = Infrastructure.create(migrated_sqlite, "memory://", bus_namespace)
    received: list[tuple[InvoiceSynced, MessageContext]] = []

    async def handle(message: InvoiceSynced, context: MessageContext) -> None:
        received.append((message, context))

    subscription = Subscription("outbox-test", InvoiceSynced, handle)
    await infrastructure.start()
    consumer = await infrastructure.broker.consume(subscription)
    yield Stack(infrastructure, received)
    await consumer.stop(drain_seconds=1)
    await infrastructure.stop()
    if isinstance(infrastructure.broker, RabbitMQBroker):
        await delete_topology(rabbitmq_url, infrastructure.broker, [subscription])


async def test_a_committed_unit_of_work_publishes_its_messages(stack: Stack) -> None:
    with log_context(correlation_id="req-42", connection_id="conn-7"):
        async with stack.infrastructure.database.unit_of_work() as session:
            enqueue(session, InvoiceSynced(invoice_id="INV-1"))

    await eventually(lambda: len(stack.received) == 1)
    message, context = stack.received[0]
    assert message.invoice_id == "INV-1"
    assert (context.correlation_id, context.connection_id) == ("req-42", "conn-7")
    assert await stack.pending_rows() == 0


async def test_a_rolled_back_unit_of_work_publishes_nothing(stack: Stack) -> None:
    async def failing_unit_of_work() -> None:
        async with stack.infrastructure.database.unit_of_work() as session:
            enqueue(session, InvoiceSynced(invoice_id="INV-2"))
            await session.flush()
            raise RuntimeError("Dynamics write-back failed")

    with pytest.raises(RuntimeError):
        await failing_unit_of_work()

    # Commit something else afterwards: it must arrive alone.
    async with stack.infrastructure.database.unit_of_work() as session:
        enqueue(session, InvoiceSynced(invoice_id="INV-3"))
    await eventually(lambda: len(stack.received) >= 1)
    assert [message.invoice_id for message, _ in stack.received] == ["INV-3"]
    assert await stack.pending_rows() == 0


async def test_rows_left_by_a_crash_are_relayed_by_the_next_relay(stack: Stack) -> None:
    # A process that committed and died before relaying leaves its rows behind.
    await stack.infrastructure.relay.stop()
    database = stack.infrastructure.database
    async with database.sessionmaker() as session:
        enqueue(session, InvoiceSynced(invoice_id="INV-4"))
        await session.commit()  # bypasses unit_of_work, so no relay was woken
    assert await stack.pending_rows() == 1

    relay = OutboxRelay(database, stack.infrastructure.broker)
    assert await relay.relay_pending() == 1
    await eventually(lambda: len(stack.received) == 1)
    assert stack.received[0][0].invoice_id == "INV-4"
    assert await stack.pending_rows() == 0


class BrokerDown(Publisher):
    def __init__(self) -> None:
        self.attempts = 0

    async def _send(self, envelope: Envelope) -> None:
        self.attempts += 1
        raise ConnectionError("the broker does not answer")


async def test_the_relay_backs_off_while_publishing_fails(migrated_sqlite: str) -> None:
    database = Database(migrated_sqlite)
    async with database.unit_of_work() as session:
        enqueue(session, InvoiceSynced(invoice_id="INV-5"))
    broker = BrokerDown()
    relay = OutboxRelay(database, broker, sweep_interval=0.01)
    relay.start()
    await asyncio.sleep(1.0)
    with pytest.raises(ConnectionError):
        await relay.stop()  # its last hand-over fails too
    await database.dispose()

    # Every 10 ms that would be some hundred attempts; doubling waits (20, 40, ... 640 ms) make
    # it six or so (fewer on a busy machine, never more).
    assert 1 <= broker.attempts <= 8, broker.attempts


async def test_the_relay_measures_what_waits(stack: Stack) -> None:
    await stack.infrastructure.relay.stop()
    database = stack.infrastructure.database
    async with database.sessionmaker() as session:
        enqueue(session, InvoiceSynced(invoice_id="INV-5"))
        session.add(OutboxMessage(**_aged_row(minutes=10)))
        await session.commit()

    relay = OutboxRelay(database, stack.infrastructure.broker)
    await relay.measure_backlog()
    assert REGISTRY.get_sample_value("dxc_outbox_messages_pending") == 2
    age = REGISTRY.get_sample_value("dxc_outbox_oldest_pending_age_seconds")
    assert age is not None
    assert 600 <= age < 660

    await relay.relay_pending()
    await relay.measure_backlog()
    assert REGISTRY.get_sample_value("dxc_outbox_messages_pending") == 0
    assert REGISTRY.get_sample_value("dxc_outbox_oldest_pending_age_seconds") == 0


def _aged_row(*, minutes: int) -> dict[str, object]:
    return {
        "topic": InvoiceSynced.topic,
        "body": InvoiceSynced(invoice_id="INV-OLD").model_dump_json(),
        "headers": {},
        "created_at": datetime.now(UTC) - timedelta(minutes=minutes),
    }
