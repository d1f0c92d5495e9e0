"""What a Dataverse webhook post says, and when pushes become a sync request: the tables."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dxc_shared.dynamics.webhook import auth_value
from portal_api.push.context import (
    PushedChange,
    coalesced_due_at,
    parse_context,
    seconds_until_next,
)

RECORD = uuid.UUID("6d3b1a52-0c1e-4a5f-9d0e-3c2b1a0f9e8d")
ORG = uuid.UUID("0a9b8c7d-6e5f-4a3b-8c1d-2e3f4a5b6c7d")
CONTEXT = {
    "BusinessUnitId": str(uuid.uuid4()),
    "CorrelationId": str(uuid.uuid4()),
    "Depth": 1,
    "InitiatingUserId": str(uuid.uuid4()),
    "InputParameters": [{"key": "Target", "value": {"LogicalName": "invoice", "Attributes": []}}],
    "MessageName": "Update",
    "Mode": 1,
    "OperationCreatedOn": "/Date(1764518400000)/",
    "OrganizationId": str(ORG),
    "PostEntityImages": [],
    "PrimaryEntityId": str(RECORD),
    "PrimaryEntityName": "invoice",
    "Stage": 40,
}


def body(**changes: object) -> bytes:
    return json.dumps(CONTEXT | changes).encode()


@pytest.mark.unit
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (body(), PushedChange("Update", "invoice", RECORD, ORG, ())),
        (body(MessageName="Delete"), PushedChange("Delete", "invoice", RECORD, ORG, ())),
        (body(PrimaryEntityName="account"), PushedChange("Update", "account", RECORD, ORG, ())),
        (
            body(PrimaryEntityId=str(RECORD).upper()),
            PushedChange("Update", "invoice", RECORD, ORG, ()),
        ),
        (body(InputParameters="x"), PushedChange("Update", "invoice", RECORD, ORG, None)),
        (body(PrimaryEntityId="not-a-guid"), None),
        (body(OrganizationId=None), None),
        (body(MessageName=7), None),
        (json.dumps({k: v for k, v in CONTEXT.items() if k != "MessageName"}).encode(), None),
        (b"[]", None),
        (b"", None),
        (b"{not json", None),
        (b"[" * 100_000, None),  # nests past the parser's recursion limit
    ],
)
def test_a_context_is_read_or_refused(raw: bytes, expected: PushedChange | None) -> None:
    assert parse_context(raw) == expected


@pytest.mark.unit
@pytest.mark.parametrize(
    ("message", "entity", "wanted"),
    [
        ("Update", "invoice", True),  # the body named no columns: ask, to be safe
        ("Delete", "invoice", True),
        ("Create", "invoice", False),  # a new invoice is not handed over yet
        ("Update", "account", False),
        ("Update", "invoicedetail", False),
    ],
)
def test_only_invoice_updates_and_deletes_ask_for_a_sync(
    message: str, entity: str, wanted: bool
) -> None:
    assert PushedChange(message, entity, RECORD, ORG).wanted is wanted


def option(value: int) -> dict[str, object]:
    return {
        "__type": "OptionSetValue:http://schemas.microsoft.com/xrm/2011/Contracts",
        "Value": value,
    }


CONNECTOR_REF = {
    "__type": "EntityReference:...",
    "Id": str(uuid.uuid4()),
    "LogicalName": "dxc_connector",
}


@pytest.mark.unit
@pytest.mark.parametrize(
    ("attributes", "wanted"),
    [
        ([{"key": "dxc_connectorid", "value": CONNECTOR_REF}], True),  # handed over
        ([{"key": "dxc_connectorid", "value": None}], False),  # taken back
        ([{"key": "dxc_exportstatus", "value": option(100000000)}], True),  # a retry: No
        ([{"key": "dxc_exportstatus", "value": None}], True),
        # The connector's own write-back: Yes or Failed, with the Xero ids.
        (
            [
                {"key": "dxc_exportstatus", "value": option(100000001)},
                {"key": "dxc_xeroinvoiceid", "value": "x"},
            ],
            False,
        ),
        ([{"key": "dxc_exportstatus", "value": option(100000002)}], False),
        ([{"key": "statecode", "value": option(3)}], True),  # cancelled
        ([{"key": "statecode", "value": option(0)}], True),  # reactivated
        ([{"key": "statecode", "value": option(2)}], False),  # paid, by payment-sync
        (
            [
                {"key": "statecode", "value": option(2)},
                {"key": "dxc_connectorid", "value": CONNECTOR_REF},
            ],
            True,
        ),
        ([{"key": "description", "value": "x"}], False),
        ([], False),
    ],
)
def test_an_update_asks_for_a_sync_only_when_it_can_give_one_work(
    attributes: list[dict[str, object]], wanted: bool
) -> None:
    target = {"key": "Target", "value": {"LogicalName": "invoice", "Attributes": attributes}}
    change = parse_context(body(InputParameters=[target]))
    assert change is not None
    assert change.wanted is wanted


@pytest.mark.unit
def test_an_update_whose_body_names_no_columns_asks_for_a_sync() -> None:
    change = parse_context(body(InputParameters=[]))
    assert change is not None
    assert change.columns is None
    assert change.wanted is True


NOW = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("pending", "last_requested", "expected"),
    [
        (None, None, NOW),  # the connection's first push goes at once
        (None, NOW - 2 * SECOND, NOW),  # so does the first after a quiet window
        (None, NOW - SECOND / 4, NOW + SECOND * 3 / 4),  # soon after one: at the window's end
        (None, NOW - SECOND, NOW),  # the window just ended
        (NOW + SECOND / 2, NOW - SECOND / 2, None),  # later posts join the pending request
        (NOW - SECOND, NOW - 2 * SECOND, None),  # due, not yet sent: sent after this change
    ],
)
def test_a_lone_push_goes_at_once_and_a_burst_waits_for_the_window(
    pending: datetime | None, last_requested: datetime | None, expected: datetime | None
) -> None:
    assert coalesced_due_at(pending, last_requested, NOW, SECOND) == expected


@pytest.mark.unit
@pytest.mark.parametrize(
    ("earliest", "seconds"),
    [
        (None, 5.0),  # nothing pending: look again after the idle time
        (NOW + SECOND / 4, 0.25),
        (NOW + timedelta(seconds=30), 5.0),
        (NOW - SECOND, 0.0),  # overdue: at once
    ],
)
def test_the_relay_sleeps_until_the_earliest_request(
    earliest: datetime | None, seconds: float
) -> None:
    assert seconds_until_next(earliest, NOW, 5.0) == seconds


@pytest.mark.unit
@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        ("abc", '<settings><setting name="x-dxc-push-secret" value="abc" /></settings>'),
        (
            'a"<&>',
            '<settings><setting name="x-dxc-push-secret" value=\'a"&lt;&amp;&gt;\' /></settings>',
        ),
    ],
)
def test_the_secret_travels_in_dataverse_s_settings_form(secret: str, expected: str) -> None:
    assert auth_value(secret) == expected
