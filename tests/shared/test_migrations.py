"""The one Alembic history runs forwards and backwards on PostgreSQL and SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from dxc_shared.db.database import create_engine
from dxc_shared.db.migrate import downgrade, upgrade
from sqlalchemy import inspect
from sqlalchemy.engine import Connection


def _schema(connection: Connection) -> dict[str, object]:
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    outbox_pk_name = (
        inspector.get_pk_constraint("outbox_messages")["name"]
        if "outbox_messages" in tables
        else None
    )
    return {"tables": tables, "outbox_pk": outbox_pk_name}


async def _read_schema(url: str) -> dict[str, object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_schema)
    finally:
        await engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, postgres_database: str, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'migrations.sqlite3'}"
    return postgres_database


async def test_history_upgrades_downgrades_and_upgrades_again(database_url: str) -> None:
    await upgrade(database_url)
    schema = await _read_schema(database_url)
    assert {"alembic_version", "outbox_messages"} <= schema["tables"]  # type: ignore[operator]
    # Constraint names come from the naming convention, so later migrations can address them.
    assert schema["outbox_pk"] == "pk_outbox_messages"

    await downgrade(database_url, "base")
    assert "outbox_messages" not in (await _read_schema(database_url))["tables"]  # type: ignore[operator]

    await upgrade(database_url)
    assert "outbox_messages" in (await _read_schema(database_url))["tables"]  # type: ignore[operator]
