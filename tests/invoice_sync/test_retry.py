"""Retry from the portal: a failed invoice goes back to No, with a sync history row saying who
asked where, and the next run exports it; anything else is left alone, and says so; a
redelivered request changes nothing."""

from __future__ import annotations

import uuid

from dxc_shared.bus import Envelope
from dxc_shared.dynamics.schema import ExportStatus, SyncOutcome
from dxc_shared.messages import InvoiceRetryRequested
from invoice_sync.retries.plan import RETRY_REQUESTED

from tests.invoice_sync.conftest import World, WorldFactory
from tests.support.polling import eventually


async def test_a_retried_failed_invoice_is_exported_by_the_next_run_and_only_once_said(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory()
    unknown_account = await world.xero_reference_row("dxc_xeroaccounts", code="999")
    failing = await world.new_invoice(
        "RT-1",
        lines=[
            {
                "product": "WIDGET-A",
                "quantity": 1,
                "dxc_AccountId@odata.bind": f"/dxc_xeroaccounts({unknown_account})",
            }
        ],
    )
    exported = await world.new_invoice("RT-2")
    await world.hand_over(failing, exported)
    assert (await world.sync()).failed == 1
    # The account is fixed in Dynamics, and a person presses Retry on each invoice.
    await world.dataverse.update("dxc_xeroaccounts", unknown_account, {"dxc_code": "200"})
    retry_failing = Envelope.of(retry_of(world, failing))
    await world.bus.publish_envelope(retry_failing)
    await world.bus.publish_envelope(retry_failing)  # delivered twice
    await world.bus.publish(retry_of(world, exported))
    # One queue, one consumer: the last request's run is asked for after the others are taken.
    await eventually(lambda: len(world.sync_requests) == 2)
    assert {message.connection_id for message in world.sync_requests} == {world.connection_id}
    assert (await world.invoice(failing))["dxc_exportstatus"] == ExportStatus.FAILED

    run = await world.sync()

    assert [(s.record_number, s.customer_name) for s in run.successes] == [("RT-1", "Fabrikam Ltd")]
    assert (await world.invoice(failing))["dxc_exportstatus"] == ExportStatus.YES
    assert [row["dxc_outcome"] for row in await world.history(failing)] == [
        SyncOutcome.FAILED,
        SyncOutcome.INFORMATION,
        SyncOutcome.SUCCESS,
    ]
    retried = (await world.history(failing))[1]["dxc_message"]
    assert retried.startswith(f"{RETRY_REQUESTED}: the export status is set back to No")
    untouched = (await world.history(exported))[-1]
    assert (untouched["dxc_outcome"], untouched["dxc_message"]) == (
        SyncOutcome.INFORMATION,
        f"{RETRY_REQUESTED}: nothing to do, it is already in Xero (export status Yes).",
    )
    assert (await world.invoice(exported))["dxc_exportstatus"] == ExportStatus.YES
    assert len(world.xero_invoices()) == 2

    # A copy delivered again after the run is known by its id: no run asked, nothing written.
    await world.bus.publish_envelope(retry_failing)
    await world.bus.publish(retry_of(world, exported))
    await eventually(lambda: len(world.sync_requests) == 3)
    await world.sync()
    assert len(await world.history(failing)) == 3


def retry_of(world: World, record_id: str) -> InvoiceRetryRequested:
    return InvoiceRetryRequested(
        connection_id=world.connection_id, record_id=record_id, requested_by=uuid.uuid4()
    )
