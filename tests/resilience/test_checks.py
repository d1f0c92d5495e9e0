"""The resilience run's checks find what they are meant to find: a second copy of an invoice in
Xero, an invoice that never got there, a Dynamics invoice naming the wrong Xero number, and a
job left on a queue with nobody to take it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from dxc_shared.messages import SyncInvoicesJob

import bench.provision
import bench.stack
from bench.provision import Provisioner, provision_all
from bench.resilience import check, wait_until_settled
from bench.stack import Stack, StackOptions
from tests.conftest import POSTGRES_ADMIN_DSN, RABBITMQ_URL
from tests.support.polling import eventually_async


@pytest.mark.integration
@pytest.mark.timeout(180)
async def test_the_checks_report_duplicates_losses_wrong_numbers_and_stuck_jobs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bench.stack, "POSTGRES_ADMIN_DSN", POSTGRES_ADMIN_DSN)
    monkeypatch.setattr(bench.stack, "AMQP_URL", RABBITMQ_URL)
    monkeypatch.setattr(bench.provision, "AMQP_URL", RABBITMQ_URL)
    options = StackOptions(invoice_workers=1, payment_workers=1, latency_ms=0, log_level="WARNING")
    async with (
        Stack(options) as stack,
        Provisioner(stack, sync_interval_seconds=600) as provisioner,
    ):
        [connection] = await provision_all(provisioner, 1, 4)
        await provisioner.announce(connection)
        duplicated, misnumbered, exported, lost = connection.invoices
        await provisioner.hand_over(connection, [duplicated, misnumbered, exported])
        await provisioner.sync_now(connection)
        await wait_until_settled([connection], None, 120)

        # Nobody exports from here on: a job published now stays on its queue.
        for name in ("scheduler", "invoice-sync-1"):
            await asyncio.to_thread(stack.processes[name].terminate)
        await provisioner.hand_over(connection, [lost])
        await provisioner.bus.publish(
            SyncInvoicesJob(
                job_id=uuid.uuid4(), profile=connection.profile, due_at=datetime.now(UTC)
            )
        )
        await stack.xero_admin(
            "POST",
            f"organisations/{connection.tenant_id}/invoices",
            json={
                "Invoices": [
                    {
                        "Type": "ACCREC",
                        "Contact": {"Name": "Someone else"},
                        "Reference": duplicated.number,
                        "LineItems": [
                            {
                                "Description": "A second copy",
                                "Quantity": 1,
                                "UnitAmount": 10,
                                "AccountCode": "200",
                            }
                        ],
                    }
                ]
            },
        )
        await connection.dataverse.update(
            "invoices", misnumbered.invoice_id, {"dxc_xeroinvoicenumber": "INV-WRONG"}
        )

        # RabbitMQ updates the queue depths rabbitmqctl reports every few seconds: check once
        # the job waiting on its queue shows there.
        async def job_shows_on_its_queue() -> bool:
            return any(
                d.name.endswith(".invoice-sync.jobs") for d in await stack.queue_depths() if d.total
            )

        await eventually_async(job_shows_on_its_queue)
        checks, counts = await check(stack, provisioner, [connection], None, drain_seconds=3)

    found = {c.name: c.violations for c in checks}
    name = f"connection {connection.index}"
    assert found["every invoice in Xero exactly once"] == [
        f"{name}: {duplicated.number} is in Xero 2 times",
        f"{name}: {lost.number} never reached Xero (None)",
    ]
    [wrong] = found["Dynamics export status, Xero id and number right"]
    assert wrong.startswith(f"{name}: {misnumbered.number} says INV-WRONG")
    [stuck] = found["no message stuck outside a dead-letter queue"]
    assert stuck.startswith(f"{stack.namespace}.invoice-sync.jobs: 1 ready")
    assert found["every failure has a sync history row"] == []
    assert found["no duplicate Xero contact or item"] == []
    assert counts["handed over"] == 4
