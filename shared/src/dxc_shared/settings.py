"""Settings base: each service subclasses it with its own environment prefix."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """What every service needs to run. Required values have no default, so a service started
    without them fails at once with pydantic's list of what is missing."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = Field(
        description="SQLAlchemy async URL, e.g. postgresql+asyncpg://user@host/db or "
        "sqlite+aiosqlite:///path.db",
    )
    broker_url: str = Field(
        description="amqp://user:pass@host:5672/vhost for RabbitMQ, or memory:// in-process",
    )
    bus_namespace: str = Field(
        default="dxc",
        description="Prefix of every exchange and queue name, so runs can share a broker",
    )
    host: str = "0.0.0.0"
    port: int = 8000
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    shutdown_timeout_seconds: float = Field(
        default=25.0,
        description="How long in-flight messages may take to finish after SIGTERM; keep it "
        "below the pod's termination grace period",
    )
