"""The per-connection dashboard reads portal-api's sync activity from PostgreSQL through the
read-only role of deploy/postgres/grafana-reader.sql: every query of it (and of its connection
picker) runs, as that role, against the migrated schema."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import ROLE_PREFIX
from tests.deploy.catalogue import DEPLOY

pytestmark = pytest.mark.integration

DASHBOARD = DEPLOY / "grafana" / "dashboards" / "dxc-connection.json"
GRANTS = DEPLOY / "postgres" / "grafana-reader.sql"
READER = ROLE_PREFIX


def sql_targets(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            if target["datasource"]["uid"] == "dxc-postgres":
                yield panel["title"], target["rawSql"]
    for variable in dashboard["templating"]["list"]:
        if variable.get("datasource", {}).get("uid") == "dxc-postgres":
            yield f"variable {variable['name']}", variable["query"]


def expand_grafana_macros(sql: str, connection_id: uuid.UUID) -> str:
    """What Grafana's PostgreSQL data source sends for the macros the dashboard uses."""
    sql = re.sub(
        r"\$__timeFilter\(([\w.]+)\)",
        r"\1 BETWEEN now() - interval '6 hours' AND now()",
        sql,
    )
    sql = re.sub(
        r"\$__timeGroupAlias\(([\w.]+), '1h'\)",
        r'floor(extract(epoch FROM \1) / 3600) * 3600 AS "time"',
        sql,
    )
    sql = sql.replace("$connection", str(connection_id))
    assert "$" not in sql, f"a Grafana macro this test does not expand: {sql}"
    return sql


@pytest.fixture(scope="module")
def libpq_url(migrated_postgres: str) -> str:
    return make_url(migrated_postgres).set(drivername="postgresql").render_as_string(False)


@pytest.fixture(scope="module")
async def reader(libpq_url: str) -> AsyncIterator[str]:
    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql is not installed")
    result = await asyncio.to_thread(
        subprocess.run,
        [
            psql,
            libpq_url,
            "-v",
            "ON_ERROR_STOP=1",
            "-v",
            f"reader={READER}",
            "-v",
            "password=test-only",
            "-f",
            str(GRANTS),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    yield READER
    admin = await asyncpg.connect(libpq_url)
    try:
        await admin.execute(f'DROP OWNED BY "{READER}"')
        await admin.execute(f'DROP ROLE "{READER}"')
    finally:
        await admin.close()


async def test_every_query_runs_as_the_read_only_role(libpq_url: str, reader: str) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    targets = list(sql_targets(dashboard))
    assert len(targets) >= 5
    connection = await asyncpg.connect(libpq_url, user=reader)
    try:
        for title, sql in targets:
            try:
                await connection.fetch(expand_grafana_macros(sql, uuid.uuid4()))
            except asyncpg.PostgresError as error:
                raise AssertionError(f"panel {title!r}: {error}") from error
    finally:
        await connection.close()


async def test_the_role_reads_nothing_else(libpq_url: str, reader: str) -> None:
    connection = await asyncpg.connect(libpq_url, user=reader)
    try:
        for forbidden in (
            "SELECT * FROM portal_users",
            "SELECT * FROM portal_connections",  # other columns than the granted ones
            "SELECT * FROM oauth_credentials",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.fetch(forbidden)
    finally:
        await connection.close()
