"""One Xero budget per organisation, kept in PostgreSQL and shared by every service that calls
Xero (see `decisions` for the rules and Xero's limits).

`XeroBudget` belongs to a worker process; `for_tenant` gives each Xero client (one run of one
connection) its own `TenantBudget`, which asks the database for a few calls at a time, spends
them one per request, and hands what Xero's answers said about the limits to the next ask.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace

from dxc_shared.clients.vendor_metrics import VENDOR_RATE_LIMIT_WAIT
from dxc_shared.clients.xero_accounting import XeroRateLimited
from dxc_shared.db import Database
from dxc_shared.logging import get_logger
from dxc_shared.xero_budget import repository
from dxc_shared.xero_budget.decisions import (
    XERO_LIMITS,
    Ask,
    Grant,
    Limits,
    Observed,
    Priority,
    decide,
)

logger = get_logger(__name__)

Sleep = Callable[[float], Awaitable[None]]
# The most calls one ask takes: a run that keeps calling doubles its asks up to this.
MAX_GRANT = 5
# A granted call is sent at least this long before its lease ends, or given back.
SEND_MARGIN = 0.5


class XeroBudget:
    def __init__(
        self,
        database: Database,
        *,
        limits: Limits = XERO_LIMITS,
        max_wait_seconds: float = 65.0,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._database = database
        self.limits = limits
        self.max_wait = max_wait_seconds
        self.clock = clock
        self.sleep = sleep

    def for_tenant(self, tenant_id: str, priority: Priority) -> TenantBudget:
        return TenantBudget(self, tenant_id, priority)

    async def ask(self, tenant_id: str, ask: Ask) -> Grant:
        """One round trip: the windows locked, decided on, written back."""
        async with self._database.unit_of_work() as session:
            tenant_row, tenant, app_row, app = await repository.windows(session, tenant_id)
            grant, tenant, app = decide(tenant, app, ask, self.limits)
            repository.store(tenant_row, tenant)
            repository.store(app_row, app)
        return grant


class TenantBudget:
    """One Xero client's share of its organisation's budget. The client sends its requests one
    at a time, so one grant holds one of the organisation's concurrent places."""

    def __init__(self, budget: XeroBudget, tenant_id: str, priority: Priority) -> None:
        self._budget = budget
        self._tenant_id = tenant_id
        self._priority = priority
        self._holder = uuid.uuid4().hex
        self._left = 0
        self._granted = 0
        self._granted_at = 0.0
        self._lease_until = 0.0
        self._observed = Observed()

    async def take(self) -> None:
        """Wait for one call's place (raises `XeroRateLimited` when that is longer than a job
        should wait)."""
        budget = self._budget
        while True:
            now = budget.clock()
            if self._left > 0 and now < self._lease_until - SEND_MARGIN:
                self._left -= 1
                return
            grant = await budget.ask(self._tenant_id, self._ask(now))
            self._observed = Observed()
            self._left, self._granted_at = grant.calls, grant.granted_at
            if grant.calls:
                self._granted = grant.calls
                self._lease_until = grant.lease_until
                continue
            if grant.wait > budget.max_wait:
                raise XeroRateLimited(grant.wait, grant.reason)
            VENDOR_RATE_LIMIT_WAIT.labels("xero").inc(grant.wait)
            await budget.sleep(grant.wait)

    async def release(self) -> None:
        """The client is done: give back the grant's unsent calls and its concurrent place
        now, not when the lease runs out. (If the database cannot be reached, the lease ends
        on its own and the unsent calls leave the window within `MINUTE_HOLD`.)"""
        now = self._budget.clock()
        if not self._left and now >= self._lease_until:
            return
        try:
            await self._budget.ask(self._tenant_id, self._ask(now, wanted=0))
        except Exception:
            logger.warning("xero_budget.release_failed", exc_info=True)
        self._left, self._lease_until = 0, 0.0

    def _ask(self, now: float, *, wanted: int | None = None) -> Ask:
        return Ask(
            self._holder,
            min(MAX_GRANT, max(1, 2 * self._granted)) if wanted is None else wanted,
            self._priority,
            now,
            returned=self._left,
            returned_at=self._granted_at,
            observed=self._observed,
        )

    def observe(self, observed: Observed) -> None:
        """What an answer said about the limits, for the next ask; after a 429 the next call
        asks at once (giving back this grant's unsent calls)."""
        self._observed = replace(
            observed,
            retry_after=observed.retry_after or self._observed.retry_after,
            at=self._budget.clock(),
        )
        if observed.retry_after is not None:
            self._lease_until = 0.0
