from dxc_shared.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class InvoiceSyncSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INVOICE_SYNC_")

    port: int = 8002
