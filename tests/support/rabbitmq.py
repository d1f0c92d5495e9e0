"""Remove what a test declared on the shared RabbitMQ, so runs leave no queues behind."""

from __future__ import annotations

from collections.abc import Iterable

import aio_pika
from dxc_shared.bus import Subscription
from dxc_shared.bus.rabbitmq import RabbitMQBroker


async def delete_topology(
    url: str,
    broker: RabbitMQBroker,
    subscriptions: Iterable[Subscription[object]],  # type: ignore[type-var]
) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for subscription in subscriptions:
            name = broker.queue_name(subscription.queue)
            names = [name, f"{name}.dlq"] + [
                f"{name}.retry.{round(delay * 1000)}ms"
                for delay in subscription.retry.distinct_delays
            ]
            for queue in names:
                await channel.queue_delete(queue)
    await delete_namespace_exchanges(url, broker.namespace)


async def delete_namespace_exchanges(url: str, namespace: str) -> None:
    """Delete the two exchanges a broker declares for `namespace`."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for exchange in (f"{namespace}.events", f"{namespace}.dead-letter"):
            await channel.exchange_delete(exchange)
