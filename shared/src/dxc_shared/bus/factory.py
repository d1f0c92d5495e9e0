from __future__ import annotations

from dxc_shared.bus.contract import Broker
from dxc_shared.bus.memory import InMemoryBroker
from dxc_shared.bus.rabbitmq import RabbitMQBroker


def create_broker(url: str, namespace: str) -> Broker:
    """`memory://` gives the in-process broker; `amqp://` or `amqps://` gives RabbitMQ."""
    if url.startswith("memory://"):
        return InMemoryBroker()
    if url.startswith(("amqp://", "amqps://")):
        return RabbitMQBroker(url, namespace)
    raise ValueError(f"unsupported broker URL scheme in {url.split('://')[0]!r}")
