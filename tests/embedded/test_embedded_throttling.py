"""`dxc dev` has no proxy in front: X-Forwarded-For is whatever the client wrote, so a new one
per attempt must not escape sign-in throttling (uvicorn believed it from 127.0.0.1)."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import httpx

from tests.support.http_server import free_port


async def test_a_new_forwarded_for_per_attempt_does_not_skip_throttling(tmp_path: Path) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "dxc"),
        "dev",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "data"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/portal-api"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:

            async def ready() -> None:
                while True:
                    try:
                        if (await client.get("/readyz")).status_code == 200:
                            return
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.2)

            await asyncio.wait_for(ready(), timeout=90)
            statuses = []
            for attempt in range(6):
                response = await client.post(
                    "/v1/auth/login",
                    json={"email": "victim@example.com", "password": "a wrong guess 1"},
                    headers={"X-Forwarded-For": f"203.0.113.{attempt + 1}"},
                )
                statuses.append(response.status_code)
        assert statuses == [401] * 5 + [429]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()
