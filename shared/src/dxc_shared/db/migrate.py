"""Run the Alembic history: the only way the schema changes, in production and in tests.

`dxc-migrate upgrade` is what the migration job runs. Async callers (the embedded launcher,
tests) use `upgrade(url)`, which hands Alembic a live connection instead of letting env.py start
an event loop of its own.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import Connection

from dxc_shared.db.database import create_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    await _run(url, lambda config: command.upgrade(config, revision))


async def downgrade(url: str, revision: str) -> None:
    await _run(url, lambda config: command.downgrade(config, revision))


async def _run(url: str, operation: Callable[[Config], None]) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:

            def run(sync_connection: Connection) -> None:
                config = alembic_config(url)
                config.attributes["connection"] = sync_connection
                operation(config)

            await connection.run_sync(run)
    finally:
        await engine.dispose()


class MigrateSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DXC_MIGRATE_")

    database_url: str = Field(description="SQLAlchemy async URL of the database to migrate")


def main() -> None:
    parser = argparse.ArgumentParser(description="Apply dx-connector's database migrations")
    parser.add_argument("action", choices=["upgrade", "downgrade"], nargs="?", default="upgrade")
    parser.add_argument("revision", nargs="?", default="head")
    parser.add_argument("--database-url", help="defaults to $DXC_MIGRATE_DATABASE_URL")
    args = parser.parse_args()
    url = args.database_url or MigrateSettings().database_url
    if args.action == "upgrade":
        asyncio.run(upgrade(url, args.revision))
    else:
        asyncio.run(downgrade(url, args.revision))
