"""Run the Alembic history: the only way the schema changes, in production and in tests.

`dxc-migrate upgrade` is what the migration job runs; it says in one line where the database
stands and what it applied, and a failure in one line of words (exit status 1). Async callers
(the embedded launcher, tests) use `upgrade(url)`, which hands Alembic a live connection instead
of letting env.py start an event loop of its own.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import Connection

from dxc_shared.db.database import create_engine
from dxc_shared.settings import SettingsError, load_settings

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@dataclass(frozen=True)
class MigrationReport:
    """Where the database stood before and after, and the revisions that ran (in order)."""

    before: str | None
    after: str | None
    head: str | None
    ran: tuple[str, ...]
    direction: str

    def __str__(self) -> str:
        where = "no revision (empty)" if self.after is None else f"revision {self.after}"
        if self.after is not None and self.after == self.head:
            where += " (head)"
        done = f"{self.direction} {', '.join(self.ran)}" if self.ran else "nothing to do"
        return f"database at {where}; {done}"


async def upgrade(url: str, revision: str = "head") -> MigrationReport:
    return await _run(url, lambda config: command.upgrade(config, revision), "applied")


async def downgrade(url: str, revision: str) -> MigrationReport:
    return await _run(url, lambda config: command.downgrade(config, revision), "reverted")


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def _run(url: str, operation: Callable[[Config], None], direction: str) -> MigrationReport:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:

            def run(sync_connection: Connection) -> MigrationReport:
                config = alembic_config(url)
                config.attributes["connection"] = sync_connection
                before = _current(sync_connection)
                operation(config)
                after = _current(sync_connection)
                script = ScriptDirectory.from_config(config)
                upper, lower = (after, before) if direction == "applied" else (before, after)
                ran = [rev.revision for rev in script.iterate_revisions(upper, lower)]
                return MigrationReport(
                    before=before,
                    after=after,
                    head=script.get_current_head(),
                    ran=tuple(reversed(ran) if direction == "applied" else ran),
                    direction=direction,
                )

            return await connection.run_sync(run)
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
    try:
        url = args.database_url or load_settings(MigrateSettings).database_url
        if args.action == "upgrade":
            report = asyncio.run(upgrade(url, args.revision))
        else:
            report = asyncio.run(downgrade(url, args.revision))
    except SettingsError as error:
        raise SystemExit(f"dxc-migrate: {error}") from None
    except Exception as error:
        # One line: the error's own words (never the URL, which may hold a password).
        raise SystemExit(f"dxc-migrate: {args.action} failed: {_words(error)}") from None
    print(f"dxc-migrate: {report}")


def _words(error: BaseException) -> str:
    """The first line of what went wrong, e.g. 'OSError: Connect call failed ...'."""
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else 'no details'}"
