from dxc_shared.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class SchedulerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SCHEDULER_")

    port: int = 8001
