from dxc_shared.settings import ServiceSettings
from pydantic_settings import SettingsConfigDict


class PaymentSyncSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PAYMENT_SYNC_")

    port: int = 8003
