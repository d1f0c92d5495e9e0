"""One contract, two brokers: every test here runs against RabbitMQ and the in-process bus."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from dxc_shared.bus import (
    Broker,
    BusMessage,
    Consumer,
    DeadLetterNow,
    Envelope,
    MessageContext,
    RetryPolicy,
    Subscription,
)
from dxc_shared.bus.memory import InMemoryBroker, topic_matches
from dxc_shared.bus.rabbitmq import RabbitMQBroker
from dxc_shared.logging import log_context

from tests.support.polling import WITHIN, eventually, eventually_async
from tests.support.rabbitmq import delete_topology

FAST_RETRY = RetryPolicy(max_attempts=3, backoff=(0.05, 0.1))


class Ping(BusMessage):
    topic: ClassVar[str] = "test.ping"
    n: int


class BrokerUnderTest:
    """A broker plus the subscriptions a test made, for clean-up."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.subscriptions: list[Subscription[Any]] = []
        self.consumers: list[Consumer] = []

    async def consume(self, subscription: Subscription[Any]) -> Consumer:
        self.subscriptions.append(subscription)
        consumer = await self.broker.consume(subscription)
        self.consumers.append(consumer)
        return consumer


async def dead_letters(bus: BrokerUnderTest, queue: str) -> list[Any]:
    """The dead letters of `queue`, once there are any."""
    letters: list[Any] = []

    async def arrived() -> bool:
        letters.extend(await bus.broker.take_dead_letters(queue))
        return bool(letters)

    await eventually_async(arrived)
    return letters


@pytest.fixture(params=["rabbitmq", "memory"])
async def bus(
    request: pytest.FixtureRequest, rabbitmq_url: str, bus_namespace: str
) -> AsyncIterator[BrokerUnderTest]:
    broker: Broker = (
        RabbitMQBroker(rabbitmq_url, bus_namespace)
        if request.param == "rabbitmq"
        else InMemoryBroker()
    )
    await broker.connect()
    under_test = BrokerUnderTest(broker)
    yield under_test
    for consumer in under_test.consumers:
        await consumer.stop(drain_seconds=1)
    await broker.close()
    if isinstance(broker, RabbitMQBroker):
        await delete_topology(rabbitmq_url, broker, under_test.subscriptions)


def recorder() -> tuple[list[tuple[Ping, MessageContext]], Any]:
    received: list[tuple[Ping, MessageContext]] = []

    async def handle(message: Ping, context: MessageContext) -> None:
        received.append((message, context))

    return received, handle


async def test_delivers_typed_message_with_its_context(bus: BrokerUnderTest) -> None:
    received, handle = recorder()
    await bus.consume(Subscription("pings", Ping, handle))

    with log_context(correlation_id="corr-1", connection_id="conn-1"):
        await bus.broker.publish(Ping(n=7))

    await eventually(lambda: len(received) == 1)
    message, context = received[0]
    assert message == Ping(n=7)
    assert context.topic == "test.ping"
    assert context.attempt == 1
    assert context.correlation_id == "corr-1"
    assert context.connection_id == "conn-1"


async def test_redelivers_after_a_handler_error(bus: BrokerUnderTest) -> None:
    attempts: list[int] = []

    async def flaky(message: Ping, context: MessageContext) -> None:
        attempts.append(context.attempt)
        if context.attempt < 3:
            raise RuntimeError("Xero answered 503")

    await bus.consume(Subscription("flaky", Ping, flaky, retry=FAST_RETRY))
    await bus.broker.publish(Ping(n=1))

    await eventually(lambda: attempts == [1, 2, 3])
    await asyncio.sleep(0.3)
    assert attempts == [1, 2, 3], "a message that succeeded must not come back"
    assert await bus.broker.take_dead_letters("flaky") == []


async def test_dead_letters_after_the_retry_limit(bus: BrokerUnderTest) -> None:
    attempts: list[int] = []

    async def always_fails(message: Ping, context: MessageContext) -> None:
        attempts.append(context.attempt)
        raise RuntimeError("still broken")

    await bus.consume(Subscription("doomed", Ping, always_fails, retry=FAST_RETRY))
    await bus.broker.publish(Ping(n=2))

    await eventually(lambda: len(attempts) == 3)
    letters = await dead_letters(bus, "doomed")
    assert attempts == [1, 2, 3]
    assert len(letters) == 1
    assert json.loads(letters[0].envelope.body) == {"n": 2}
    assert "gave up after 3 attempts" in letters[0].reason
    assert "still broken" in letters[0].reason


async def test_dead_letter_now_skips_the_retries(bus: BrokerUnderTest) -> None:
    attempts: list[int] = []

    async def refuses(message: Ping, context: MessageContext) -> None:
        attempts.append(context.attempt)
        raise DeadLetterNow("connection was deleted")

    await bus.consume(Subscription("refused", Ping, refuses, retry=FAST_RETRY))
    await bus.broker.publish(Ping(n=3))

    letters = await dead_letters(bus, "refused")
    assert attempts == [1]
    assert [letter.reason for letter in letters] == ["connection was deleted"]


async def test_a_malformed_message_is_dead_lettered_not_retried(bus: BrokerUnderTest) -> None:
    received, handle = recorder()
    await bus.consume(Subscription("strict", Ping, handle, retry=FAST_RETRY))
    await bus.broker.publish_envelope(Envelope(topic="test.ping", body=b'{"n": "seven"}'))

    letters = await dead_letters(bus, "strict")
    assert received == []
    assert "malformed test.ping message" in letters[0].reason


async def test_graceful_shutdown_finishes_in_flight_work(bus: BrokerUnderTest) -> None:
    started = asyncio.Event()
    finished: list[int] = []

    async def slow(message: Ping, context: MessageContext) -> None:
        started.set()
        await asyncio.sleep(0.3)
        finished.append(message.n)

    consumer = await bus.consume(Subscription("slow", Ping, slow))
    await bus.broker.publish(Ping(n=4))
    await asyncio.wait_for(started.wait(), timeout=WITHIN)

    await consumer.stop(drain_seconds=5)
    assert finished == [4], "stop() must wait for the message being handled"

    # Acknowledged, so a new consumer of the same queue does not get it again.
    again, handle = recorder()
    await bus.consume(Subscription("slow", Ping, handle))
    await asyncio.sleep(0.5)
    assert again == []


def test_topic_matching_follows_amqp_rules() -> None:
    assert topic_matches("sync.invoices", "sync.invoices")
    assert topic_matches("sync.*", "sync.invoices")
    assert not topic_matches("sync.*", "sync.invoices.now")
    assert topic_matches("sync.#", "sync")
    assert topic_matches("#.now", "sync.invoices.now")
    assert not topic_matches("sync.payments", "sync.invoices")


DYING_CONSUMER = textwrap.dedent(
    """
    import asyncio, sys
    from typing import ClassVar
    from pathlib import Path
    from dxc_shared.bus import BusMessage, Subscription
    from dxc_shared.bus.rabbitmq import RabbitMQBroker

    class Ping(BusMessage):
        topic: ClassVar[str] = "test.ping"
        n: int

    async def main() -> None:
        broker = RabbitMQBroker(sys.argv[1], sys.argv[2])
        await broker.connect()

        async def hang(message: Ping, context: object) -> None:
            Path(sys.argv[3]).write_text(str(message.n))
            await asyncio.Event().wait()

        await broker.consume(Subscription("mortal", Ping, hang))
        Path(sys.argv[3] + ".ready").write_text("ready")
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


async def test_rabbitmq_loses_nothing_when_a_consumer_dies_before_ack(
    rabbitmq_url: str, bus_namespace: str, tmp_path: Path
) -> None:
    marker = tmp_path / "received"
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", DYING_CONSUMER, rabbitmq_url, bus_namespace, str(marker)
    )
    broker = RabbitMQBroker(rabbitmq_url, bus_namespace)
    await broker.connect()
    received, handle = recorder()
    subscription = Subscription("mortal", Ping, handle)
    try:
        # The worker declares and binds the queue; publish once it says it is consuming.
        await eventually(lambda: Path(f"{marker}.ready").exists())
        await broker.publish(Ping(n=99))
        await eventually(marker.exists)
        assert marker.read_text() == "99"
        worker.send_signal(signal.SIGKILL)
        await asyncio.wait_for(worker.wait(), timeout=WITHIN)

        await broker.consume(subscription)
        await eventually(lambda: len(received) == 1)
        assert received[0][0] == Ping(n=99)
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
        await broker.close()
        await delete_topology(rabbitmq_url, broker, [subscription])
