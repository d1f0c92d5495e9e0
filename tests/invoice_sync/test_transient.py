"""Transient faults: a 429 is waited out and never reaches a user; an outage is retried by the
bus with back-off, and only when the retries run out is it written on the invoices."""

from __future__ import annotations

from dxc_shared.dynamics.schema import ExportStatus, SyncOutcome

from tests.invoice_sync.conftest import World, WorldFactory


async def test_a_429_from_xero_is_waited_out_and_never_shown(world_factory: WorldFactory) -> None:
    world: World = await world_factory()
    invoice_id = await world.new_invoice("T-429")
    await world.hand_over(invoice_id)
    world.xero.admin(
        "POST",
        "faults",
        json={"kind": "throttle", "path": "*/Invoices", "retry_after": 1, "count": 2},
    )

    run = await world.sync()

    assert (run.succeeded, run.failed, run.error) == (1, 0, None)
    calls = world.xero.admin("GET", "calls", params={"path_contains": "/Invoices"}).json()
    assert [call["status"] for call in calls].count(429) == 2
    [history] = await world.history(invoice_id)
    assert history["dxc_outcome"] == SyncOutcome.SUCCESS


async def test_an_outage_is_written_on_the_invoice_only_when_the_retries_run_out(
    world_factory: WorldFactory,
) -> None:
    world: World = await world_factory(job_max_attempts=3)
    invoice_id = await world.new_invoice("T-503")
    await world.hand_over(invoice_id)
    world.xero.admin("POST", "faults", json={"kind": "error", "path": "*/Invoices", "status": 503})

    run = await world.sync()

    calls = world.xero.admin("GET", "calls", params={"path_contains": "/Invoices"}).json()
    # One per attempt: the create, then (its answer unknown) the same request re-sent with its
    # Idempotency-Key.
    assert [call["method"] for call in calls] == ["PUT", "PUT", "PUT"]
    assert run.error is not None
    assert run.error.startswith("Xero could not be reached after 3 attempts")
    assert [failure.record_number for failure in run.failures] == ["T-503"]
    assert (await world.invoice(invoice_id))["dxc_exportstatus"] == ExportStatus.FAILED
    [history] = await world.history(invoice_id)
    assert history["dxc_outcome"] == SyncOutcome.FAILED
    assert "Xero could not be reached" in history["dxc_message"]

    # Xero is back; a person sets the export status back to No.
    world.xero.admin("DELETE", "faults")
    await world.dataverse.update("invoices", invoice_id, {"dxc_exportstatus": ExportStatus.NO})
    run = await world.sync()

    assert (run.succeeded, run.failed) == (1, 0)
    assert len(world.xero_invoices()) == 1
    assert (await world.invoice(invoice_id))["dxc_exportstatus"] == ExportStatus.YES
