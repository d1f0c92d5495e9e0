from dxc_shared.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class PortalApiSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_API_")

    port: int = 8000
