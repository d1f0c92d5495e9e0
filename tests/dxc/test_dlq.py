"""`dxc dlq` against the real RabbitMQ: a message portal-api dead-letters is listed, shown and
replayed; replayed twice (the second copy a duplicate, as after a crash between the publish and
the DLQ's ack), its effect (one sync run on the activity page) happens once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aio_pika
import pytest
from dxc.dlq import SUBSCRIPTION_QUEUES, DeadLetterError, DeadLetterQueues
from dxc_shared.bus import DeadLetterNow, Envelope, MessageContext, Subscription
from dxc_shared.bus.rabbitmq import RabbitMQBroker, to_amqp
from dxc_shared.clients.token_broker import TokenBrokerClient
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.logging import CORRELATION_ID
from dxc_shared.messages import SyncRunCompleted
from pamqp.common import FieldTable
from portal_api.activity.models import SyncRun
from portal_api.activity.service import ActivityHandlers
from portal_api.auth.models import User
from portal_api.connections.models import Connection
from sqlalchemy import func, select

from tests.deploy.catalogue import SERVICES
from tests.support.polling import eventually, eventually_async
from tests.support.rabbitmq import delete_topology

QUEUE = "portal-api.sync-run-completed"


@dataclass
class Portal:
    """portal-api's real handler for finished runs, consuming from RabbitMQ; `broken` makes it
    dead-letter what it gets, as a bug or a bad deployment would."""

    infrastructure: Infrastructure
    broker: RabbitMQBroker
    namespace: str
    broker_url: str
    connection_id: uuid.UUID
    handled: list[MessageContext]
    broken: bool = True

    async def sync_runs(self) -> int:
        async with self.infrastructure.database.unit_of_work() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(SyncRun)
                .where(SyncRun.connection_id == self.connection_id)
            )
        return int(count or 0)

    def dxc(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(Path(sys.executable).with_name("dxc")), "dlq", *args],
            capture_output=True,
            text=True,
            env={
                **os.environ,
                "DXC_BROKER_URL": self.broker_url,
                "DXC_BUS_NAMESPACE": self.namespace,
            },
            timeout=120,
        )


@pytest.fixture
async def portal(
    migrated_postgres: str, rabbitmq_url: str, bus_namespace: str
) -> AsyncIterator[Portal]:
    infrastructure = Infrastructure.create(migrated_postgres, rabbitmq_url, bus_namespace)
    assert isinstance(infrastructure.broker, RabbitMQBroker)
    await infrastructure.start()
    async with infrastructure.database.unit_of_work() as session:
        user = User(
            email=f"{uuid.uuid4().hex}@example.com",
            name="Operator",
            company_name="Example",
            trial_ends_at=datetime.now(UTC) + timedelta(days=14),
        )
        session.add(user)
        await session.flush()
        connection = Connection(user_id=user.id, name="Example", time_zone="UTC", plan="trial")
        session.add(connection)
        await session.flush()
        connection_id = connection.id
    token_broker = TokenBrokerClient("http://127.0.0.1:9", "unused")
    handlers = ActivityHandlers(
        infrastructure.database, token_broker, web_url="http://portal.example"
    )
    portal = Portal(
        infrastructure, infrastructure.broker, bus_namespace, rabbitmq_url, connection_id, []
    )

    async def on_run_completed(message: SyncRunCompleted, context: MessageContext) -> None:
        if portal.broken:
            raise DeadLetterNow("portal-api could not store the run")
        await handlers.on_run_completed(message, context)
        portal.handled.append(context)

    subscription = Subscription(QUEUE, SyncRunCompleted, on_run_completed)
    consumer = await infrastructure.broker.consume(subscription)
    yield portal
    await consumer.stop(drain_seconds=1)
    await infrastructure.stop()
    await delete_topology(rabbitmq_url, infrastructure.broker, [subscription])


def run_completed(connection_id: uuid.UUID) -> SyncRunCompleted:
    finished = datetime.now(UTC)
    return SyncRunCompleted(
        connection_id=connection_id,
        job_id=uuid.uuid4(),
        direction="invoices",
        started_at=finished - timedelta(seconds=30),
        finished_at=finished,
        succeeded=3,
        failed=0,
    )


async def dead_letters(portal: Portal) -> dict[str, int]:
    async with DeadLetterQueues.connect(portal.broker_url, portal.namespace) as queues:
        return await queues.counts([QUEUE])


async def one_dead_letter(portal: Portal) -> bool:
    return await dead_letters(portal) == {QUEUE: 1}


async def test_a_dead_letter_is_listed_shown_and_replayed_once(portal: Portal) -> None:
    message = run_completed(portal.connection_id)
    envelope = Envelope.of(message, {CORRELATION_ID: "req-7"})
    await portal.broker.publish_envelope(envelope)
    await eventually_async(lambda: one_dead_letter(portal))

    listed = await asyncio.to_thread(portal.dxc, "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == [QUEUE, "1"]

    shown = await asyncio.to_thread(portal.dxc, "show", QUEUE)
    assert shown.returncode == 0, shown.stderr
    assert f"message {envelope.message_id} in {portal.namespace}.{QUEUE}.dlq" in shown.stdout
    assert "topic:   sync.run-completed" in shown.stdout
    assert "reason:  portal-api could not store the run" in shown.stdout
    assert f'"job_id": "{message.job_id}"' in shown.stdout
    assert await dead_letters(portal) == {QUEUE: 1}, "show must leave the message in place"

    # The cause is fixed; the message goes back to portal-api's queue, and only there.
    portal.broken = False
    replayed = await asyncio.to_thread(portal.dxc, "replay", QUEUE, "--all")
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.splitlines() == [
        f"replayed 1 message(s) to {portal.namespace}.{QUEUE}",
        f"  {envelope.message_id}",
    ]
    await eventually(lambda: len(portal.handled) == 1)
    (context,) = portal.handled
    assert (context.message_id, context.attempt) == (envelope.message_id, 1)
    assert context.correlation_id == "req-7"
    assert await portal.sync_runs() == 1
    assert await dead_letters(portal) == {QUEUE: 0}

    # The same message dead-lettered again (a crash after the replay's publish, before the ack,
    # leaves the same copy behind): replaying it runs the handler, which changes nothing.
    portal.broken = True
    await portal.broker.publish_envelope(envelope)
    await eventually_async(lambda: one_dead_letter(portal))
    portal.broken = False
    async with DeadLetterQueues.connect(portal.broker_url, portal.namespace) as queues:
        assert await queues.replay(QUEUE, message_id=envelope.message_id) == [envelope.message_id]
    await eventually(lambda: len(portal.handled) == 2)
    assert await portal.sync_runs() == 1
    assert await dead_letters(portal) == {QUEUE: 0}
    nothing = await asyncio.to_thread(portal.dxc, "list")
    assert nothing.stdout.strip() == f"no dead letters in namespace {portal.namespace}"


async def test_what_rabbitmq_recorded_is_shown_and_not_replayed(portal: Portal) -> None:
    """A message RabbitMQ dead-lettered itself (the delivery limit) carries x-death headers;
    the replayed copy must not, or it would look dead already. Others stay where they were."""
    dlq = f"{portal.namespace}.{QUEUE}.dlq"
    kept, killed = (Envelope.of(run_completed(portal.connection_id)) for _ in range(2))
    connection = await aio_pika.connect(portal.broker_url)
    async with connection:
        channel = await connection.channel()
        await channel.default_exchange.publish(to_amqp(kept), routing_key=dlq)
        death: FieldTable = {
            "reason": "delivery_limit",
            "queue": f"{portal.namespace}.{QUEUE}",
            "count": 20,
        }
        raw = to_amqp(killed, **{"x-first-death-reason": "delivery_limit"})
        raw.headers["x-death"] = [death]
        await channel.default_exchange.publish(raw, routing_key=dlq)

    async with DeadLetterQueues.connect(portal.broker_url, portal.namespace) as queues:
        shown = await queues.show(QUEUE, message_id=killed.message_id)
        assert [letter.reason for letter in shown] == ["RabbitMQ: delivery_limit"]
        assert shown[0].deaths == [f"delivery_limit in {portal.namespace}.{QUEUE} (20 times)"]
        portal.broken = False
        assert await queues.replay(QUEUE, message_id=killed.message_id) == [killed.message_id]
        await eventually(lambda: len(portal.handled) == 1)
        assert not {
            name for name in portal.handled[0].headers if name.startswith(("x-death", "x-first"))
        }
        assert await queues.counts([QUEUE]) == {QUEUE: 1}
        (left,) = await queues.show(QUEUE)
        assert left.message_id == kept.message_id
        with pytest.raises(DeadLetterError, match="no message nope"):
            await queues.replay(QUEUE, message_id="nope")
        with pytest.raises(DeadLetterError, match="does not exist"):
            await queues.show("no-such.queue")


def test_the_tool_knows_every_subscription() -> None:
    subscribed = {
        subscription.queue
        for entry in SERVICES.values()
        for subscription in entry.build().subscriptions
    }
    assert set(SUBSCRIPTION_QUEUES) == subscribed


async def test_a_message_nobody_can_take_stays_in_the_dead_letter_queue(
    rabbitmq_url: str, bus_namespace: str
) -> None:
    """The DLQ copy goes only once RabbitMQ confirmed the replayed one was queued: with the
    service's queue gone, the publish is returned and the message stays."""
    dlq = f"{bus_namespace}.gone.dlq"
    envelope = Envelope.of(run_completed(uuid.uuid4()))
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(dlq, durable=True, arguments={"x-queue-type": "quorum"})
        try:
            await channel.default_exchange.publish(to_amqp(envelope), routing_key=dlq)
            async with DeadLetterQueues.connect(rabbitmq_url, bus_namespace) as queues:
                with pytest.raises(DeadLetterError, match="it stays in the DLQ"):
                    await queues.replay("gone", message_id=envelope.message_id)

                async def back_in_the_dlq() -> bool:
                    # The refused copy goes back when the replay's channel closes; a quorum
                    # queue's count follows a moment later.
                    return await queues.counts(["gone"]) == {"gone": 1}

                await eventually_async(back_in_the_dlq)
                (left,) = await queues.show("gone")
                assert left.message_id == envelope.message_id
        finally:
            await channel.queue_delete(dlq)
