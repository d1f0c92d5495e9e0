"""Exactly once under a stalled worker: a worker records a batch `pending` and stalls before its
request reaches Xero (a GC pause, CPU starvation, a long wait on a rate limit); more invoices
are handed over; a second worker takes the expired lease over. The first worker's request, if
it goes out at all, is answered from Xero's idempotency cache: nothing is created twice, nothing
is lost."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dxc_shared.clients.xero_accounting import ElementResult, XeroAccountingClient
from dxc_shared.db import Database
from dxc_shared.dynamics.schema import ExportStatus, SyncOutcome
from dxc_shared.messages import SyncInvoicesJob
from dxc_shared.xero.documents import Invoice as XeroInvoice
from invoice_sync.ledger.exports import Ledger, XeroRequest
from invoice_sync.ledger.models import InvoiceSyncLease, PendingRequest
from prometheus_client import REGISTRY
from sqlalchemy import func, select, update

from tests.invoice_sync.conftest import World
from tests.support.polling import eventually


class Stall:
    """Holds the first caller of a patched method until released: the stalled worker."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.released = asyncio.Event()
        self.resumed = asyncio.Event()
        self.answer: list[ElementResult[XeroInvoice]] = []
        self.error: BaseException | None = None

    def _first(self) -> bool:
        first = not self.entered.is_set()
        self.entered.set()
        return first

    def before_xero_create(self, original: Callable[..., Any]) -> Callable[..., Any]:
        """The request is built and the lease proven; the process stalls before it leaves."""

        async def create_invoices(
            client: XeroAccountingClient, invoices: Sequence[Any], *, idempotency_key: str
        ) -> list[ElementResult[XeroInvoice]]:
            if not self._first():
                return list(await original(client, invoices, idempotency_key=idempotency_key))
            await self.released.wait()
            try:
                self.answer = list(
                    await original(client, invoices, idempotency_key=idempotency_key)
                )
            except BaseException as error:
                self.error = error
                raise
            finally:
                self.resumed.set()
            return self.answer

        return create_invoices

    def after_pending(self, original: Callable[..., Any]) -> Callable[..., Any]:
        """`pending` is committed; the process stalls before proving its lease for the call."""

        async def mark_pending(
            ledger: Ledger, connection_id: uuid.UUID, versions: dict[str, str], request: XeroRequest
        ) -> None:
            await original(ledger, connection_id, versions, request)
            if self._first():
                await self.released.wait()
                self.resumed.set()

        return mark_pending


def _jobs(result: str) -> float:
    return REGISTRY.get_sample_value("dxc_invoice_sync_jobs_total", {"result": result}) or 0.0


async def _expire_lease(database: Database, world: World) -> None:
    """The stalled worker's renewals stopped: its lease ran out."""
    async with database.unit_of_work() as session:
        await session.execute(
            update(InvoiceSyncLease)
            .where(InvoiceSyncLease.connection_id == world.connection_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )


@pytest.mark.parametrize("stalled_at", ["after_pending", "before_xero_create"])
async def test_a_worker_stalled_after_pending_creates_nothing_twice(
    world_factory: Any,
    migrated_postgres: str,
    monkeypatch: pytest.MonkeyPatch,
    stalled_at: str,
) -> None:
    # Two workers, one job at a time each: the job published during the stall goes to the other.
    world: World = await world_factory(replicas=2, job_concurrency=1)
    database = Database(migrated_postgres)
    first = [await world.new_invoice(f"S-{n}") for n in range(4)]
    later = [await world.new_invoice(f"T-{n}") for n in range(2)]
    stall = Stall()
    if stalled_at == "after_pending":
        monkeypatch.setattr(Ledger, "mark_pending", stall.after_pending(Ledger.mark_pending))
    else:
        monkeypatch.setattr(
            XeroAccountingClient,
            "create_invoices",
            stall.before_xero_create(XeroAccountingClient.create_invoices),
        )
    failed_before = _jobs("failed")

    await world.hand_over(*first)
    job = SyncInvoicesJob(job_id=uuid.uuid4(), profile=world.profile, due_at=datetime.now(UTC))
    await world.bus.publish(job, headers={"connection_id": str(world.connection_id)})
    await asyncio.wait_for(stall.entered.wait(), timeout=60)
    await world.hand_over(*later)
    await _expire_lease(database, world)

    run = await world.sync()  # the second worker takes over: re-sends the pending batch first

    assert (run.succeeded, run.failed, run.error) == (6, 0, None)
    stall.released.set()
    await asyncio.wait_for(stall.resumed.wait(), timeout=60)
    await eventually(lambda: _jobs("failed") > failed_before)  # the first stops: LeaseLost

    xero_invoices = world.xero_invoices()
    assert sorted(str(i.reference) for i in xero_invoices) == [
        "S-0",
        "S-1",
        "S-2",
        "S-3",
        "T-0",
        "T-1",
    ]
    linked = set()
    for invoice_id in first + later:
        written = await world.invoice(invoice_id)
        assert written["dxc_exportstatus"] == ExportStatus.YES
        linked.add(written["dxc_xeroinvoiceid"])
        outcomes = [row["dxc_outcome"] for row in await world.history(invoice_id)]
        assert outcomes == [SyncOutcome.SUCCESS]
    assert linked == {i.invoice_id for i in xero_invoices}
    if stalled_at == "before_xero_create":
        # The late request reached Xero and was answered from its idempotency cache.
        assert stall.error is None
        assert {str(e.element.invoice_id) for e in stall.answer} <= linked
        assert len(stall.answer) == len(first)
        calls = world.xero.admin("GET", "calls", params={"path_contains": "/Invoices"}).json()
        assert [c["idempotent_replay"] for c in calls if c["method"] == "PUT"][-1] is True
    async with database.unit_of_work() as session:
        kept = await session.scalar(select(func.count()).select_from(PendingRequest))
    assert kept == 0  # no request body outlives Xero's answer
    await database.dispose()
