from dxc_shared.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class SchedulerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SCHEDULER_")

    port: int = 8001
    tick_seconds: float = Field(
        default=1.0, gt=0, description="How often due connections are looked for"
    )
    held_interval_seconds: float = Field(
        default=900.0,
        gt=0,
        description="How often a held connection (its plan ended, or this month's invoice limit "
        "reached) gets the invoice job that tells invoices handed over meanwhile why they wait; "
        "never more often than the connection's own interval",
    )
    dispatch_batch_size: int = Field(
        default=500, ge=1, description="Due connections locked and dispatched per transaction"
    )
