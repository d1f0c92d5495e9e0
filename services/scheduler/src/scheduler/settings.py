from dxc_shared.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class SchedulerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SCHEDULER_")

    port: int = 8001
    tick_seconds: float = Field(
        default=1.0, gt=0, description="How often due connections are looked for"
    )
    dispatch_batch_size: int = Field(
        default=500, ge=1, description="Due connections locked and dispatched per transaction"
    )
