"""Remove what a test declared on the shared RabbitMQ, so runs leave no queues behind, and find
what a run left there."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from typing import Any

import aio_pika
from dxc_shared.bus import Broker, Subscription
from dxc_shared.bus.rabbitmq import RabbitMQBroker


async def delete_topology(
    url: str,
    broker: Broker,
    subscriptions: Iterable[Subscription[Any]],
) -> None:
    # Services hold their broker as the abstract Broker; only a RabbitMQ one declares topology.
    assert isinstance(broker, RabbitMQBroker)
    await delete_queues(url, broker.namespace, subscriptions)
    await delete_namespace_exchanges(url, broker.namespace)


async def delete_queues(
    url: str,
    namespace: str,
    subscriptions: Iterable[Subscription[Any]],
) -> None:
    """Delete the queues a broker declares in `namespace` to consume `subscriptions`: each one's
    queue, dead-letter queue and retry queues. Call it once the consumers are stopped: a running
    consumer whose queue is deleted declares it again."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for subscription in subscriptions:
            name = f"{namespace}.{subscription.queue}"
            names = [name, f"{name}.dlq"] + [
                f"{name}.retry.{round(delay * 1000)}ms"
                for delay in subscription.retry.distinct_delays
            ]
            for queue in names:
                await channel.queue_delete(queue)


async def delete_namespace_exchanges(url: str, namespace: str) -> None:
    """Delete the two exchanges a broker declares for `namespace`."""
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for exchange in (f"{namespace}.events", f"{namespace}.dead-letter"):
            await channel.exchange_delete(exchange)


def names_left(prefix: str) -> list[str] | None:
    """The queues and exchanges on the local RabbitMQ whose names start with `prefix`, or None
    when they cannot be listed here (no `rabbitmqctl`, or not allowed to run it)."""
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        return None
    found: list[str] = []
    for kind in ("queue", "exchange"):
        listed = subprocess.run(
            [rabbitmqctl, "-q", f"list_{kind}s", "name", "--no-table-headers"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if listed.returncode != 0:
            return None
        found += [f"{kind} {name}" for name in listed.stdout.split() if name.startswith(prefix)]
    return found
