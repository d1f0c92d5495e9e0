"""The resilience run in small (bench/resilience.py): two connections of thirty invoices, a
worker SIGKILLed, the AMQP connections cut, token-broker restarted, a Dataverse 503 burst, 5%
of Xero calls failing and one connection's Xero grant revoked. The program's own checks must
all pass, and it must leave no database or queue behind."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import POSTGRES_ADMIN_DSN, RABBITMQ_URL

ROOT = Path(__file__).parents[2]
CHECKS = (
    "every invoice in Xero exactly once",
    "Dynamics export status, Xero id and number right",
    "every failure has a sync history row",
    "revoked connection asks for re-authorisation",
    "no duplicate Xero contact or item",
    "no message stuck outside a dead-letter queue",
)


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_a_small_resilience_run_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    env = os.environ | {
        "DXC_BENCH_POSTGRES_DSN": POSTGRES_ADMIN_DSN,
        "DXC_BENCH_AMQP_URL": RABBITMQ_URL,
        "DXC_BENCH_RESULTS_DIR": str(tmp_path),
    }
    arguments = [
        "--connections=2",
        "--invoices=30",
        "--chaos-seconds=20",
        "--waves=2",
        "--kills=1",
        "--kill-every=4",
        "--amqp-drops=1",
        "--fault-bursts=1",  # the first burst: Dataverse answers 503 to four calls
        "--restart",
        "token-broker",
        "--seed=3",
        "--log-level=WARNING",
    ]
    finished = subprocess.run(
        [sys.executable, "-m", "bench.resilience", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    output = finished.stdout + finished.stderr
    assert finished.returncode == 0, output

    result = json.loads((tmp_path / "resilience.json").read_text())
    assert result["checks"] == {name: [] for name in CHECKS}, output
    figures = result["figures"]
    assert figures["invoices handed over"] == 60
    assert figures["workers SIGKILLed"] == 1
    assert figures["AMQP connection cuts"] == 1
    assert result["restarts"] == ["token-broker"]
    assert figures["fault bursts"] == 1
    assert result["revoked_connection"] is not None
    # The connection still authorised got all thirty into Xero.
    assert figures["in Xero"] >= 30

    assert not asyncio.run(_database_exists(result["database"]))
    queues = subprocess.run(
        ["rabbitmqctl", "list_queues", "-q", "name", "--formatter", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    names = [row["name"] for row in json.loads(queues.stdout or "[]")]
    assert not [name for name in names if name.startswith(result["namespace"] + ".")]


async def _database_exists(name: str) -> bool:
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        return bool(
            await admin.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name)
        )
    finally:
        await admin.close()
