"""The demo's `dxc hand-over` answers in words: an invoice that cannot be handed over is named
with the reason, nothing is changed, and the command prints one line (no traceback)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from dxc.demo import HandOverError, hand_over_in
from dxc_shared.clients.dataverse import DataverseClient
from dxc_shared.dynamics import solution
from dxc_shared.dynamics.installer import install
from dxc_shared.dynamics.schema import CONNECTOR, INVOICE, INVOICE_CONNECTOR

from tests.support.dynamics_sandbox import RunningDynamicsSandbox, demo_user_dataverse
from tests.support.http_server import free_port


@pytest.fixture
async def dataverse(dynamics: RunningDynamicsSandbox) -> AsyncIterator[DataverseClient]:
    """The demo organisation of the Dynamics sandbox, with the connector installed."""
    async with demo_user_dataverse(dynamics, http_timeout=30) as client:
        await install(client)
        yield client


async def _connector_of(dataverse: DataverseClient, number: str) -> str | None:
    [row] = await dataverse.query(
        INVOICE.entity_set,
        select=[INVOICE_CONNECTOR.value_property],
        filter=f"invoicenumber eq '{number}'",
    )
    value = row.get(INVOICE_CONNECTOR.value_property)
    return str(value) if value else None


async def test_a_paid_invoice_is_refused_in_words_and_nothing_changes(
    dataverse: DataverseClient,
) -> None:
    connector_id = await dataverse.create(
        CONNECTOR.entity_set, {"dxc_name": "Xero: Demo Company (NZ)", "dxc_connectionid": "c-1"}
    )

    with pytest.raises(HandOverError) as refused:
        await hand_over_in(dataverse, connector_id, ["INV-1001", "INV-1005"], org="demo")

    assert str(refused.value) == (
        "INV-1005 cannot be handed over: it is paid in Dynamics, and only an active invoice "
        "still has something to send to Xero"
    )
    assert await _connector_of(dataverse, "INV-1001") is None  # nothing changed

    handed = await hand_over_in(dataverse, connector_id, ["INV-1001"], org="demo")

    assert len(handed) == 1
    assert await _connector_of(dataverse, "INV-1001") == connector_id


def test_the_command_answers_in_one_line_when_it_cannot_work() -> None:
    dxc = Path(sys.executable).parent / "dxc"
    result = subprocess.run(
        [str(dxc), "hand-over", "INV-1005", "--url", f"http://127.0.0.1:{free_port()}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert result.stderr.startswith("dxc hand-over: ")
    assert "is dxc dev running?" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_the_solution_command_writes_the_package_the_portal_imports(tmp_path: Path) -> None:
    dxc = Path(sys.executable).parent / "dxc"
    result = subprocess.run(
        [str(dxc), "solution", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    written = tmp_path / solution.FILE_NAME
    assert result.stdout.strip() == f"wrote {written} (version {solution.VERSION})"
    assert written.read_bytes() == solution.build().content
