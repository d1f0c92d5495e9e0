"""Push from Dynamics through the whole stack (bench/stack.py: every service and both sandboxes
as processes, PostgreSQL and RabbitMQ): with the poll interval an hour long, invoices handed
over in the Dynamics sandbox after the first run reach Xero only because the sandbox posts its
webhook to portal-api, which asks the scheduler for an export at once."""

from __future__ import annotations

import pytest

from bench.distributed import settled_so_far
from bench.provision import Provisioner, provision_all
from bench.push import register_push
from bench.stack import Stack, StackOptions, sample_sum
from tests.support.polling import eventually_async

HOUR = 3600


async def _jobs_completed(stack: Stack) -> float:
    total = 0.0
    for worker in stack.invoice_workers:
        samples = await stack.metrics(worker)
        total += sample_sum(samples, "dxc_invoice_sync_jobs_total", result="completed")
    return total


@pytest.mark.integration
@pytest.mark.timeout(300)
async def test_a_handed_over_invoice_reaches_xero_without_waiting_for_the_poll() -> None:
    options = StackOptions(latency_ms=0, scheduler_tick_seconds=0.5, log_level="WARNING")
    async with (
        Stack(options) as stack,
        Provisioner(stack, sync_interval_seconds=HOUR) as provisioner,
    ):
        [connection] = await provision_all(provisioner, 1, 4)
        await provisioner.announce(connection)

        # The first run (at once, as the connection became syncable): nothing handed over yet.
        async def first_run_done() -> bool:
            return await _jobs_completed(stack) >= 1

        await eventually_async(first_run_done)
        await register_push(stack, [connection])

        await provisioner.hand_over(connection, connection.invoices)

        async def all_settled() -> bool:
            return await settled_so_far(stack) >= len(connection.invoices)

        await eventually_async(all_settled, within=120)
        reader = await provisioner.xero_reader(connection)
        in_xero = {invoice.reference for invoice in await reader.invoices()}
        assert {invoice.number for invoice in connection.invoices} <= in_xero
        portal = await stack.metrics(stack.processes["portal-api"])
        assert sample_sum(portal, "dxc_portal_push_posts_total", outcome="refused") == 0
        assert sample_sum(portal, "dxc_portal_push_posts_total", outcome="queued") >= 1
