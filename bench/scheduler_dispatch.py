"""How long the scheduler takes to dispatch many due connections in one tick.

Fills a fresh PostgreSQL database with N due connection schedules, runs one `dispatch_due()`
(the jobs are durably in the outbox when it returns) and then times the outbox relay handing all
2N jobs to RabbitMQ. Target: 10,000 connections dispatched in at most 2 s.

    python3 -m uv run python -m bench.scheduler_dispatch [--connections 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from dxc_shared.bus import create_broker
from dxc_shared.db import Database
from dxc_shared.db.migrate import upgrade
from dxc_shared.messages import ConnectionSyncProfile
from dxc_shared.outbox import OutboxRelay
from scheduler.dispatch import Scheduler
from scheduler.models import ConnectionSchedule
from sqlalchemy import insert

from bench.report import report

POSTGRES_ADMIN_DSN = os.environ.get(
    "DXC_BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"
)
AMQP_URL = os.environ.get("DXC_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
TARGET_SECONDS = 2.0


async def _create_database(name: str) -> str:
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return (
        POSTGRES_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        + f"/{name}"
    )


async def _drop_database(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _seed(database: Database, connections: int) -> None:
    due = datetime.now(UTC) - timedelta(seconds=1)
    rows = [
        {
            "connection_id": connection_id,
            "profile": ConnectionSyncProfile(
                connection_id=connection_id, xero_tenant_id=str(uuid.uuid4())
            ).model_dump(mode="json"),
            "syncable": True,
            "next_due_at": due,
        }
        for connection_id in (uuid.uuid4() for _ in range(connections))
    ]
    async with database.unit_of_work() as session:
        for start in range(0, len(rows), 5000):
            await session.execute(insert(ConnectionSchedule), rows[start : start + 5000])


async def measure(connections: int, batch_size: int) -> None:
    run = uuid.uuid4().hex[:8]
    name = f"dxc_bench_{run}"
    database_url = await _create_database(name)
    namespace = f"dxc-bench-{run}"
    broker = create_broker(AMQP_URL, namespace)
    database = Database(database_url)
    try:
        await upgrade(database_url)
        await _seed(database, connections)
        await broker.connect()
        relay = OutboxRelay(database, broker, batch_size=500)
        scheduler = Scheduler(database, batch_size=batch_size)

        started = time.perf_counter()
        dispatched = await scheduler.dispatch_due()
        dispatch_seconds = time.perf_counter() - started
        started = time.perf_counter()
        relayed = await relay.relay_pending()
        relay_seconds = time.perf_counter() - started
    finally:
        await broker.close()
        await database.dispose()
        await _drop_database(name)

    report(
        "scheduler_dispatch",
        [
            ("due connections", connections, ""),
            ("dispatched in one tick", dispatched, ""),
            ("dispatch time (s)", dispatch_seconds, f"target <= {TARGET_SECONDS} s"),
            ("jobs relayed to RabbitMQ", relayed, "two per connection"),
            ("relay time (s)", relay_seconds, "outbox -> RabbitMQ, publisher confirms"),
        ],
        {"batch_size": batch_size, "met_target": dispatch_seconds <= TARGET_SECONDS},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500)
    arguments = parser.parse_args()
    asyncio.run(measure(arguments.connections, arguments.batch_size))


if __name__ == "__main__":
    main()
