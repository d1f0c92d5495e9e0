"""The Dataverse client against the Dynamics sandbox over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from dxc_shared.clients.dataverse import (
    LOOKUP_CHUNK,
    BatchOperation,
    DataverseClient,
    DataverseError,
    DataverseThrottled,
    DataverseUnavailable,
)
from dynamics_sandbox.app import create_app
from dynamics_sandbox.settings import DynamicsSandboxSettings

from tests.support.dynamics_sandbox import RunningDynamicsSandbox, demo_user_dataverse
from tests.support.http_server import serve_in_thread

# A real organisation answers at most 5,000 rows a page whatever the client prefers; this
# sandbox answers three, so every read path of the workers meets more rows than one page.
SMALL_PAGE = 3


@pytest.fixture
def waits() -> list[float]:
    """The waits the client asked for instead of sleeping them."""
    return []


@pytest.fixture
async def client(
    dynamics: RunningDynamicsSandbox, waits: list[float]
) -> AsyncIterator[DataverseClient]:
    async def record_wait(seconds: float) -> None:
        waits.append(seconds)

    async with demo_user_dataverse(dynamics, http_timeout=10, sleep=record_wait) as client:
        yield client
    await asyncio.to_thread(dynamics.admin, "DELETE", "faults")


@pytest.fixture(scope="module")
def small_pages_sandbox() -> Iterator[RunningDynamicsSandbox]:
    settings = DynamicsSandboxSettings(
        token_signing_key="test-signing-key-of-32-bytes-at-least", max_page_size=SMALL_PAGE
    )
    with serve_in_thread(create_app(settings)) as base_url:
        yield RunningDynamicsSandbox(base_url, settings)


@pytest.fixture
async def small_pages(
    small_pages_sandbox: RunningDynamicsSandbox,
) -> AsyncIterator[DataverseClient]:
    async with demo_user_dataverse(small_pages_sandbox, http_timeout=10) as client:
        yield client


async def test_query_follows_pages_and_expands(client: DataverseClient) -> None:
    invoices = await client.query(
        "invoices",
        select=["name", "invoicenumber"],
        expand="invoice_details($select=quantity,priceperunit,isproductoverridden)",
        page_size=3,
    )
    assert len(invoices) == 8, "the demo org has eight invoices, over three pages of three"
    assert all("invoice_details" in invoice for invoice in invoices)
    assert any(invoice["invoice_details"] for invoice in invoices)


async def test_create_update_and_a_clear_error(client: DataverseClient) -> None:
    account_id = await client.create("accounts", {"name": "Client test Ltd"})
    await client.update("accounts", account_id, {"telephone1": "+64 9 555 0100"})
    [account] = await client.query(
        "accounts", select=["name", "telephone1"], filter=f"accountid eq {account_id}"
    )
    assert account["telephone1"] == "+64 9 555 0100"

    with pytest.raises(DataverseError) as refused:
        await client.update("accounts", "00000000-0000-0000-0000-000000000001", {"name": "x"})
    assert refused.value.status == 404


async def test_batch_change_sets_commit_or_fail_alone(client: DataverseClient) -> None:
    good = [
        BatchOperation("POST", "accounts", {"name": "Batch A"}),
        BatchOperation("POST", "accounts", {"name": "Batch B"}),
    ]
    bad = [
        BatchOperation("POST", "accounts", {"name": "Batch C"}),
        BatchOperation(
            "PATCH",
            "accounts(00000000-0000-0000-0000-000000000002)",
            {"name": "x"},
            headers={"If-Match": "*"},
        ),
    ]
    results = await client.batch([good, bad, good[:1]])

    assert [[r.ok for r in change_set] for change_set in results] == [
        [True, True],
        [False, False],
        [True],
    ]
    names = {a["name"] for a in await client.query("accounts", select=["name"])}
    assert {"Batch A", "Batch B"} <= names
    assert "Batch C" not in names, "a failed change set rolls back as a whole"
    assert results[1][0].status == 404


async def test_throttling_is_waited_out_or_raised(
    client: DataverseClient, dynamics: RunningDynamicsSandbox, waits: list[float]
) -> None:
    fault = {"kind": "throttle", "path": "*accounts*", "retry_after": 2, "count": 1}
    await asyncio.to_thread(dynamics.admin, "POST", "faults", json=fault)
    assert await client.query("accounts", select=["name"], top=1)
    assert waits == [2.0]

    long_fault = {"kind": "throttle", "path": "*accounts*", "retry_after": 300, "count": 1}
    await asyncio.to_thread(dynamics.admin, "POST", "faults", json=long_fault)
    with pytest.raises(DataverseThrottled):
        await client.query("accounts", select=["name"], top=1)

    outage = {"kind": "error", "path": "*accounts*", "status": 503, "count": 1}
    await asyncio.to_thread(dynamics.admin, "POST", "faults", json=outage)
    with pytest.raises(DataverseUnavailable):
        await client.query("accounts", select=["name"], top=1)


async def test_changes_report_new_changed_and_deleted_rows(client: DataverseClient) -> None:
    everything = await client.changes("accounts", select=["name"], delta_link=None)
    assert everything.rows
    assert everything.deleted_ids == []
    assert everything.delta_link is not None

    created = await client.create("accounts", {"name": "Tracked Ltd"})
    doomed = await client.create("accounts", {"name": "Doomed Ltd"})
    await client.request("DELETE", f"accounts({doomed})", operation="delete_account")
    since = await client.changes("accounts", select=["name"], delta_link=everything.delta_link)

    assert [row["accountid"] for row in since.rows] == [created]
    assert since.deleted_ids == [doomed]
    quiet = await client.changes("accounts", select=["name"], delta_link=since.delta_link)
    assert (quiet.rows, quiet.deleted_ids) == ([], [])


async def test_an_expired_delta_link_restarts_with_a_full_read(
    client: DataverseClient, dynamics: RunningDynamicsSandbox
) -> None:
    everything = await client.changes("accounts", select=["name"], delta_link=None)
    assert not everything.restarted
    # Retention 0 days: the link expires as soon as its second has passed.
    retention = "orgs/demo/change-tracking"
    await asyncio.to_thread(dynamics.admin, "PUT", retention, json={"expire_in_days": 0})
    try:
        await asyncio.sleep(1.1)
        again = await client.changes("accounts", select=["name"], delta_link=everything.delta_link)
    finally:
        await asyncio.to_thread(dynamics.admin, "PUT", retention, json={"expire_in_days": 7})
    assert again.restarted
    assert {r["accountid"] for r in again.rows} == {r["accountid"] for r in everything.rows}
    assert again.delta_link is not None
    assert again.delta_link != everything.delta_link


async def test_rows_where_in_reads_many_values_in_chunks(client: DataverseClient) -> None:
    names = [f"Bulk {number:03d} Ltd" for number in range(LOOKUP_CHUNK + 5)]
    created = await client.batch(
        [[BatchOperation("POST", "accounts", {"name": name})] for name in names]
    )
    assert all(result.ok for [result] in created)
    calls = client.calls

    by_name = await client.rows_where_in(
        "accounts", "name", [*names, "", names[0], "No such Ltd"], select=["name"]
    )

    assert sorted(row["name"] for row in by_name) == names
    assert client.calls - calls == 2, "55 distinct values are asked in two queries of <= 50"
    ids = [str(row["accountid"]) for row in by_name[:3]]
    by_id = await client.rows_where_in(
        "accounts", "accountid", [i.upper() for i in ids], select=["name"], guid=True
    )
    assert sorted(str(row["accountid"]) for row in by_id) == sorted(ids)


async def test_patch_with_the_etag_read_writes_only_an_unchanged_row(
    client: DataverseClient,
) -> None:
    account_id = await client.create("accounts", {"name": "ETag Ltd"})
    [read] = await client.query("accounts", select=["name"], filter=f"accountid eq {account_id}")
    etag = str(read["@odata.etag"])
    await client.update("accounts", account_id, {"name": "ETag Ltd (renamed)"}, if_match=etag)

    [[stale]] = await client.batch(
        [[BatchOperation.patch("accounts", account_id, {"name": "lost"}, if_match=etag)]]
    )
    [[deleted]] = await client.batch(
        [[BatchOperation.patch("accounts", "00000000-0000-0000-0000-000000000003", {"name": "x"})]]
    )

    assert (stale.status, deleted.status) == (412, 404)
    [now] = await client.query("accounts", select=["name"], filter=f"accountid eq {account_id}")
    assert now["name"] == "ETag Ltd (renamed)"


def _ids(rows: list[dict[str, object]], key: str) -> list[str]:
    return sorted(str(row[key]) for row in rows)


async def test_every_read_path_follows_next_links_past_the_page_size(
    small_pages: DataverseClient,
) -> None:
    calls = small_pages.calls
    invoices = await small_pages.query("invoices", select=["invoicenumber"])
    assert len(set(_ids(invoices, "invoiceid"))) == 8, "eight demo invoices, every one once"
    assert small_pages.calls - calls == 3, "three pages of at most three"

    numbers = [str(row["invoicenumber"]) for row in invoices]
    by_number = await small_pages.rows_where_in(
        "invoices", "invoicenumber", numbers, select=["invoicenumber"]
    )
    assert _ids(by_number, "invoiceid") == _ids(invoices, "invoiceid")

    everything = await small_pages.changes("invoices", select=["invoicenumber"], delta_link=None)
    assert _ids(everything.rows, "invoiceid") == _ids(invoices, "invoiceid")
    created = [
        await small_pages.create("accounts", {"name": f"Paged {number} Ltd"}) for number in range(5)
    ]
    tracked = await small_pages.changes("accounts", select=["name"], delta_link=None)
    await small_pages.update("accounts", created[0], {"name": "Paged 0 Ltd (renamed)"})
    for account_id in created[1:]:
        await small_pages.request("DELETE", f"accounts({account_id})", operation="delete_account")
    more = [await small_pages.create("accounts", {"name": f"Later {n} Ltd"}) for n in range(4)]
    since = await small_pages.changes("accounts", select=["name"], delta_link=tracked.delta_link)
    assert sorted(str(row["accountid"]) for row in since.rows) == sorted([created[0], *more])
    assert sorted(since.deleted_ids) == sorted(created[1:])
    assert since.delta_link is not None
