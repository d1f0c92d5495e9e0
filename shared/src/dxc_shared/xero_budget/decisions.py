"""The Xero call budget's decisions, as pure functions: how many calls one caller may make now,
given what every service has taken from a Xero organisation's limits and from the app's.

Xero's limits (https://developer.xero.com/documentation/guides/oauth2/limits/#api-rate-limits):
per organisation (tenant) 60 calls a minute, 5 calls in progress at once and 5,000 calls a day;
per app 10,000 calls a minute across all organisations. Every answer carries what is left
(`X-MinLimit-Remaining`, `X-DayLimit-Remaining`, `X-AppMinLimit-Remaining`); a 429 names the
limit hit (`X-Rate-Limit-Problem`) and when to come back (`Retry-After`).

A caller asks for a few calls at a time (a grant) instead of one round trip per call. A grant
is used within `LEASE_SECONDS` or given back; each granted call keeps its place in the minute
window for a minute plus that lease, so a call sent late in its lease still falls inside the
window Xero counts it in. A grant also holds one of the organisation's 5 concurrent places
until the lease ends or the caller asks again (a caller sends its calls one at a time). A
caller that is done asks for nothing: its unsent calls and its place are given back at once, so
a run that ends with a call of its grant unsent does not cost the organisation's next run that
call for a minute, nor its place for the rest of the lease.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import IntEnum

MINUTE = 60.0
DAY = 86400.0
# A grant's calls are sent within this many seconds (its holder keeps a margin, see
# budget.SEND_MARGIN) or given back; it holds a concurrent place as long.
LEASE_SECONDS = 3.0
# How long a granted call counts against the minute window: the minute, the lease in which it
# may be sent, and half a second for the request to reach Xero. (Longer would waste Xero's
# minute: each second here costs about one call a minute of throughput.)
MINUTE_HOLD = MINUTE + LEASE_SECONDS + 0.5
# Reference refreshes leave this share of the minute's calls (10 of Xero's 60) to exports and
# payment changes.
REFERENCE_HEADROOM = 1 / 6
# The app's remaining calls are taken from answers at most this old.
APP_OBSERVATION_AGE = 2.0
# While an export waits for the minute window, lower priorities hold back this long past its
# expected turn.
EXPORT_WAIT_MARGIN = 2.0


class Priority(IntEnum):
    """Who goes first when an organisation's minute is short: invoices being exported, then
    changes brought back from Xero, then reference-data refreshes."""

    EXPORT = 0
    CHANGES = 1
    REFERENCE = 2


@dataclass(frozen=True)
class Limits:
    minute: int = 60
    day: int = 5000
    concurrent: int = 5
    app_minute: int = 10_000


XERO_LIMITS = Limits()


@dataclass(frozen=True)
class Observed:
    """What Xero's last answers said about the limits (None: the header was absent)."""

    minute_remaining: int | None = None
    day_remaining: int | None = None
    app_minute_remaining: int | None = None
    retry_after: float | None = None  # from a 429
    at: float = 0.0  # when the answer came


@dataclass(frozen=True)
class TenantWindow:
    """One organisation's use of its limits, shared by every service."""

    minute_calls: tuple[float, ...] = ()  # when each call of the last MINUTE_HOLD was granted
    day_start: float = 0.0
    day_used: int = 0
    blocked_until: float = 0.0  # a 429's Retry-After
    holders: dict[str, float] = field(default_factory=dict)  # holder -> lease end
    exports_waiting_until: float = 0.0


@dataclass(frozen=True)
class AppWindow:
    """The app's calls a minute across organisations: a sliding window estimated from this
    fixed minute's count and the previous one's."""

    window_start: float = 0.0
    current: int = 0
    previous: int = 0

    def rolled(self, now: float) -> AppWindow:
        elapsed = now - self.window_start
        if elapsed < MINUTE:
            return self
        previous = self.current if elapsed < 2 * MINUTE else 0
        return AppWindow(self.window_start + MINUTE * (elapsed // MINUTE), 0, previous)

    def estimate(self, now: float) -> float:
        weight = max(0.0, 1.0 - (now - self.window_start) / MINUTE)
        return self.previous * weight + self.current


@dataclass(frozen=True)
class Ask:
    holder: str
    wanted: int
    priority: Priority
    now: float
    returned: int = 0  # calls of the holder's last grant it did not send
    returned_at: float = 0.0  # that grant's time
    observed: Observed = Observed()


@dataclass(frozen=True)
class Grant:
    calls: int
    granted_at: float
    wait: float = 0.0  # when calls == 0: seconds until asking again can succeed
    reason: str = ""  # when calls == 0: which limit said no
    lease_until: float = 0.0


def _settled(tenant: TenantWindow, ask: Ask, limits: Limits) -> TenantWindow:
    """The window at `ask.now`: old calls and leases dropped, the holder's unsent calls given
    back and its lease ended, and Xero's own counts taken where they are higher."""
    now, seen = ask.now, ask.observed
    calls = sorted(tenant.minute_calls)
    for _ in range(ask.returned):
        if ask.returned_at in calls:
            calls.remove(ask.returned_at)
    if seen.minute_remaining is not None:
        # Calls Xero had counted when it answered that this window does not know of (another
        # app instance, a call outside the budget) count from that moment. (Compared with the
        # window as it was then: compared with it now, an answer a few seconds old would add
        # calls that merely left the window since.)
        known = sum(1 for t in calls if seen.at - MINUTE_HOLD < t <= seen.at)
        calls.extend([seen.at] * max(0, limits.minute - seen.minute_remaining - known))
    calls = sorted(t for t in calls if t > now - MINUTE_HOLD)
    day_start, day_used = tenant.day_start, max(0, tenant.day_used - ask.returned)
    if now - day_start >= DAY:
        day_start, day_used = now, 0
    if seen.day_remaining is not None:
        day_used = max(day_used, limits.day - seen.day_remaining)
    blocked_until = tenant.blocked_until
    if seen.retry_after is not None:
        blocked_until = max(blocked_until, seen.at + seen.retry_after)
    holders = {h: end for h, end in tenant.holders.items() if end > now and h != ask.holder}
    return TenantWindow(
        tuple(calls), day_start, day_used, blocked_until, holders, tenant.exports_waiting_until
    )


def _app_settled(app: AppWindow, ask: Ask, limits: Limits) -> AppWindow:
    app = app.rolled(ask.now) if app.window_start else AppWindow(ask.now)
    remaining = ask.observed.app_minute_remaining
    # Only a fresh answer: the estimate cannot be rewound to an older one's moment.
    if remaining is not None and ask.observed.at >= ask.now - APP_OBSERVATION_AGE:
        missing = math.ceil(limits.app_minute - remaining - app.estimate(ask.now))
        app = replace(app, current=app.current + max(0, missing))
    return app


def _minute_wait(calls: tuple[float, ...], allowed: int, now: float) -> float:
    """Seconds until fewer than `allowed` (at least 1) granted calls remain in the minute
    window."""
    excess = len(calls) - allowed  # this many of the oldest must leave first
    return max(0.1, calls[excess] + MINUTE_HOLD - now)


def decide(
    tenant: TenantWindow, app: AppWindow, ask: Ask, limits: Limits = XERO_LIMITS
) -> tuple[Grant, TenantWindow, AppWindow]:
    """How many calls `ask.holder` may make now (at most `ask.wanted`), and both windows
    afterwards. A refusal (0 calls) says how long to wait and which limit is short."""
    now = ask.now
    tenant = _settled(tenant, ask, limits)
    app = _app_settled(app, ask, limits)
    if ask.wanted == 0:  # done: what it held is given back (by `_settled`), nothing taken
        return Grant(0, now), tenant, app

    def refuse(
        wait: float, reason: str, window: TenantWindow = tenant
    ) -> tuple[Grant, TenantWindow, AppWindow]:
        return Grant(0, now, wait=wait, reason=reason), window, app

    if tenant.blocked_until > now:
        return refuse(tenant.blocked_until - now, "retry-after")
    if tenant.day_used >= limits.day:
        return refuse(tenant.day_start + DAY - now, "day")
    if ask.priority > Priority.EXPORT and tenant.exports_waiting_until > now:
        return refuse(min(1.0, tenant.exports_waiting_until - now), "exports first")
    if len(tenant.holders) >= limits.concurrent:
        return refuse(max(0.1, min(tenant.holders.values()) - now), "concurrent")
    headroom = int(limits.minute * REFERENCE_HEADROOM) if ask.priority == Priority.REFERENCE else 0
    allowed = limits.minute - headroom
    minute_free = allowed - len(tenant.minute_calls)
    if minute_free <= 0:
        wait = _minute_wait(tenant.minute_calls, allowed, now)
        if ask.priority == Priority.EXPORT:
            waiting = max(tenant.exports_waiting_until, now + wait + EXPORT_WAIT_MARGIN)
            return refuse(wait, "minute", replace(tenant, exports_waiting_until=waiting))
        return refuse(wait, "minute")
    app_free = limits.app_minute - math.ceil(app.estimate(now))
    if app_free <= 0:
        return refuse(1.0, "app minute")
    calls = max(0, min(ask.wanted, minute_free, app_free, limits.day - tenant.day_used))
    lease_until = now + LEASE_SECONDS
    tenant = replace(
        tenant,
        minute_calls=tenant.minute_calls + (now,) * calls,
        day_used=tenant.day_used + calls,
        holders={**tenant.holders, ask.holder: lease_until},
    )
    app = replace(app, current=app.current + calls)
    return Grant(calls, now, lease_until=lease_until), tenant, app
