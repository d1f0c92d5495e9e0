"""A service for the shutdown test: the shared service shell and `run_service` (the entry point
every service uses) with one subscription whose handler takes as long as each job says. It marks
each job started and finished in files named after the job and the process id.

Run as `python -m tests.deploy.slow_worker` with SLOW_WORKER_* settings."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import ClassVar

from dxc_shared.bus import BusMessage, MessageContext, Subscription
from dxc_shared.infrastructure import Infrastructure
from dxc_shared.service import Service, run_service
from dxc_shared.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict

QUEUE = "slow-worker.jobs"


class SlowJob(BusMessage):
    topic: ClassVar[str] = "deploy-test.slow-job"
    job_id: uuid.UUID
    seconds: float
    seconds_when_retaken: float = 0.0  # once another process has started it


class SlowWorkerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SLOW_WORKER_")

    marker_dir: Path


def subscription(handler_dir: Path) -> Subscription[SlowJob]:
    def mark(job: SlowJob, stage: str) -> bool:
        """Mark `job` as having reached `stage` here; whether another process had started it."""
        retaken = any(handler_dir.glob(f"{job.job_id}.started.*"))
        (handler_dir / f"{job.job_id}.{stage}.{os.getpid()}").touch()
        return retaken

    async def handle(job: SlowJob, _context: MessageContext) -> None:
        retaken = await asyncio.to_thread(mark, job, "started")
        await asyncio.sleep(job.seconds_when_retaken if retaken else job.seconds)
        await asyncio.to_thread(mark, job, "finished")

    # Two at a time, so the consumer's prefetch would hand it a second job during the drain if
    # it still consumed.
    return Subscription(QUEUE, SlowJob, handle, concurrency=2)


def create_service(infrastructure: Infrastructure, settings: SlowWorkerSettings) -> Service:
    service = Service(
        "slow-worker", infrastructure, shutdown_timeout=settings.shutdown_timeout_seconds
    )
    service.subscribe(subscription(settings.marker_dir))
    return service


if __name__ == "__main__":
    run_service(SlowWorkerSettings, create_service)
