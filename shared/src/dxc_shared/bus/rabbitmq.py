"""RabbitMQ through aio-pika.

Topology for a namespace `ns` and a subscription queue `q`:
- `ns.events`: durable topic exchange every message is published to, with publisher confirms;
- `ns.q`: quorum queue bound to the message type's topic, consumed with manual acks. Its
  `x-delivery-limit` dead-letters a message that keeps killing its consumer (a crash, not an
  exception, so our own retry path never sees it);
- `ns.q.retry.<ms>`: one classic queue per back-off delay; a retried message waits there for its
  TTL, then RabbitMQ dead-letters it back into `ns.q`. One queue per delay, because a queue only
  expires messages from its head and mixed delays would hold short ones behind long ones;
- `ns.q.dlq`: the dead-letter queue, fed by our handler outcome and by the delivery limit
  (through the `ns.dead-letter` exchange, at-least-once).
A retry or dead letter is published (and confirmed) before the original is acknowledged, so a
crash between the two duplicates a message rather than losing it; handlers are idempotent.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)

from dxc_shared.bus.contract import (
    Ack,
    Broker,
    Consumer,
    DeadLetter,
    DeadLetteredMessage,
    Envelope,
    M,
    Retry,
    Subscription,
    handle_delivery,
)
from dxc_shared.logging import get_logger

logger = get_logger(__name__)

ATTEMPT_HEADER = "x-dxc-attempt"
TOPIC_HEADER = "x-dxc-topic"
PUBLISHED_AT_HEADER = "x-dxc-published-at"
REASON_HEADER = "x-dxc-dead-letter-reason"
_TRANSPORT_HEADERS = {ATTEMPT_HEADER, TOPIC_HEADER, PUBLISHED_AT_HEADER, REASON_HEADER}


def to_amqp(envelope: Envelope, **extra_headers: str) -> aio_pika.Message:
    headers: dict[str, Any] = {
        **envelope.headers,
        ATTEMPT_HEADER: envelope.attempt,
        TOPIC_HEADER: envelope.topic,
        PUBLISHED_AT_HEADER: envelope.published_at,
        **extra_headers,
    }
    return aio_pika.Message(
        body=envelope.body,
        headers=headers,
        message_id=envelope.message_id,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


def from_amqp(message: AbstractIncomingMessage) -> Envelope:
    raw = dict(message.headers or {})
    return Envelope(
        topic=str(raw.get(TOPIC_HEADER) or message.routing_key or ""),
        body=message.body,
        headers={k: _text(v) for k, v in raw.items() if k not in _TRANSPORT_HEADERS and v},
        message_id=message.message_id or "",
        published_at=_text(raw.get(PUBLISHED_AT_HEADER, "")),
        attempt=int(str(raw.get(ATTEMPT_HEADER, 1))),
    )


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RabbitMQBroker(Broker):
    def __init__(self, url: str, namespace: str, *, delivery_limit: int = 20) -> None:
        self._url = url
        self.namespace = namespace
        self.exchange_name = f"{namespace}.events"
        self.dead_letter_exchange_name = f"{namespace}.dead-letter"
        self._delivery_limit = delivery_limit
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None

    def queue_name(self, queue: str) -> str:
        return f"{self.namespace}.{queue}"

    async def connect(self) -> None:
        self._connection = await aio_pika.connect_robust(self._url)
        self._publish_channel = await self._connection.channel(publisher_confirms=True)
        await self._publish_channel.declare_exchange(
            self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        await self._publish_channel.declare_exchange(
            self.dead_letter_exchange_name, aio_pika.ExchangeType.DIRECT, durable=True
        )

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    def _require_connection(self) -> AbstractRobustConnection:
        if self._connection is None or self._connection.is_closed:
            raise ConnectionError("not connected to RabbitMQ")
        return self._connection

    async def ping(self) -> None:
        self._require_connection()
        assert self._publish_channel is not None
        # A passive declare is a round trip that fails if the broker or the channel is gone.
        await self._publish_channel.declare_exchange(self.exchange_name, passive=True)

    async def _send(self, envelope: Envelope) -> None:
        self._require_connection()
        assert self._publish_channel is not None
        exchange = await self._publish_channel.get_exchange(self.exchange_name, ensure=False)
        await exchange.publish(to_amqp(envelope), routing_key=envelope.topic)

    async def consume(self, subscription: Subscription[M]) -> Consumer:
        connection = self._require_connection()
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=subscription.concurrency)
        name = self.queue_name(subscription.queue)
        queue = await channel.declare_queue(
            name,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": self._delivery_limit,
                "x-dead-letter-exchange": self.dead_letter_exchange_name,
                "x-dead-letter-routing-key": name,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )
        await queue.bind(self.exchange_name, routing_key=subscription.message_type.topic)
        dead_letters = await channel.declare_queue(
            f"{name}.dlq", durable=True, arguments={"x-queue-type": "quorum"}
        )
        await dead_letters.bind(self.dead_letter_exchange_name, routing_key=name)
        retry_queues: dict[float, str] = {}
        for delay in subscription.retry.distinct_delays:
            retry_name = f"{name}.retry.{round(delay * 1000)}ms"
            await channel.declare_queue(
                retry_name,
                durable=True,
                arguments={
                    "x-message-ttl": round(delay * 1000),
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": name,
                },
            )
            retry_queues[delay] = retry_name
        consumer = _RabbitMQConsumer(channel, queue, subscription, retry_queues, f"{name}.dlq")
        await consumer.start()
        return consumer

    async def take_dead_letters(self, queue: str, limit: int = 100) -> list[DeadLetteredMessage]:
        connection = self._require_connection()
        name = self.queue_name(queue)
        taken: list[DeadLetteredMessage] = []
        async with connection.channel() as channel:
            dlq = await channel.declare_queue(f"{name}.dlq", passive=True)
            while len(taken) < limit:
                message = await dlq.get(no_ack=False, fail=False)
                if message is None:
                    break
                reason = _text((message.headers or {}).get(REASON_HEADER, ""))
                if not reason and message.headers and message.headers.get("x-last-death-reason"):
                    reason = f"RabbitMQ: {_text(message.headers['x-last-death-reason'])}"
                taken.append(DeadLetteredMessage(from_amqp(message), queue, reason))
                await message.ack()
        return taken


class _RabbitMQConsumer(Consumer):
    def __init__(
        self,
        channel: AbstractChannel,
        queue: AbstractQueue,
        subscription: Subscription[M],
        retry_queues: dict[float, str],
        dead_letter_queue: str,
    ) -> None:
        self._channel = channel
        self._queue = queue
        self._subscription = subscription
        self._retry_queues = retry_queues
        self._dead_letter_queue = dead_letter_queue
        self._in_flight: set[asyncio.Task[Any]] = set()
        self._consumer_tag: str | None = None
        self._stopping = False

    async def start(self) -> None:
        self._consumer_tag = await self._queue.consume(self._on_message, no_ack=False)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        if self._stopping:
            # Delivered around or even after the cancel (RabbitMQ may still deliver to a
            # cancelled quorum-queue consumer that holds unacknowledged messages). Leave it
            # unacknowledged: closing the channel returns it to the queue. (A nack would have
            # it redelivered here at once, again and again.)
            return
        task = asyncio.current_task()
        assert task is not None
        self._in_flight.add(task)
        try:
            envelope = from_amqp(message)
            outcome = await handle_delivery(self._subscription, envelope)
            match outcome:
                case Ack():
                    pass
                case Retry(delay=delay):
                    await self._channel.default_exchange.publish(
                        to_amqp(envelope.next_attempt()), routing_key=self._retry_queues[delay]
                    )
                case DeadLetter(reason=reason):
                    await self._channel.default_exchange.publish(
                        to_amqp(envelope, **{REASON_HEADER: reason}),
                        routing_key=self._dead_letter_queue,
                    )
            await message.ack()
        finally:
            self._in_flight.discard(task)

    async def stop(self, drain_seconds: float) -> None:
        self._stopping = True
        if self._consumer_tag is not None and not self._channel.is_closed:
            await self._queue.cancel(self._consumer_tag)
            self._consumer_tag = None
            # A quorum queue still counts a cancelled consumer until its unacknowledged
            # messages are settled, but delivers it nothing more: this line is the moment.
            logger.info(
                "bus.consumer_cancelled",
                queue=self._subscription.queue,
                in_flight=len(self._in_flight),
            )
        if self._in_flight:
            _done, unfinished = await asyncio.wait(set(self._in_flight), timeout=drain_seconds)
            for task in unfinished:
                task.cancel()
        # Closing the channel returns any unfinished delivery to the queue for redelivery.
        await self._channel.close()
