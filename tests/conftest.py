"""Fixtures for real infrastructure: a fresh PostgreSQL database and a unique RabbitMQ namespace
per test run, so concurrent runs on one machine never see each other's data or queues."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from dxc_shared.db.migrate import upgrade

from tests.support.dynamics_sandbox import RunningDynamicsSandbox, running_dynamics_sandbox
from tests.support.xero_sandbox import XeroSandbox, running_xero_sandbox

POSTGRES_ADMIN_DSN = os.environ.get(
    "DXC_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"
)
RABBITMQ_URL = os.environ.get("DXC_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
RUN_ID = uuid.uuid4().hex[:10]


def _asyncpg_dsn_for(database: str) -> str:
    return POSTGRES_ADMIN_DSN.rsplit("/", 1)[0] + f"/{database}"


@pytest.fixture(scope="session")
async def postgres_database() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for this run; its SQLAlchemy URL."""
    name = f"dxc_test_{RUN_ID}"
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
    return RABBITMQ_URL


@pytest.fixture
def bus_namespace() -> Iterator[str]:
    """Exchange and queue prefix unique to one test."""
    return f"dxc-test-{RUN_ID}-{uuid.uuid4().hex[:8]}"


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
