"""The shell every service runs in: a FastAPI app with health, readiness and metrics, request
logging and metrics, bus consumers and background loops started and stopped with the app.

Shutdown order on SIGTERM (uvicorn stops accepting requests, then runs the lifespan exit):
consumers stop taking messages and finish in-flight ones within the timeout, background loops
are cancelled, then the infrastructure (if this service owns it) drains the outbox and closes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dxc_shared.bus import Consumer, Subscription
from dxc_shared.bus.contract import BusMessage
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.logging import (
    CORRELATION_ID,
    configure_logging,
    get_logger,
    log_context,
    new_correlation_id,
)
from dxc_shared.metrics import (
    DEPENDENCY_UP,
    HTTP_REQUEST_DURATION,
    HTTP_REQUESTS,
    render_latest,
)
from dxc_shared.settings import ServiceSettings, SettingsError, load_settings

logger = get_logger(__name__)

CORRELATION_HEADER = "x-correlation-id"
BackgroundLoop = Callable[[], Awaitable[None]]
S = TypeVar("S", bound=ServiceSettings)
FIRST_LOOP_BACKOFF = 1.0


@dataclass
class LoopHealth:
    """A background loop's failure streak: since when it has been failing (monotonic seconds,
    None when it is not) and when it was last restarted (None while it waits to be)."""

    name: str
    failing_since: float | None = None
    restarted_at: float | None = None

    def failing_for(self, now: float, recovered_after: float) -> float:
        """How long the loop has been failing; a loop that has run `recovered_after` seconds
        since its last restart without crashing again counts as recovered."""
        if self.failing_since is None:
            return 0.0
        if self.restarted_at is not None and now - self.restarted_at >= recovered_after:
            return 0.0
        return now - self.failing_since


class Service:
    def __init__(
        self,
        name: str,
        infrastructure: Infrastructure,
        *,
        owns_infrastructure: bool = False,
        shutdown_timeout: float = 25.0,
        loop_backoff_max: float = 60.0,
        loop_failing_unhealthy: float = 180.0,
        title: str | None = None,
    ) -> None:
        self.name = name
        self.infrastructure = infrastructure
        self.owns_infrastructure = owns_infrastructure
        self.shutdown_timeout = shutdown_timeout
        self.loop_backoff_max = loop_backoff_max
        self.loop_failing_unhealthy = loop_failing_unhealthy
        self._loop_health: list[LoopHealth] = []
        self._subscriptions: list[Subscription[Any]] = []
        self._loops: list[BackgroundLoop] = []
        self._consumers: list[Consumer] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._shutdown_callbacks: list[Callable[[], Awaitable[object]]] = []
        self.app = FastAPI(title=title or name, lifespan=self._lifespan)
        self.app.state.service = self
        self.app.add_middleware(RequestObservabilityMiddleware, service=name)
        self.app.include_router(self._operations_router())

    @classmethod
    def for_settings(
        cls, name: str, infrastructure: Infrastructure, settings: ServiceSettings
    ) -> Service:
        """The service `name`, with the shutdown and background-loop limits of `settings`."""
        return cls(
            name,
            infrastructure,
            title=f"dx-connector {name}",
            shutdown_timeout=settings.shutdown_timeout_seconds,
            loop_backoff_max=settings.loop_backoff_max_seconds,
            loop_failing_unhealthy=settings.loop_failing_unhealthy_seconds,
        )

    def http_client(self, timeout_seconds: float) -> httpx.AsyncClient:
        """An HTTP client for the vendors and the other services, closed when the service stops."""
        client = httpx.AsyncClient(timeout=httpx.Timeout(timeout_seconds))
        self.on_shutdown(client.aclose)
        return client

    def subscribe(self, subscription: Subscription[Any]) -> None:
        self._subscriptions.append(subscription)

    @property
    def subscriptions(self) -> tuple[Subscription[Any], ...]:
        return tuple(self._subscriptions)

    def run_in_background(self, loop: BackgroundLoop) -> None:
        """Run `loop` for the life of the app; it is cancelled on shutdown."""
        self._loops.append(loop)

    def on_shutdown(self, callback: Callable[[], Awaitable[object]]) -> None:
        """Run `callback` at shutdown, after consumers and loops have stopped (e.g. closing an
        HTTP client they used)."""
        self._shutdown_callbacks.append(callback)

    async def start(self) -> None:
        if self.owns_infrastructure:
            await self.infrastructure.start()
        for subscription in self._subscriptions:
            self._consumers.append(await self.infrastructure.broker.consume(subscription))
        for loop in self._loops:
            health = LoopHealth(loop.__qualname__)
            self._loop_health.append(health)
            self._tasks.append(asyncio.create_task(self._supervise(loop, health)))
        logger.info(
            "service.started",
            component=self.name,
            consumers=len(self._consumers),
            loops=len(self._tasks),
        )

    async def stop(self) -> None:
        logger.info("service.stopping", component=self.name)
        await asyncio.gather(
            *(consumer.stop(self.shutdown_timeout) for consumer in self._consumers)
        )
        self._consumers.clear()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._loop_health.clear()
        for callback in self._shutdown_callbacks:
            await callback()
        if self.owns_infrastructure:
            await self.infrastructure.stop()
        logger.info("service.stopped", component=self.name)

    async def _supervise(self, loop: BackgroundLoop, health: LoopHealth) -> None:
        """Keep a background loop alive: restart it after an unexpected error, waiting twice
        as long after each consecutive failure (up to `loop_backoff_max`). The first failure of
        a streak is logged with its traceback, the next ones in one line each, so a loop that
        cannot work (a wrong database name) does not flood the log."""
        failures = 0
        while True:
            try:
                await loop()
                return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                now = time.monotonic()
                if health.failing_for(now, self.loop_backoff_max) == 0.0:
                    failures, health.failing_since = 0, now
                # The exponent is capped: a loop failing for days must not overflow the float.
                delay = min(FIRST_LOOP_BACKOFF * 2 ** min(failures, 32), self.loop_backoff_max)
                failures += 1
                logger.warning(
                    "service.background_loop_failed",
                    loop=health.name,
                    error=f"{type(error).__name__}: {error}"[:500],
                    failures=failures,
                    retry_in_seconds=delay,
                    exc_info=failures == 1,
                )
                health.restarted_at = None
                await asyncio.sleep(delay)
                health.restarted_at = time.monotonic()

    @asynccontextmanager
    async def _lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    def _operations_router(self) -> APIRouter:
        router = APIRouter(tags=["operations"])

        @router.get(
            "/healthz",
            summary="Liveness: the process is up and serving, and no background loop has been "
            "failing for longer than the service allows",
            responses={503: {"description": "A background loop keeps failing"}},
        )
        async def healthz() -> JSONResponse:
            now = time.monotonic()
            failing = sorted(
                health.name
                for health in self._loop_health
                if health.failing_for(now, self.loop_backoff_max) > self.loop_failing_unhealthy
            )
            if failing:
                return JSONResponse(
                    {"status": "failing", "service": self.name, "failing_loops": failing},
                    status_code=503,
                )
            return JSONResponse({"status": "ok", "service": self.name})

        @router.get(
            "/readyz",
            summary="Readiness: the database and the bus answer",
            responses={503: {"description": "A dependency does not answer"}},
        )
        async def readyz() -> JSONResponse:
            results = await self._check_dependencies()
            ready = all(result == "ok" for result in results.values())
            return JSONResponse(
                {"status": "ready" if ready else "not ready", "checks": results},
                status_code=200 if ready else 503,
            )

        @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
        async def metrics() -> Response:
            # Checked here too, so an unreachable database or bus is a series to alert on.
            await self._check_dependencies()
            body, content_type = render_latest()
            return Response(body, media_type=content_type)

        return router

    async def _check_dependencies(self) -> dict[str, str]:
        """Each dependency's check result ("ok", or why not); also set as dxc_dependency_up."""
        checks = {
            "database": self.infrastructure.database.ping,
            "bus": self.infrastructure.broker.ping,
        }
        results: dict[str, str] = {}
        for check_name, check in checks.items():
            try:
                await asyncio.wait_for(check(), timeout=3.0)
                results[check_name] = "ok"
            except Exception as error:
                results[check_name] = f"failing: {type(error).__name__}: {error}"
            DEPENDENCY_UP.labels(check_name).set(1 if results[check_name] == "ok" else 0)
        return results

    async def publish(self, message: BusMessage) -> None:
        """Publish without a transaction (e.g. relaying a webhook); inside a unit of work use
        `dxc_shared.outbox.enqueue` instead."""
        await self.infrastructure.broker.publish(message)


class RequestObservabilityMiddleware:
    """Binds a correlation id (taken from the request or new) to the logs of the request,
    echoes it in the response, and records request counts and durations by route template."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        correlation_id = (
            headers.get(CORRELATION_HEADER.encode(), b"").decode("latin-1")[:64]
            or new_correlation_id()
        )
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (CORRELATION_HEADER.encode(), correlation_id.encode()),
                ]
            await send(message)

        with log_context(**{CORRELATION_ID: correlation_id, "service": self.service}):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", "unmatched")
                method = scope["method"]
                HTTP_REQUESTS.labels(self.service, method, template, str(status)).inc()
                HTTP_REQUEST_DURATION.labels(self.service, method, template).observe(
                    time.perf_counter() - started
                )


def run_service(
    settings_type: type[S],
    build: Callable[[Infrastructure, S], Service],
) -> None:
    """Console entry point body for distributed mode: one service, its own infrastructure,
    served by uvicorn, which turns SIGTERM into a graceful shutdown. Missing or invalid
    settings end the process with one line naming the variables (exit status 1)."""
    try:
        settings = load_settings(settings_type)
    except SettingsError as error:
        raise SystemExit(f"cannot start: {error}") from None
    service = build(Infrastructure.from_settings(settings), settings)
    configure_logging(service.name, level=settings.log_level, fmt=settings.log_format)
    service.owns_infrastructure = True
    uvicorn.run(
        service.app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds),
        # uvicorn would believe X-Forwarded-For from 127.0.0.1; a service that needs the
        # client's address reads it through the proxies its own settings trust.
        proxy_headers=False,
    )


async def bounded_body(request: Request, max_bytes: int) -> bytes | None:
    """A webhook's body, or None as soon as it is known to exceed `max_bytes` (by its declared
    length, else while it streams in): a sender can't make the service hold more."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            return None
    return bytes(body)
