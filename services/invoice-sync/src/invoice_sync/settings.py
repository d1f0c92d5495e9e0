from dxc_shared.settings import (
    ServiceSettings,
    TokenBrokerClientSettings,
    VendorHttpSettings,
    XeroApiSettings,
)
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class InvoiceSyncSettings(
    ServiceSettings, TokenBrokerClientSettings, XeroApiSettings, VendorHttpSettings
):
    """Secrets have no defaults: an invoice-sync without its token-broker key refuses to
    start."""

    model_config = SettingsConfigDict(env_prefix="INVOICE_SYNC_")

    port: int = 8002
    lease_ttl_seconds: float = Field(
        default=120.0,
        gt=0,
        description="How long a connection stays locked to a worker that stops renewing it "
        "(a crashed worker); renewed every third of it while a job runs",
    )
    job_concurrency: int = Field(
        default=4, ge=1, description="Invoice jobs (different connections) run at once per replica"
    )
    job_max_attempts: int = Field(
        default=6,
        ge=1,
        description="Deliveries of a job that meets a transient fault (Xero or Dataverse down, "
        "limits) before its invoices are marked Failed",
    )
