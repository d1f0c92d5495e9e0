from dxc_shared.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class TokenBrokerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TOKEN_BROKER_")

    port: int = 8004
