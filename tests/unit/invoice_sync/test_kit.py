"""Idempotency keys, days and moments in time zones, the sync history row, Dynamics rows."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dxc_shared.dynamics.history import history_row
from dxc_shared.dynamics.schema import SYNC_HISTORY, ExportStatus, SyncOutcome
from invoice_sync.connector.records import Connector
from invoice_sync.invoices.dynamics import (
    exported_change_set,
    mapped_columns,
    write_back_change_sets,
)
from invoice_sync.invoices.plan_reference import LinkContact
from invoice_sync.invoices.records import Exported, Failed
from invoice_sync.invoices.rows import contact_of, invoice_of
from invoice_sync.kit.idempotency import idempotency_key
from invoice_sync.kit.time import ready_at, today
from invoice_sync.worker import run_id

from tests.unit.invoice_sync.records import CUSTOMER_ID, customer, invoice

pytestmark = pytest.mark.unit

BODY = [{"Name": "Fabrikam"}]


@pytest.mark.parametrize(
    ("pairs", "body", "same"),
    [
        (["a:1", "b:1"], BODY, True),
        (["b:1", "a:1"], BODY, True),
        (["a:2", "b:1"], BODY, False),
        (["a:1"], BODY, False),
        (["a:1", "b:1"], [{"Name": "Contoso"}], False),
        (["a:1", "b:1"], [{"Name": "Fabrikam"}, {"Name": "Fabrikam"}], False),
    ],
    ids=["same", "pairs in another order", "new version", "fewer", "other body", "longer body"],
)
def test_an_idempotency_key_is_the_same_only_for_the_same_request(
    pairs: list[str], body: list[dict[str, Any]], same: bool
) -> None:
    key = idempotency_key("invoices", pairs, body)
    assert key.startswith("dxc-invoices-")
    assert (key == idempotency_key("invoices", ["a:1", "b:1"], BODY)) is same


def test_the_kind_is_part_of_the_key() -> None:
    assert idempotency_key("items", ["a"], BODY) != idempotency_key("contacts", ["a"], BODY)


NOON_UTC = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        ("UTC", NOON_UTC, date(2026, 3, 1)),
        ("Pacific/Auckland", NOON_UTC, date(2026, 3, 2)),
        ("America/Los_Angeles", datetime(2026, 3, 1, 5, 0, tzinfo=UTC), date(2026, 2, 28)),
        ("Nowhere/Atlantis", NOON_UTC, date(2026, 3, 1)),
        ("", datetime(2026, 3, 1, 23, 30, tzinfo=UTC), date(2026, 3, 1)),
    ],
    ids=["utc", "ahead", "behind", "unknown zone", "no zone"],
)
def test_today_is_the_connections_date(zone: str, now: datetime, expected: date) -> None:
    assert today(zone, now) == expected


@pytest.mark.parametrize(
    ("delivered", "modified", "zone", "expected"),
    [
        (None, None, "UTC", None),
        (date(2026, 3, 1), None, "UTC", datetime(2026, 3, 1, tzinfo=UTC)),
        (
            date(2026, 3, 1),
            None,
            "Pacific/Auckland",
            datetime(2026, 2, 28, 11, 0, tzinfo=UTC),
        ),
        (None, datetime(2026, 3, 5, 8, tzinfo=UTC), "UTC", datetime(2026, 3, 5, 8, tzinfo=UTC)),
        (
            date(2026, 3, 1),
            datetime(2026, 3, 5, 8, tzinfo=UTC),
            "UTC",
            datetime(2026, 3, 5, 8, tzinfo=UTC),
        ),
        (
            date(2026, 3, 9),
            datetime(2026, 3, 5, 8, tzinfo=UTC),
            "Nowhere/Atlantis",
            datetime(2026, 3, 9, tzinfo=UTC),
        ),
    ],
    ids=["unknown", "delivered", "delivered in auckland", "edited", "edited later", "bad zone"],
)
def test_an_invoice_is_ready_when_delivered_and_last_edited(
    delivered: date | None, modified: datetime | None, zone: str, expected: datetime | None
) -> None:
    assert ready_at(delivered, modified, zone) == expected


@pytest.mark.parametrize(
    ("invoice_id", "linked"), [("inv-1", True), (None, False)], ids=["invoice", "deleted"]
)
def test_one_sync_history_row_for_every_outcome(invoice_id: str | None, linked: bool) -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    row = history_row(
        connector_id="conn-1",
        invoice_id=invoice_id,
        label="INV-7",
        outcome=SyncOutcome.FAILED,
        message="m" * 5000,
        occurred_on=now,
    )
    assert row[SYNC_HISTORY.primary_name.logical_name] == f"INV-7: {'m' * 193}"
    assert row["dxc_outcome"] == SyncOutcome.FAILED.value
    assert row["dxc_occurredon"] == now.isoformat()
    assert len(row["dxc_message"]) == 4000
    assert any(key.endswith("@odata.bind") and "conn-1" in value for key, value in row.items())
    assert any("invoices(inv-1)" in str(value) for value in row.values()) is linked


def test_an_invoice_row_becomes_an_invoice_with_its_lines_in_order() -> None:
    subject = invoice_of(
        {
            "invoiceid": "inv-1",
            "invoicenumber": "INV-7",
            "versionnumber": 99,
            "_customerid_value": "c-1",
            "_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "contact",
            "datedelivered": "2026-03-01",
            "modifiedon": "2026-03-02T10:00:00Z",
            "invoice_details": [
                {"invoicedetailid": "l-2", "lineitemnumber": 2, "_productid_value": "p-1"},
                {"invoicedetailid": "l-1", "lineitemnumber": 1, "description": "Labour"},
            ],
        },
        ZoneInfo("UTC"),
    )
    assert subject.version == "99"
    assert subject.customer_kind == "contact"
    assert subject.date_delivered == date(2026, 3, 1)
    assert subject.modified_on == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert [(line.id, line.written_in) for line in subject.lines] == [
        ("l-1", True),
        ("l-2", False),
    ]


@pytest.mark.parametrize(
    ("row", "name"),
    [
        ({"contactid": "c-1", "fullname": " Ann Lee "}, "Ann Lee"),
        ({"contactid": "c-1", "firstname": "Ann", "lastname": "Lee"}, "Ann Lee"),
        ({"contactid": "c-1", "lastname": "Lee"}, "Lee"),
        ({"contactid": "c-1"}, ""),
    ],
    ids=["full name", "parts", "last name", "nameless"],
)
def test_a_contact_row_is_named(row: dict[str, Any], name: str) -> None:
    assert contact_of(row).name == name


@pytest.mark.parametrize(
    ("mappings", "columns"),
    [
        ({"new_PO": "Reference", "new_po": "Reference"}, ["new_po"]),
        ({"new_po eq 1 or x": "Reference"}, []),
        ({"1abc": "Reference", "_ok": "Reference"}, ["_ok"]),
    ],
    ids=["lowered once", "odata", "must start with a letter"],
)
def test_a_mapping_template_reads_plain_columns_only(
    mappings: dict[str, str], columns: list[str]
) -> None:
    assert mapped_columns(mappings) == columns


def _operations(
    exported: list[Exported], failed: list[Failed], links: list[LinkContact], synced: bool
) -> list[list[tuple[str, str]]]:
    change_sets = write_back_change_sets(
        Connector("conn-1", None),
        exported,
        failed,
        links,
        datetime(2026, 3, 1, tzinfo=UTC),
        connector_synced=synced,
    )
    return [[(op.method, op.path) for op in change_set] for change_set in change_sets]


EXPORTED = Exported(invoice(), "x-1", "INV-9", "DRAFT", "https://x/1", 1.5, 11.5, "Exported.")


@pytest.mark.parametrize(
    ("exported", "failed", "links", "synced", "expected"),
    [
        ([], [], [], False, []),
        ([], [], [], True, [[("PATCH", "dxc_connectors(conn-1)")]]),
        (
            [EXPORTED],
            [Failed(invoice("inv-2"), "no")],
            [LinkContact(customer(), "c-9")],
            False,
            [
                [("PATCH", "invoices(inv-1)"), ("POST", "dxc_synchistories")],
                [("PATCH", "invoices(inv-2)"), ("POST", "dxc_synchistories")],
                [("PATCH", f"accounts({CUSTOMER_ID})")],
            ],
        ),
    ],
    ids=["nothing", "connector only", "exported, failed, contact"],
)
def test_a_write_back_has_a_change_set_per_outcome(
    exported: list[Exported],
    failed: list[Failed],
    links: list[LinkContact],
    synced: bool,
    expected: list[list[tuple[str, str]]],
) -> None:
    assert _operations(exported, failed, links, synced) == expected


def test_an_exported_invoice_tells_dynamics_its_xero_columns() -> None:
    [patch, history] = exported_change_set(
        Connector("conn-1", None), EXPORTED, datetime(2026, 3, 1, tzinfo=UTC)
    )
    assert patch.headers == {"If-Match": "*"}
    assert patch.body is not None
    assert patch.body["dxc_exportstatus"] == ExportStatus.YES.value
    assert patch.body["dxc_xeroinvoiceid"] == "x-1"
    assert patch.body["dxc_amountdue"] == 11.5
    assert history.body is not None
    assert history.body["dxc_outcome"] == SyncOutcome.SUCCESS.value


JOB = uuid.UUID("00000000-0000-0000-0000-00000000a001")


@pytest.mark.parametrize(
    ("attempt", "run_number", "own"),
    [(1, 0, True), (1, 1, False), (2, 0, False), (2, 1, False)],
    ids=["first run", "rerun", "retry", "retry's rerun"],
)
def test_a_run_reports_under_the_jobs_id_only_when_it_is_the_first(
    attempt: int, run_number: int, own: bool
) -> None:
    reported = run_id(JOB, attempt, run_number)
    assert (reported == JOB) is own
    assert reported == run_id(JOB, attempt, run_number)  # a report sent again keeps its id


def test_every_run_of_a_job_has_an_id_of_its_own() -> None:
    ids = {run_id(JOB, attempt, run) for attempt in (1, 2, 3) for run in (0, 1, 2)}
    assert len(ids) == 9
