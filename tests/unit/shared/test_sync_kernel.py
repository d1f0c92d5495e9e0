"""The sync kernel: one classification of a run's errors, and one run report."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from dxc_shared.clients.dataverse import (
    BatchResult,
    DataverseError,
    DataverseThrottled,
    DataverseUnavailable,
)
from dxc_shared.clients.token_broker import TokenBrokerClient
from dxc_shared.clients.xero_accounting import XeroRateLimited, XeroUnauthorised, XeroUnavailable
from dxc_shared.credentials import CredentialMissing, ReauthorisationNeeded
from dxc_shared.db import Database
from dxc_shared.messages import ConnectionSyncProfile, SyncFailure, SyncRunCompleted
from dxc_shared.outbox import OutboxMessage
from dxc_shared.sync import (
    TRANSIENT_ERRORS,
    RunBlocked,
    RunReport,
    VendorFactory,
    blocked_by,
    raise_if_transient,
)
from dxc_shared.xero_budget.budget import XeroBudget
from sqlalchemy.ext.asyncio import AsyncSession

pytestmark = pytest.mark.unit

CONNECTION = uuid.UUID("00000000-0000-4000-8000-00000000c0de")
JOB = uuid.UUID("00000000-0000-4000-8000-0000000000b0")


@pytest.mark.parametrize(
    ("error", "message", "reauthorise"),
    [
        pytest.param(
            ReauthorisationNeeded("xero", "The grant was revoked."),
            "The connection to Xero needs to be authorised again: The grant was revoked.",
            "xero",
            id="xero grant lost",
        ),
        pytest.param(
            ReauthorisationNeeded("dynamics", "The password changed."),
            "The connection to Dynamics 365 needs to be authorised again: The password changed.",
            "dynamics",
            id="dynamics grant lost",
        ),
        pytest.param(
            CredentialMissing(),
            "The connection is not authorised with both Xero and Dynamics 365: connect them "
            "in the portal.",
            None,
            id="no grant",
        ),
        pytest.param(
            XeroUnauthorised(403, "AuthorizationUnsuccessful"),
            "The connection to Xero needs to be authorised again: Xero refused the connector's "
            "access to the organisation (AuthorizationUnsuccessful). Reconnect Xero in the portal.",
            "xero",
            id="xero refuses",
        ),
        pytest.param(
            DataverseError(403, "0x80040220", "no prvReadInvoice"),
            "Dynamics 365 refused the connector's access (no prvReadInvoice): check the roles "
            "of the connector's user in Dynamics 365.",
            None,
            id="dynamics forbids",
        ),
        pytest.param(
            DataverseError(401, "", "token expired"),
            "Dynamics 365 refused the connector's access (token expired): check the roles of "
            "the connector's user in Dynamics 365.",
            None,
            id="dynamics unauthorised",
        ),
        pytest.param(
            DataverseError(400, "0x0", "Could not find a property named 'x'"),
            "Dynamics 365 refused a request of the connector: Could not find a property named 'x'",
            None,
            id="a request Dynamics will never take",
        ),
        pytest.param(
            RunBlocked("Finish connecting.", reauthorise="dynamics"),
            "Finish connecting.",
            "dynamics",
            id="already a RunBlocked",
        ),
    ],
)
def test_what_a_person_must_act_on_blocks_the_run(
    error: Exception, message: str, reauthorise: str | None
) -> None:
    blocked = blocked_by(error)

    assert blocked is not None
    assert (blocked.message, blocked.reauthorise) == (message, reauthorise)


@pytest.mark.parametrize(
    "error",
    [
        XeroUnavailable("timeout"),
        XeroRateLimited(120, "minute"),
        DataverseUnavailable("503"),
        DataverseThrottled(300),
        ValueError("a bug"),
        KeyError("InvoiceID"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_transient_errors_and_bugs_go_to_the_bus_retries(error: Exception) -> None:
    assert blocked_by(error) is None


def test_the_transient_errors_are_the_vendors_outages_and_limits() -> None:
    assert set(TRANSIENT_ERRORS) == {
        XeroUnavailable,
        XeroRateLimited,
        DataverseUnavailable,
        DataverseThrottled,
    }


def result(status: int) -> BatchResult:
    body = {"error": {"message": f"answered {status}"}} if status >= 400 else None
    return BatchResult(status, {}, body)


@pytest.mark.parametrize(
    ("statuses", "raised"),
    [
        ([[204, 204], [204]], None),
        ([[204], [412, 412]], None),
        ([[404], [400]], None),
        ([[204], [429]], DataverseThrottled),
        ([[500, 500]], DataverseUnavailable),
        ([[204], [503], [429]], DataverseUnavailable),
        ([], None),
    ],
)
def test_a_change_set_refused_for_the_service_not_the_record_retries_the_run(
    statuses: list[list[int]], raised: type[Exception] | None
) -> None:
    results = [[result(status) for status in change_set] for change_set in statuses]
    if raised is None:
        raise_if_transient(results)
    else:
        with pytest.raises(raised):
            raise_if_transient(results)


def test_a_run_report_counts_what_succeeded_and_what_failed() -> None:
    started = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    report = RunReport(CONNECTION, JOB, "payments", started_at=started)
    report.succeeded += 2
    report.fail("d1", "ORD-1", "Xero refused it")
    report.fail("a1", None, "Locked")

    completed = report.completed(finished_at=datetime(2026, 1, 5, 9, 1, tzinfo=UTC))

    assert (completed.succeeded, completed.failed, completed.error) == (2, 2, None)
    assert completed.failures == [
        SyncFailure(record_id="d1", record_number="ORD-1", message="Xero refused it"),
        SyncFailure(record_id="a1", record_number=None, message="Locked"),
    ]
    assert (completed.started_at, completed.direction) == (started, "payments")
    assert (completed.connection_id, completed.job_id) == (CONNECTION, JOB)


async def test_a_run_report_is_published_through_the_outbox_of_the_session() -> None:
    report = RunReport(CONNECTION, JOB, "reference-data", error="Reconnect Xero.")
    session = AsyncSession()  # no database: the row stays pending in the session
    try:
        report.publish(session)

        [row] = [obj for obj in session.new if isinstance(obj, OutboxMessage)]
    finally:
        await session.close()
    assert row.topic == SyncRunCompleted.topic
    assert row.headers["connection_id"] == str(CONNECTION)
    body = json.loads(row.body)
    assert (body["error"], body["failed"], body["job_id"]) == ("Reconnect Xero.", 0, str(JOB))


@pytest.mark.parametrize(
    ("tenant", "org_url"),
    [(None, "https://org.crm.test"), ("t1", None), (None, None)],
)
async def test_vendors_need_both_organisations_chosen(
    tenant: str | None, org_url: str | None
) -> None:
    profile = ConnectionSyncProfile(
        connection_id=CONNECTION, xero_tenant_id=tenant, dynamics_org_url=org_url
    )
    async with httpx.AsyncClient() as http:
        tokens = TokenBrokerClient("http://127.0.0.1:9", "unused", client=http)
        # Nothing reaches the budget's database: the factory refuses before any call.
        budget = XeroBudget(Database("sqlite+aiosqlite://"))
        factory = VendorFactory(tokens, http, xero_api_url="http://127.0.0.1:9", xero_budget=budget)
        with pytest.raises(RunBlocked, match="finish connecting both in the portal"):
            factory.for_connection(profile)
