"""What test runs killed before their teardown (a Ctrl-C, a CI timeout, an OOM kill) left on the
shared PostgreSQL and RabbitMQ: every run names its databases, roles, queues and exchanges with
its start time (`run_id`), so the next run removes what is older than any run lasts, and never
touches what a run still going may use."""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import aio_pika
import asyncpg

# No test run lasts this long: older names belong to runs that are over.
STALE_AFTER = timedelta(hours=12)
_STAMP = "%Y%m%d%H%M"
_STAMPED = re.compile(r"t(\d{12})_[0-9a-f]{6}")


def run_id(now: datetime) -> str:
    """A test run's id: its start (UTC, to the minute) and six random hex digits."""
    return f"t{now.astimezone(UTC):{_STAMP}}_{uuid.uuid4().hex[:6]}"


def stale(names: Iterable[str], prefix: str, now: datetime) -> list[str]:
    """The names that `prefix` followed by a run id starts, of runs begun over `STALE_AFTER`
    before `now` (names of other shapes are not a test run's: left alone)."""
    found = []
    for name in names:
        if not name.startswith(prefix):
            continue
        stamped = _STAMPED.match(name, len(prefix))
        if stamped is None:
            continue
        started = datetime.strptime(stamped.group(1), _STAMP).replace(tzinfo=UTC)
        if now - started > STALE_AFTER:
            found.append(name)
    return found


async def remove_stale_databases(admin_dsn: str, database_prefix: str, role_prefix: str) -> None:
    now = datetime.now(UTC)
    admin = await asyncpg.connect(admin_dsn)
    try:
        databases = [r["datname"] for r in await admin.fetch("SELECT datname FROM pg_database")]
        for name in stale(databases, database_prefix, now):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        roles = [r["rolname"] for r in await admin.fetch("SELECT rolname FROM pg_roles")]
        for name in stale(roles, role_prefix, now):
            await admin.execute(f'DROP ROLE IF EXISTS "{name}"')
    finally:
        await admin.close()


def remove_stale_bus_names(url: str, prefix: str, listed: list[str]) -> None:
    """Delete the stale queues and exchanges among `listed` ("queue NAME" / "exchange NAME",
    as `rabbitmq.names_left` gives them), from a thread of its own (a fixture may run inside
    the tests' event loop)."""
    now = datetime.now(UTC)
    kinds = {name: kind for kind, name in (entry.split(" ", 1) for entry in listed)}
    doomed = stale(kinds, prefix, now)
    if not doomed:
        return

    async def delete() -> None:
        connection = await aio_pika.connect(url)
        async with connection:
            channel = await connection.channel()
            for name in doomed:
                if kinds[name] == "queue":
                    await channel.queue_delete(name)
                else:
                    await channel.exchange_delete(name)

    worker = threading.Thread(target=asyncio.run, args=(delete(),))
    worker.start()
    worker.join()
