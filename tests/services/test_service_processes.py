"""Each service starts alone as its own process against PostgreSQL and RabbitMQ, serves
health, readiness and metrics, and exits cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import new_bus_namespace
from tests.deploy.catalogue import SERVICES as CATALOGUE
from tests.support.http_server import free_port
from tests.support.rabbitmq import delete_namespace_exchanges, delete_queues

SERVICES = {
    "portal-api": "PORTAL_API_",
    "scheduler": "SCHEDULER_",
    "invoice-sync": "INVOICE_SYNC_",
    "payment-sync": "PAYMENT_SYNC_",
    "token-broker": "TOKEN_BROKER_",
}
# Secrets a service refuses to start without (dummy values: no test here talks to a provider).
REQUIRED_SECRETS = {
    "token-broker": {
        "ENCRYPTION_KEYS": "Dx1zT4bX0m7u2xV3o8Z6yq9fQ0cJ5kR1wH2nL3pA4sE=",
        "INTERNAL_API_KEY": "test-internal-key",
        "XERO_CLIENT_ID": "test-client",
        "XERO_CLIENT_SECRET": "test-secret",
        "DYNAMICS_CLIENT_ID": "test-client",
        "DYNAMICS_CLIENT_SECRET": "test-secret",
    },
    "portal-api": {
        "TOKEN_BROKER_URL": "http://127.0.0.1:9",
        "TOKEN_BROKER_API_KEY": "test-internal-key",
        "XERO_CLIENT_ID": "test-client",
        "DYNAMICS_CLIENT_ID": "test-client",
    },
    "invoice-sync": {
        "TOKEN_BROKER_URL": "http://127.0.0.1:9",
        "TOKEN_BROKER_API_KEY": "test-internal-key",
    },
    "payment-sync": {
        "TOKEN_BROKER_URL": "http://127.0.0.1:9",
        "TOKEN_BROKER_API_KEY": "test-internal-key",
        "XERO_WEBHOOK_KEY": "test-webhook-key",
    },
}


def _wait_until_ready(base_url: str, process: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + 120  # generous: a loaded CI machine starts them slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited early with {process.returncode}")
        try:
            response = httpx.get(f"{base_url}/readyz", timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{base_url} never became ready")


@dataclass
class RunningService:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path


@pytest.fixture(scope="module")
def running_services(
    migrated_postgres: str, rabbitmq_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, RunningService]]:
    logs = tmp_path_factory.mktemp("service-logs")
    namespace = new_bus_namespace()
    started: dict[str, RunningService] = {}
    for command, prefix in SERVICES.items():
        port = free_port()
        env = {
            **os.environ,
            f"{prefix}DATABASE_URL": migrated_postgres,
            f"{prefix}BROKER_URL": rabbitmq_url,
            f"{prefix}BUS_NAMESPACE": namespace,
            f"{prefix}HOST": "127.0.0.1",
            f"{prefix}PORT": str(port),
            **{prefix + name: value for name, value in REQUIRED_SECRETS.get(command, {}).items()},
        }
        executable = Path(sys.executable).parent / command
        log_path = logs / f"{command}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen([str(executable)], env=env, stdout=log, stderr=log)
        started[command] = RunningService(f"http://127.0.0.1:{port}", process, log_path)
    yield started
    for service in started.values():
        if service.process.poll() is None:
            service.process.kill()
        service.process.wait()
    asyncio.run(_delete_bus_topology(rabbitmq_url, namespace))


async def _delete_bus_topology(rabbitmq_url: str, namespace: str) -> None:
    """What the five services declared on RabbitMQ: each one's queues, then the exchanges."""
    for command in SERVICES:
        subscriptions = CATALOGUE[command].build(namespace).subscriptions
        await delete_queues(rabbitmq_url, namespace, subscriptions)
    await delete_namespace_exchanges(rabbitmq_url, namespace)


@pytest.mark.integration
@pytest.mark.parametrize("command", list(SERVICES))
def test_service_serves_health_readiness_and_metrics_then_stops_on_sigterm(
    command: str, running_services: dict[str, RunningService]
) -> None:
    service = running_services[command]
    base_url, process = service.base_url, service.process

    ready = _wait_until_ready(base_url, process)
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "bus": "ok"}}
    health = httpx.get(f"{base_url}/healthz")
    assert health.json() == {"status": "ok", "service": command}
    metrics = httpx.get(f"{base_url}/metrics").text
    assert f'dxc_http_requests_total{{method="GET",route="/readyz",service="{command}"' in metrics

    process.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status says why the
    # process ended; anything else (a crash, a hang until SIGKILL) fails here.
    assert process.wait(timeout=20) == -signal.SIGTERM
    log_lines = [
        json.loads(line)
        for line in service.log_path.read_text().splitlines()
        if line.startswith("{")
    ]
    events = [line["event"] for line in log_lines]
    assert "service.stopped" in events
    assert all(line["level"] not in ("error", "critical") for line in log_lines), log_lines
