"""The demo's `dxc hand-over` answers in words: an invoice that cannot be handed over is named
with the reason, nothing is changed, and the command prints one line (no traceback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from dxc.demo import HandOverError, hand_over_in
from dxc_shared.clients.dataverse import DataverseClient

from tests.support.http_server import free_port

ORG_URL = "https://demo.crm.example"
INVOICES = [
    {
        "invoiceid": "11111111-0000-0000-0000-000000000001",
        "invoicenumber": "INV-1001",
        "statecode": 0,
    },
    {
        "invoiceid": "11111111-0000-0000-0000-000000000005",
        "invoicenumber": "INV-1005",
        "statecode": 2,
    },
]


def _dataverse(changed: list[str]) -> tuple[httpx.AsyncClient, DataverseClient]:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            changed.append(request.url.path)
            return httpx.Response(204)
        wanted = request.url.params["$filter"]
        return httpx.Response(
            200, json={"value": [row for row in INVOICES if row["invoicenumber"] in wanted]}
        )

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))

    async def token() -> str:
        return "demo-user-token"

    return http, DataverseClient(http, org_url=ORG_URL, access_token=token)


async def test_a_paid_invoice_is_refused_in_words_and_nothing_changes() -> None:
    changed: list[str] = []
    http, dataverse = _dataverse(changed)
    async with http:
        with pytest.raises(HandOverError) as refused:
            await hand_over_in(dataverse, "connector-1", ["INV-1001", "INV-1005"], org="demo")
        handed = await hand_over_in(dataverse, "connector-1", ["INV-1001"], org="demo")

    assert str(refused.value) == (
        "INV-1005 cannot be handed over: it is paid in Dynamics, and only an active invoice "
        "still has something to send to Xero"
    )
    assert handed == ["11111111-0000-0000-0000-000000000001"]
    assert changed == ["/api/data/v9.2/invoices(11111111-0000-0000-0000-000000000001)"]


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
