"""The embedded mode: every service in one process on SQLite and the in-process bus."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from dxc.embedded import EMBEDDED_SERVICE_MOUNTS, create_embedded_app

from tests.support.http_server import free_port


async def test_every_service_is_mounted_ready_and_migrated(tmp_path: Path) -> None:
    app = create_embedded_app(tmp_path)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://dxc") as client,
    ):
        for mount in EMBEDDED_SERVICE_MOUNTS:
            health = await client.get(f"/{mount}/healthz")
            assert health.json() == {"status": "ok", "service": mount}
            ready = await client.get(f"/{mount}/readyz")
            assert ready.status_code == 200, ready.text
        assert (await client.get("/readyz")).json()["checks"] == {"database": "ok", "bus": "ok"}
        assert "portal-api" in (await client.get("/_services")).text
        organisations = (await client.get("/sandbox/xero/sandbox-admin/organisations")).json()
        assert "Demo Company (NZ)" in str(organisations)
        dynamics = await client.get("/sandbox/dynamics/sandbox-admin/orgs")
        assert dynamics.status_code == 200, dynamics.text
    assert (tmp_path / "dxc.sqlite3").exists()


async def test_dxc_dev_runs_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    dxc = Path(sys.executable).parent / "dxc"
    process = await asyncio.create_subprocess_exec(
        str(dxc),
        "dev",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "data"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    statuses: list[int] = []

    async def poll() -> None:
        async with httpx.AsyncClient() as client:
            while not statuses:
                try:
                    response = await client.get(f"http://127.0.0.1:{port}/portal-api/readyz")
                    statuses.append(response.status_code)
                except httpx.TransportError:
                    await asyncio.sleep(0.2)

    try:
        await asyncio.wait_for(poll(), timeout=60)
        assert statuses == [200]
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=30) == -signal.SIGTERM
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
