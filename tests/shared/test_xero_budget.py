"""The Xero budget end to end: workers of two services, each with its own database pool as
separate processes have, share one organisation through PostgreSQL and call the Xero sandbox
over HTTP under its own limits (lowered, and on the sandbox's manual clock, which the budget
reads and which its waits move, so minutes pass at once)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from dxc_shared.clients.xero_accounting import XeroAccountingClient, XeroRateLimited
from dxc_shared.db import Database
from dxc_shared.xero_budget.budget import XeroBudget
from dxc_shared.xero_budget.decisions import Limits, Priority
from dxc_shared.xero_budget.models import XeroCallWindow
from dxc_shared.xero_budget.repository import tenant_scope
from sqlalchemy import delete

from tests.support.xero_sandbox import XeroSandbox, running_xero_sandbox

MINUTE_LIMIT = 8
CONCURRENT_LIMIT = 2
LIMITS = Limits(minute=MINUTE_LIMIT, day=5000, concurrent=CONCURRENT_LIMIT)


@pytest.fixture
def sandbox() -> Iterator[XeroSandbox]:
    with running_xero_sandbox(minute_limit=MINUTE_LIMIT, concurrent_limit=CONCURRENT_LIMIT) as x:
        yield x


@pytest.fixture
async def databases(migrated_postgres: str) -> AsyncIterator[list[Database]]:
    """One pool per service, as their processes have."""
    pools = [Database(migrated_postgres) for _ in range(2)]
    async with pools[0].unit_of_work() as session:
        await session.execute(delete(XeroCallWindow))
    yield pools
    async with pools[0].unit_of_work() as session:
        await session.execute(delete(XeroCallWindow))
    for pool in pools:
        await pool.dispose()


class VirtualTime:
    """The sandbox's manual clock as the callers' time: it moves only when every caller is
    waiting, to the earliest wake-up, so a wait lets the others work as real time would."""

    def __init__(self, sandbox: XeroSandbox, callers: int) -> None:
        self._clock = sandbox.clock
        self._active = callers
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    async def sleep(self, seconds: float) -> None:
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._clock.monotonic() + seconds, wake))
        self._move_on()
        await wake

    def leave(self) -> None:
        self._active -= 1
        self._move_on()

    def _move_on(self) -> None:
        if not self._sleepers or len(self._sleepers) < self._active:
            return
        self._sleepers.sort(key=lambda sleeper: sleeper[0])
        at, wake = self._sleepers.pop(0)
        self._clock.advance(max(0.0, at - self._clock.monotonic()))
        wake.set_result(None)


def budgets(
    sandbox: XeroSandbox, databases: list[Database], time: VirtualTime, **limits: int
) -> list[XeroBudget]:
    return [
        XeroBudget(
            database,
            limits=Limits(**{**LIMITS.__dict__, **limits}),
            clock=sandbox.clock.monotonic,
            sleep=time.sleep,
            max_wait_seconds=600,
        )
        for database in databases
    ]


def client(
    http: httpx.AsyncClient, sandbox: XeroSandbox, budget: XeroBudget, priority: Priority
) -> XeroAccountingClient:
    token = str(sandbox.tokens()["access_token"])

    async def access_token() -> str:
        return token

    return XeroAccountingClient(
        http,
        base_url=sandbox.api(""),
        tenant_id=sandbox.tenant,
        access_token=access_token,
        budget=budget.for_tenant(sandbox.tenant, priority),
    )


def most_in_a_minute(moments: list[datetime]) -> int:
    return max(
        sum(1 for other in moments if start <= other < start + timedelta(seconds=60))
        for start in moments
    )


async def test_two_services_sharing_an_organisation_stay_inside_its_limits(
    sandbox: XeroSandbox, databases: list[Database]
) -> None:
    time = VirtualTime(sandbox, callers=4)
    invoice_sync, payment_sync = budgets(sandbox, databases, time)
    async with httpx.AsyncClient(timeout=30) as http:
        # Two export runs (invoice-sync), a payment poll and a reference refresh (payment-sync).
        clients = [
            client(http, sandbox, invoice_sync, Priority.EXPORT),
            client(http, sandbox, invoice_sync, Priority.EXPORT),
            client(http, sandbox, payment_sync, Priority.CHANGES),
            client(http, sandbox, payment_sync, Priority.REFERENCE),
        ]

        async def calls(xero: XeroAccountingClient) -> None:
            for _ in range(6):
                await xero.organisation()
            time.leave()

        await asyncio.gather(*(calls(xero) for xero in clients))

    api = [c for c in sandbox.state.calls if "/api.xro/" in c.path]
    assert len(api) == 24
    assert [c.status for c in api] == [200] * 24  # not one 429
    # The calls spread over at least three of the sandbox's minutes, never more than its limit
    # in any one.
    assert api[-1].time - api[0].time >= timedelta(seconds=120)
    assert most_in_a_minute([c.time for c in api]) <= MINUTE_LIMIT


async def test_calls_outside_the_budget_are_learnt_from_xeros_headers(
    sandbox: XeroSandbox, databases: list[Database]
) -> None:
    """Another app instance spends most of the minute behind the budget's back: the first
    answer's X-MinLimit-Remaining tells the budget, and nobody is answered 429."""
    [budget, _] = budgets(sandbox, databases, VirtualTime(sandbox, callers=1))
    headers = sandbox.headers()
    for _ in range(MINUTE_LIMIT - 2):
        assert sandbox.http.get(sandbox.api("Organisation"), headers=headers).status_code == 200
    sandbox.state.calls.clear()
    async with httpx.AsyncClient(timeout=30) as http:
        xero = client(http, sandbox, budget, Priority.EXPORT)
        for _ in range(4):
            await xero.organisation()
    assert [c.status for c in sandbox.state.calls if "/api.xro/" in c.path] == [200] * 4


async def test_a_day_spent_raises_for_the_bus_to_retry_later(
    sandbox: XeroSandbox, databases: list[Database]
) -> None:
    [budget, _] = budgets(sandbox, databases, VirtualTime(sandbox, callers=1), day=3)
    async with httpx.AsyncClient(timeout=30) as http:
        xero = client(http, sandbox, budget, Priority.EXPORT)
        for _ in range(3):
            await xero.organisation()
        with pytest.raises(XeroRateLimited, match="day"):
            await xero.organisation()
    assert len([c for c in sandbox.state.calls if "/api.xro/" in c.path]) == 3


async def test_a_run_that_ends_gives_back_its_place_and_unsent_calls_at_once(
    sandbox: XeroSandbox, databases: list[Database]
) -> None:
    """Runs of one organisation, one after another as a connection's are: each ends holding a
    concurrent place and a granted call it did not send. Released, the next run calls without
    waiting for their leases to run out, and the minute counts only the calls sent."""
    [budget, _] = budgets(sandbox, databases, VirtualTime(sandbox, callers=1))
    async with httpx.AsyncClient(timeout=30) as http:
        for _ in range(CONCURRENT_LIMIT):
            run = client(http, sandbox, budget, Priority.EXPORT)
            await run.organisation()  # a grant of one call
            await run.organisation()  # a grant of two: one is left unsent
            await run.release()
        before = sandbox.clock.monotonic()
        await client(http, sandbox, budget, Priority.EXPORT).organisation()
        assert sandbox.clock.monotonic() == before  # nobody waited
    async with databases[0].unit_of_work() as session:
        window = await session.get(XeroCallWindow, tenant_scope(sandbox.tenant))
        assert window is not None
        assert len(window.state["minute_calls"]) == 2 * CONCURRENT_LIMIT + 1
        assert len(window.state["holders"]) == 1  # the last run's lease alone
