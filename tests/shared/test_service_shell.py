"""The service shell in process: readiness checks its dependencies, correlation ids travel,
consumers and background loops live and die with the app."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable
from typing import ClassVar

import httpx
import pytest
from asgi_lifespan import LifespanManager
from dxc_shared import service as service_module
from dxc_shared.bus import BusMessage, MessageContext, Subscription
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.service import Service

from tests.support.polling import eventually, eventually_async


class Tick(BusMessage):
    topic: ClassVar[str] = "test.tick"


@pytest.fixture
async def infrastructure(migrated_sqlite: str) -> Infrastructure:
    return Infrastructure.create(migrated_sqlite, "memory://", "test")


async def _client(service: Service) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(service.app), base_url="http://svc")


async def test_ready_when_database_and_bus_answer(infrastructure: Infrastructure) -> None:
    service = Service("probe", infrastructure, owns_infrastructure=True)
    async with LifespanManager(service.app), await _client(service) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "bus": "ok"}


async def test_not_ready_when_the_database_does_not_answer() -> None:
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"
    service = Service("probe", Infrastructure.create(unreachable, "memory://", "test"))
    await service.infrastructure.broker.connect()
    async with await _client(service) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"].startswith("failing:")
    assert body["checks"]["bus"] == "ok"


async def test_metrics_say_which_dependency_does_not_answer() -> None:
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"
    service = Service("probe", Infrastructure.create(unreachable, "memory://", "test"))
    await service.infrastructure.broker.connect()
    async with await _client(service) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert 'dxc_dependency_up{dependency="database"} 0.0' in response.text
    assert 'dxc_dependency_up{dependency="bus"} 1.0' in response.text


async def test_not_ready_when_the_bus_is_down(infrastructure: Infrastructure) -> None:
    service = Service("probe", infrastructure)  # broker never connected
    async with await _client(service) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["bus"].startswith("failing:")


async def test_correlation_id_is_echoed_or_created(infrastructure: Infrastructure) -> None:
    service = Service("probe", infrastructure)
    async with await _client(service) as client:
        given = await client.get("/healthz", headers={"X-Correlation-ID": "abc123"})
        fresh = await client.get("/healthz")
    assert given.headers["x-correlation-id"] == "abc123"
    assert len(fresh.headers["x-correlation-id"]) == 32


async def test_consumers_and_loops_run_with_the_app_and_stop_with_it(
    infrastructure: Infrastructure,
) -> None:
    service = Service("worker", infrastructure, owns_infrastructure=True)
    ticks: list[Tick] = []
    loop_cancelled = asyncio.Event()

    async def on_tick(message: Tick, context: MessageContext) -> None:
        ticks.append(message)

    async def heartbeat() -> None:
        try:
            while True:
                await service.publish(Tick())
                await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            loop_cancelled.set()
            raise

    service.subscribe(Subscription("ticks", Tick, on_tick))
    service.run_in_background(heartbeat)
    async with LifespanManager(service.app):
        await eventually(lambda: len(ticks) >= 2)
    assert loop_cancelled.is_set()


async def test_a_failing_loop_backs_off_and_fails_liveness_until_it_recovers(
    infrastructure: Infrastructure, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_module, "FIRST_LOOP_BACKOFF", 0.01)
    service = Service("worker", infrastructure, loop_backoff_max=0.16, loop_failing_unhealthy=0.5)
    attempts: list[float] = []
    broken = True

    async def wrong_database() -> None:
        attempts.append(time.monotonic())
        if broken:
            raise RuntimeError("database does not exist")
        await asyncio.Event().wait()  # works from now on

    service.run_in_background(wrong_database)
    async with LifespanManager(service.app), await _client(service) as client:
        assert (await client.get("/healthz")).status_code == 200
        await eventually(lambda: len(attempts) >= 6)
        # From the second wait on (the first includes rendering the traceback).
        gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)][1:]
        assert gaps[2] > 3 * gaps[0], f"the waits should double: {gaps}"
        assert max(gaps) < 0.16 + 0.1, f"the waits should stop growing at the ceiling: {gaps}"

        async def liveness() -> int:
            return (await client.get("/healthz")).status_code

        await eventually_async(lambda: _is(liveness(), 503), within=5)
        assert (await client.get("/healthz")).json()["failing_loops"] == [
            wrong_database.__qualname__
        ]

        broken = False
        await eventually_async(lambda: _is(liveness(), 200), within=5)


async def _is(status: Awaitable[int], expected: int) -> bool:
    return await status == expected
