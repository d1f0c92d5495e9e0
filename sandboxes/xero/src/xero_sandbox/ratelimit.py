"""Xero's API limits: per organisation calls per minute, per day and in flight, and per app
calls per minute, each a sliding window on the injected clock
(https://developer.xero.com/documentation/guides/oauth2/limits/#api-rate-limits)."""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass, field

from fastapi.responses import Response
from sandbox_kit.clock import Clock

from .settings import XeroSandboxSettings

MINUTE = 60.0
DAY = 86400.0


@dataclass
class Decision:
    headers: dict[str, str]
    problem: str | None = None  # minute | day | concurrent | appminute
    retry_after: int = 0

    def refusal(self) -> Response:
        """The 429 of a refused call: the remaining counts, Retry-After and the problem."""
        headers = {
            **self.headers,
            "Retry-After": str(self.retry_after),
            "X-Rate-Limit-Problem": str(self.problem),
        }
        return Response(status_code=429, headers=headers)


@dataclass
class _Window:
    span: float
    calls: deque[float] = field(default_factory=deque)

    def count(self, now: float) -> int:
        while self.calls and self.calls[0] <= now - self.span:
            self.calls.popleft()
        return len(self.calls)

    def retry_after(self, now: float) -> int:
        return max(1, math.ceil(self.calls[0] + self.span - now)) if self.calls else 1


class RateLimiter:
    def __init__(self, settings: XeroSandboxSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._minute: dict[str, _Window] = defaultdict(lambda: _Window(MINUTE))
        self._day: dict[str, _Window] = defaultdict(lambda: _Window(DAY))
        self._app: dict[str, _Window] = defaultdict(lambda: _Window(MINUTE))
        self._in_flight: dict[str, int] = defaultdict(int)

    def acquire(self, tenant_id: str, client_id: str) -> Decision:
        """Count a call, or refuse it (refused calls are not counted) with the problem."""
        s = self.settings
        now = self.clock.monotonic()
        minute, day, app = self._minute[tenant_id], self._day[tenant_id], self._app[client_id]
        used_minute, used_day, used_app = minute.count(now), day.count(now), app.count(now)
        refusal: tuple[str, int] | None = None
        if s.rate_limits_enabled:
            if used_day >= s.day_limit:
                refusal = ("day", day.retry_after(now))
            elif used_app >= s.app_minute_limit:
                refusal = ("appminute", app.retry_after(now))
            elif used_minute >= s.minute_limit:
                refusal = ("minute", minute.retry_after(now))
            elif self._in_flight[tenant_id] >= s.concurrent_limit:
                refusal = ("concurrent", 1)
        if refusal is None:
            for window in (minute, day, app):
                window.calls.append(now)
            used_minute, used_day, used_app = used_minute + 1, used_day + 1, used_app + 1
            self._in_flight[tenant_id] += 1
        headers = {
            "X-DayLimit-Remaining": str(max(0, s.day_limit - used_day)),
            "X-MinLimit-Remaining": str(max(0, s.minute_limit - used_minute)),
            "X-AppMinLimit-Remaining": str(max(0, s.app_minute_limit - used_app)),
        }
        if refusal is None:
            return Decision(headers)
        return Decision(headers, problem=refusal[0], retry_after=refusal[1])

    def acquire_app(self, client_id: str) -> Decision:
        """A call that names no organisation (``/connections``): the app's minute limit, the
        one limit "across all tenants", counts it; the organisation limits cannot."""
        s = self.settings
        now = self.clock.monotonic()
        app = self._app[client_id]
        used = app.count(now)
        if s.rate_limits_enabled and used >= s.app_minute_limit:
            headers = {"X-AppMinLimit-Remaining": "0"}
            return Decision(headers, problem="appminute", retry_after=app.retry_after(now))
        app.calls.append(now)
        return Decision({"X-AppMinLimit-Remaining": str(max(0, s.app_minute_limit - used - 1))})

    def release(self, tenant_id: str) -> None:
        self._in_flight[tenant_id] = max(0, self._in_flight[tenant_id] - 1)

    def reset(self) -> None:
        self._minute.clear()
        self._day.clear()
        self._app.clear()
        self._in_flight.clear()
