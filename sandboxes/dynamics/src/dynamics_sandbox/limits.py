"""Dataverse service-protection limits: per user, per organisation, over a sliding window."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from sandbox_kit.clock import Clock

from .errors import CONCURRENCY, EXECUTION_TIME, TOO_MANY_REQUESTS, DataverseError
from .settings import DynamicsSandboxSettings


@dataclass
class LimitConfig:
    enabled: bool = True
    window_seconds: float = 300.0
    requests: int = 6000
    execution_seconds: float = 1200.0
    concurrent: int = 52
    cost_seconds: float = 0.05

    @classmethod
    def from_settings(cls, settings: DynamicsSandboxSettings) -> LimitConfig:
        return cls(
            enabled=settings.limits_enabled,
            window_seconds=settings.limit_window_seconds,
            requests=settings.limit_requests,
            execution_seconds=settings.limit_execution_seconds,
            concurrent=settings.limit_concurrent,
            cost_seconds=settings.request_cost_seconds,
        )


@dataclass
class _Window:
    calls: deque[tuple[float, float]] = field(default_factory=deque)  # (time, cost)
    in_flight: int = 0


class ServiceProtection:
    def __init__(self, config: LimitConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self._windows: dict[tuple[str, str], _Window] = {}

    def reset(self) -> None:
        self._windows.clear()

    def admit(self, org: str, user: str) -> None:
        """Count a request in, or raise the 429 Dataverse would answer."""
        config = self.config
        window = self._windows.setdefault((org, user), _Window())
        now = self.clock.monotonic()
        while window.calls and window.calls[0][0] <= now - config.window_seconds:
            window.calls.popleft()
        if not config.enabled:
            window.in_flight += 1
            return
        if window.in_flight >= config.concurrent:
            raise _throttled(
                CONCURRENCY,
                f"Number of concurrent requests exceeded the limit of {config.concurrent}.",
                1,
            )
        retry_after = (
            math.ceil(window.calls[0][0] + config.window_seconds - now) if window.calls else 1
        )
        if len(window.calls) >= config.requests:
            raise _throttled(
                TOO_MANY_REQUESTS,
                f"Number of requests exceeded the limit of {config.requests} over time window of "
                f"{config.window_seconds:g} seconds.",
                retry_after,
            )
        if sum(cost for _, cost in window.calls) >= config.execution_seconds:
            raise _throttled(
                EXECUTION_TIME,
                "Combined execution time of incoming requests exceeded limit of "
                f"{config.execution_seconds * 1000:,.0f} milliseconds over time window of "
                f"{config.window_seconds:g} seconds. Decrease number of concurrent requests or "
                "reduce the duration of requests and try again later.",
                retry_after,
            )
        window.calls.append((now, config.cost_seconds))
        window.in_flight += 1

    def release(self, org: str, user: str) -> None:
        window = self._windows.get((org, user))
        if window is not None and window.in_flight > 0:
            window.in_flight -= 1

    def remaining(self, org: str, user: str) -> dict[str, str]:
        """The x-ms-ratelimit-* headers Dataverse adds to every response."""
        window = self._windows.get((org, user), _Window())
        used = sum(cost for _, cost in window.calls)
        return {
            "x-ms-ratelimit-burst-remaining-xrm-requests": str(
                max(self.config.requests - len(window.calls), 0)
            ),
            "x-ms-ratelimit-time-remaining-xrm-requests": (
                f"{max(self.config.execution_seconds - used, 0):.2f}"
            ),
        }


def _throttled(code: str, message: str, retry_after: int) -> DataverseError:
    return DataverseError(429, code, message, {"Retry-After": str(max(retry_after, 1))})
