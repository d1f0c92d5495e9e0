"""The Xero budget's decisions: who may call how often, from the shared windows alone."""

from __future__ import annotations

import pytest
from dxc_shared.xero_budget.decisions import (
    DAY,
    LEASE_SECONDS,
    MINUTE_HOLD,
    AppWindow,
    Ask,
    Limits,
    Observed,
    Priority,
    TenantWindow,
    decide,
)

pytestmark = pytest.mark.unit

NOW = 100_000.0
LIMITS = Limits()


def full_minute(count: int, at: float = NOW - 10) -> tuple[float, ...]:
    return (at,) * count


@pytest.mark.parametrize(
    ("case", "tenant", "ask", "calls", "reason"),
    [
        (
            "empty window grants what is asked",
            TenantWindow(),
            Ask("a", 5, Priority.EXPORT, NOW),
            5,
            "",
        ),
        (
            "grants only what is left of the minute",
            TenantWindow(minute_calls=full_minute(58)),
            Ask("a", 5, Priority.EXPORT, NOW),
            2,
            "",
        ),
        (
            "a full minute refuses",
            TenantWindow(minute_calls=full_minute(60)),
            Ask("a", 1, Priority.EXPORT, NOW),
            0,
            "minute",
        ),
        (
            "calls older than the minute and lease no longer count",
            TenantWindow(minute_calls=full_minute(60, NOW - MINUTE_HOLD - 1)),
            Ask("a", 5, Priority.EXPORT, NOW),
            5,
            "",
        ),
        (
            "reference refreshes leave headroom to the others",
            TenantWindow(minute_calls=full_minute(50)),
            Ask("a", 1, Priority.REFERENCE, NOW),
            0,
            "minute",
        ),
        (
            "changes use the whole minute",
            TenantWindow(minute_calls=full_minute(50)),
            Ask("a", 1, Priority.CHANGES, NOW),
            1,
            "",
        ),
        (
            "an export waiting for the minute goes first",
            TenantWindow(exports_waiting_until=NOW + 5),
            Ask("a", 1, Priority.CHANGES, NOW),
            0,
            "exports first",
        ),
        (
            "an export is not held back by a waiting export",
            TenantWindow(exports_waiting_until=NOW + 5),
            Ask("a", 1, Priority.EXPORT, NOW),
            1,
            "",
        ),
        (
            "five holders with live leases fill the concurrent places",
            TenantWindow(holders={f"h{i}": NOW + 3 for i in range(5)}),
            Ask("a", 1, Priority.EXPORT, NOW),
            0,
            "concurrent",
        ),
        (
            "an ended lease frees its place",
            TenantWindow(holders={**{f"h{i}": NOW + 3 for i in range(4)}, "old": NOW - 1}),
            Ask("a", 1, Priority.EXPORT, NOW),
            1,
            "",
        ),
        (
            "a holder asking again does not take a second place",
            TenantWindow(holders={f"h{i}": NOW + 3 for i in range(5)}),
            Ask("h0", 1, Priority.EXPORT, NOW),
            1,
            "",
        ),
        (
            "a 429's Retry-After blocks everyone",
            TenantWindow(blocked_until=NOW + 20),
            Ask("a", 1, Priority.EXPORT, NOW),
            0,
            "retry-after",
        ),
        (
            "the day's calls spent",
            TenantWindow(day_start=NOW - 100, day_used=5000),
            Ask("a", 1, Priority.EXPORT, NOW),
            0,
            "day",
        ),
        (
            "a new day starts over",
            TenantWindow(day_start=NOW - DAY, day_used=5000),
            Ask("a", 1, Priority.EXPORT, NOW),
            1,
            "",
        ),
        (
            "never more than the day has left",
            TenantWindow(day_start=NOW - 100, day_used=4998),
            Ask("a", 5, Priority.EXPORT, NOW),
            2,
            "",
        ),
        (
            "Xero counted calls the window did not: they take the minute",
            TenantWindow(minute_calls=full_minute(10)),
            Ask("a", 5, Priority.EXPORT, NOW, observed=Observed(minute_remaining=2, at=NOW)),
            2,
            "",
        ),
        (
            "Xero's day count corrects the window's",
            TenantWindow(day_start=NOW - 100, day_used=10),
            Ask("a", 5, Priority.EXPORT, NOW, observed=Observed(day_remaining=0, at=NOW)),
            0,
            "day",
        ),
        (
            "a 429 seen by this caller blocks at once",
            TenantWindow(),
            Ask("a", 5, Priority.EXPORT, NOW, observed=Observed(retry_after=30, at=NOW)),
            0,
            "retry-after",
        ),
        (
            "an answer seconds old adds no calls that merely left the window since",
            TenantWindow(minute_calls=full_minute(60, NOW - MINUTE_HOLD + 2)),
            Ask(
                "a",
                5,
                Priority.EXPORT,
                NOW + 5,
                observed=Observed(minute_remaining=0, at=NOW),
            ),
            5,
            "",
        ),
        (
            "unsent calls given back free their places",
            TenantWindow(minute_calls=full_minute(57) + full_minute(3, NOW - 2)),
            Ask("a", 3, Priority.EXPORT, NOW, returned=3, returned_at=NOW - 2),
            3,
            "",
        ),
    ],
)
def test_decide(case: str, tenant: TenantWindow, ask: Ask, calls: int, reason: str) -> None:
    grant, after, _ = decide(tenant, AppWindow(), ask, LIMITS)
    assert (grant.calls, grant.reason) == (calls, reason), case
    assert len(after.minute_calls) <= LIMITS.minute
    if calls:
        assert grant.lease_until == ask.now + LEASE_SECONDS
        assert after.holders[ask.holder] == grant.lease_until
    else:
        assert grant.wait > 0


@pytest.mark.parametrize(
    ("app", "observed", "calls", "reason"),
    [
        (AppWindow(NOW - 30, 9_998, 0), Observed(), 2, ""),
        (AppWindow(NOW - 30, 10_000, 0), Observed(), 0, "app minute"),
        # Half of the previous minute's 10,000 still counts half a minute on.
        (AppWindow(NOW - 30, 5_000, 10_000), Observed(), 0, "app minute"),
        (AppWindow(NOW - 90, 10_000, 0), Observed(), 5, ""),  # rolled: previous is half-weighted
        (AppWindow(NOW - 30, 0, 0), Observed(app_minute_remaining=1, at=NOW), 1, ""),
        # An answer too old to set the estimate by is left out.
        (AppWindow(NOW - 30, 0, 0), Observed(app_minute_remaining=1, at=NOW - 10), 5, ""),
    ],
)
def test_app_minute(app: AppWindow, observed: Observed, calls: int, reason: str) -> None:
    grant, _, after = decide(
        TenantWindow(), app, Ask("a", 5, Priority.EXPORT, NOW, observed=observed)
    )
    assert (grant.calls, grant.reason) == (calls, reason)
    assert after.estimate(NOW) <= LIMITS.app_minute


def test_a_refused_export_holds_back_the_others_until_its_turn() -> None:
    tenant = TenantWindow(minute_calls=full_minute(60, NOW - 30))
    grant, tenant, app = decide(tenant, AppWindow(), Ask("e", 1, Priority.EXPORT, NOW))
    assert grant.calls == 0
    assert grant.wait == pytest.approx(MINUTE_HOLD - 30)
    turn = NOW + grant.wait
    changes, _, _ = decide(tenant, app, Ask("c", 1, Priority.CHANGES, turn))
    assert (changes.calls, changes.reason) == (0, "exports first")
    export, _, _ = decide(tenant, app, Ask("e", 1, Priority.EXPORT, turn))
    assert export.calls == 1


def test_no_minute_window_ever_holds_more_than_the_limit() -> None:
    """Callers asking every half second for a quarter of an hour: the grants in any window of
    MINUTE_HOLD seconds never pass the minute limit."""
    tenant, app = TenantWindow(), AppWindow()
    granted: list[float] = []
    for step in range(1800):
        now = NOW + step * 0.5
        holder = f"h{step % 7}"
        grant, tenant, app = decide(tenant, app, Ask(holder, 5, Priority(step % 3), now))
        granted.extend([now] * grant.calls)
    assert granted
    for start in granted:
        assert sum(1 for t in granted if start <= t < start + MINUTE_HOLD) <= LIMITS.minute


def test_a_caller_done_gives_back_its_unsent_calls_and_its_place() -> None:
    """Five runs of one organisation each take two calls and send one: asking for nothing when
    they end frees their places for the sixth at once, and the minute keeps only what was
    sent."""
    tenant, app = TenantWindow(), AppWindow()
    for run in range(LIMITS.concurrent):
        grant, tenant, app = decide(tenant, app, Ask(f"run{run}", 2, Priority.EXPORT, NOW))
        assert grant.calls == 2
    refused, _, _ = decide(tenant, app, Ask("next", 1, Priority.EXPORT, NOW))
    assert (refused.calls, refused.reason) == (0, "concurrent")
    for run in range(LIMITS.concurrent):
        done = Ask(f"run{run}", 0, Priority.EXPORT, NOW + 1, returned=1, returned_at=NOW)
        grant, tenant, app = decide(tenant, app, done)
        assert grant.calls == 0
    assert tenant.holders == {}
    assert len(tenant.minute_calls) == LIMITS.concurrent
    following, _, _ = decide(tenant, app, Ask("next", 1, Priority.EXPORT, NOW + 1))
    assert following.calls == 1
