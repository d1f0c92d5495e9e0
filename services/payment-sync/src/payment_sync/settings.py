from dxc_shared.settings import (
    ServiceSettings,
    TokenBrokerClientSettings,
    VendorHttpSettings,
    XeroApiSettings,
)
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict


class PaymentSyncSettings(
    ServiceSettings, TokenBrokerClientSettings, XeroApiSettings, VendorHttpSettings
):
    """Secrets have no defaults: a payment-sync without its token-broker key or its Xero webhook
    key refuses to start."""

    model_config = SettingsConfigDict(env_prefix="PAYMENT_SYNC_")

    port: int = 8003
    xero_webhook_key: SecretStr = Field(
        description="The webhook key Xero shows for this app: signs every webhook delivery"
    )
    reference_data_interval_seconds: float = Field(
        default=6 * 3600,
        gt=0,
        description="How often each connection's Xero tax rates, accounts and branding themes "
        "are mirrored into Dynamics again",
    )
    reference_data_tick_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often connections due a reference-data refresh are looked for",
    )
    balances_refresh_interval_seconds: float = Field(
        default=6 * 3600,
        gt=0,
        description="How often a payments job also refreshes the balances of every linked "
        "account and contact (overdue amounts grow with time alone, unreported by Xero)",
    )
    webhook_coalesce_seconds: float = Field(
        default=10.0,
        ge=0,
        description="Webhook notifications of one connection are read from Xero together, at "
        "most once in this many seconds (one read of everything changed, not one per delivery)",
    )
