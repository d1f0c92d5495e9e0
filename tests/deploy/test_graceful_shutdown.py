"""SIGTERM loses no job: a service process stops consuming, lets the job in hand finish within
its shutdown timeout and acknowledges it; a job that cannot finish in time goes back to the queue
and another process does it. Real processes, real RabbitMQ, the same `run_service` every service
uses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aio_pika
import httpx
import pytest
from dxc_shared.bus.rabbitmq import RabbitMQBroker

from tests.deploy.catalogue import ROOT
from tests.deploy.slow_worker import QUEUE, SlowJob, subscription
from tests.support.http_server import free_port
from tests.support.polling import eventually
from tests.support.rabbitmq import delete_topology

pytestmark = pytest.mark.integration


class Worker:
    def __init__(self, process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
        self.process = process
        self.base_url = base_url
        self.log = log

    @property
    def pid(self) -> int:
        return self.process.pid

    def ready(self) -> bool:
        assert self.process.poll() is None, f"exited early:\n{self.log.read_text()}"
        try:
            return httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def exited(self) -> bool:
        return self.process.poll() is not None


@pytest.fixture
async def broker(
    rabbitmq_url: str, bus_namespace: str, tmp_path: Path
) -> AsyncIterator[RabbitMQBroker]:
    broker = RabbitMQBroker(rabbitmq_url, bus_namespace)
    await broker.connect()
    yield broker
    await broker.close()
    await delete_topology(rabbitmq_url, broker, [subscription(tmp_path)])


@pytest.fixture
def start_worker(
    migrated_postgres: str, rabbitmq_url: str, bus_namespace: str, tmp_path: Path
) -> Iterator[Callable[[float], Worker]]:
    started: list[Worker] = []

    def start(shutdown_timeout: float) -> Worker:
        port = free_port()
        env = {
            **os.environ,
            "SLOW_WORKER_DATABASE_URL": migrated_postgres,
            "SLOW_WORKER_BROKER_URL": rabbitmq_url,
            "SLOW_WORKER_BUS_NAMESPACE": bus_namespace,
            "SLOW_WORKER_HOST": "127.0.0.1",
            "SLOW_WORKER_PORT": str(port),
            "SLOW_WORKER_SHUTDOWN_TIMEOUT_SECONDS": str(shutdown_timeout),
            "SLOW_WORKER_MARKER_DIR": str(tmp_path),
        }
        log = tmp_path / f"worker-{len(started)}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.deploy.slow_worker"],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=out,
            )
        worker = Worker(process, f"http://127.0.0.1:{port}", log)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()


def markers(directory: Path, job: SlowJob, stage: str) -> list[int]:
    """The pids of the processes that reached `stage` (started / finished) of `job`."""
    return [int(path.suffix[1:]) for path in directory.glob(f"{job.job_id}.{stage}.*")]


async def waiting_in_queue(rabbitmq_url: str, broker: RabbitMQBroker) -> int:
    """Messages ready in the job queue, as RabbitMQ counts them."""
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(broker.queue_name(QUEUE), passive=True)
        count = queue.declaration_result.message_count
        assert count is not None
        return count


def logged(worker: Worker, event: str) -> bool:
    return any(
        json.loads(line).get("event") == event
        for line in worker.log.read_text().splitlines()
        if line.startswith("{")
    )


async def test_sigterm_lets_the_job_in_hand_finish_and_takes_no_new_one(
    start_worker: Callable[[float], Worker],
    broker: RabbitMQBroker,
    rabbitmq_url: str,
    tmp_path: Path,
) -> None:
    worker = start_worker(20.0)
    await eventually(worker.ready)
    in_hand = SlowJob(job_id=uuid.uuid4(), seconds=8)
    await broker.publish(in_hand)
    await eventually(lambda: markers(tmp_path, in_hand, "started") == [worker.pid])

    worker.process.send_signal(signal.SIGTERM)
    # Published during the drain, once the worker has cancelled its consumer: it must stay
    # queued although the worker has a free slot (concurrency 2) and is still running the
    # first job. (RabbitMQ itself still counts a cancelled quorum-queue consumer until its
    # unacknowledged messages are settled.)
    await eventually(lambda: logged(worker, "bus.consumer_cancelled"))
    assert not worker.exited(), "the consumer should stop before the drain, not at exit"
    later = SlowJob(job_id=uuid.uuid4(), seconds=0)
    await broker.publish(later)
    await eventually(worker.exited)

    assert worker.process.returncode == -signal.SIGTERM, worker.log.read_text()
    assert markers(tmp_path, in_hand, "finished") == [worker.pid]
    assert markers(tmp_path, later, "started") == [], worker.log.read_text()
    # The finished job was acknowledged (not back in the queue); the later one waits there.
    assert await waiting_in_queue(rabbitmq_url, broker) == 1

    successor = start_worker(20.0)
    await eventually(lambda: markers(tmp_path, later, "finished") == [successor.pid])
    assert markers(tmp_path, in_hand, "started") == [worker.pid], "the finished job ran again"


async def test_a_job_that_outlasts_the_shutdown_timeout_goes_back_to_the_queue(
    start_worker: Callable[[float], Worker],
    broker: RabbitMQBroker,
    rabbitmq_url: str,
    tmp_path: Path,
) -> None:
    first = start_worker(1.0)
    await eventually(first.ready)
    # Far longer than the 1 s shutdown timeout; quick when the second process retakes it.
    job = SlowJob(job_id=uuid.uuid4(), seconds=120, seconds_when_retaken=0)
    await broker.publish(job)
    await eventually(lambda: markers(tmp_path, job, "started") == [first.pid])

    first.process.send_signal(signal.SIGTERM)
    await eventually(first.exited)
    assert first.process.returncode == -signal.SIGTERM, first.log.read_text()
    assert markers(tmp_path, job, "finished") == []
    assert await waiting_in_queue(rabbitmq_url, broker) == 1, "the unfinished job was lost"

    second = start_worker(20.0)
    await eventually(lambda: markers(tmp_path, job, "finished") == [second.pid])
    await eventually(second.ready)
    assert await waiting_in_queue(rabbitmq_url, broker) == 0
