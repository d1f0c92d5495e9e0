"""Fixtures for real infrastructure: a fresh PostgreSQL database and a unique RabbitMQ namespace
per test run, so concurrent runs on one machine never see each other's data or queues."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from dxc_shared.db.migrate import upgrade

from tests.support.dynamics_sandbox import RunningDynamicsSandbox, running_dynamics_sandbox
from tests.support.leftovers import remove_stale_bus_names, remove_stale_databases, run_id
from tests.support.rabbitmq import names_left
from tests.support.xero_sandbox import XeroSandbox, running_xero_sandbox

POSTGRES_ADMIN_DSN = os.environ.get(
    "DXC_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"
)
RABBITMQ_URL = os.environ.get("DXC_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
RUN_ID = run_id(datetime.now(UTC))
# What this run put on the shared servers is named with these prefixes; the run fails if
# anything so named is left at its end, and removes what runs killed long ago left.
DATABASE_PREFIX = f"dxc_test_{RUN_ID}"
ROLE_PREFIX = f"dxc_grafana_{RUN_ID}"
BUS_PREFIX = f"dxc-test-{RUN_ID}-"
_servers_used: set[str] = set()


def _asyncpg_dsn_for(database: str) -> str:
    return POSTGRES_ADMIN_DSN.rsplit("/", 1)[0] + f"/{database}"


@pytest.fixture(scope="session")
async def postgres_database() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for this run; its SQLAlchemy URL."""
    name = DATABASE_PREFIX
    _servers_used.add("postgresql")
    await remove_stale_databases(POSTGRES_ADMIN_DSN, "dxc_test_", "dxc_grafana_")
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield _asyncpg_dsn_for(name).replace("postgresql://", "postgresql+asyncpg://", 1)
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def migrated_postgres(postgres_database: str) -> str:
    await upgrade(postgres_database)
    return postgres_database


@pytest.fixture
async def migrated_sqlite(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
    await upgrade(url)
    return url


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    _servers_used.add("rabbitmq")
    listed = names_left("dxc-test-")
    if listed:
        remove_stale_bus_names(RABBITMQ_URL, "dxc-test-", listed)
    return RABBITMQ_URL


def new_bus_namespace() -> str:
    """An exchange and queue prefix of this run's, unique to its caller."""
    return f"{BUS_PREFIX}{uuid.uuid4().hex[:8]}"


@pytest.fixture
def bus_namespace() -> str:
    """Exchange and queue prefix unique to one test."""
    return new_bus_namespace()


@pytest.fixture(scope="module")
def dynamics() -> Iterator[RunningDynamicsSandbox]:
    """The Dynamics sandbox over real HTTP, one per test module (a module may override it)."""
    with running_dynamics_sandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def xero() -> Iterator[XeroSandbox]:
    """The Xero sandbox over real HTTP, one per test module (a module may override it)."""
    with running_xero_sandbox() as sandbox:
        yield sandbox


async def _databases_left() -> list[str]:
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        names = await admin.fetch(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", DATABASE_PREFIX
        )
    finally:
        await admin.close()
    return [f"database {row['datname']}" for row in names]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if it left a database, queue or exchange of its own behind (leftovers pile
    up run after run; a broker has wedged under them before)."""
    say = session.config.get_terminal_writer().line
    left: list[str] = []
    if "postgresql" in _servers_used:
        left += asyncio.run(_databases_left())
    if "rabbitmq" in _servers_used:
        on_the_bus = names_left(BUS_PREFIX)
        if on_the_bus is None:
            say("")
            say(f"Not checked that the run left no queue or exchange: {BUS_PREFIX}* cannot be")
            say("listed here (rabbitmqctl is missing or not allowed).")
        else:
            left += on_the_bus
    if left:
        say("")
        say(f"The run left {len(left)} things of its own behind:", red=True)
        for name in left:
            say(f"  {name}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
