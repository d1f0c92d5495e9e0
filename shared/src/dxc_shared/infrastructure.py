"""The adapters a service runs on: database, broker and outbox relay.

Distributed mode builds one per process from the service's settings (PostgreSQL + RabbitMQ).
The embedded mode builds one for the whole process (SQLite + the in-process broker) and hands the
same instance to every service: same code paths, different adapters.
"""

from __future__ import annotations

from dataclasses import dataclass

from dxc_shared.bus import Broker, create_broker
from dxc_shared.db import Database
from dxc_shared.outbox import OutboxRelay
from dxc_shared.settings import ServiceSettings


@dataclass
class Infrastructure:
    database: Database
    broker: Broker
    relay: OutboxRelay

    @classmethod
    def create(cls, database_url: str, broker_url: str, bus_namespace: str) -> Infrastructure:
        database = Database(database_url)
        broker = create_broker(broker_url, bus_namespace)
        return cls(database=database, broker=broker, relay=OutboxRelay(database, broker))

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Infrastructure:
        return cls.create(settings.database_url, settings.broker_url, settings.bus_namespace)

    async def start(self) -> None:
        await self.broker.connect()
        self.relay.start()

    async def stop(self) -> None:
        await self.relay.stop()
        await self.broker.close()
        await self.database.dispose()
