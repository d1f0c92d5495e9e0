from dxc_shared.settings import ServiceSettings
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict


class InvoiceSyncSettings(ServiceSettings):
    """Secrets have no defaults: an invoice-sync without its token-broker key refuses to
    start."""

    model_config = SettingsConfigDict(env_prefix="INVOICE_SYNC_")

    port: int = 8002
    token_broker_url: str = Field(description="token-broker's base URL, e.g. http://token-broker")
    token_broker_api_key: SecretStr = Field(description="token-broker's internal API key")
    xero_api_url: str = Field(
        default="https://api.xero.com/api.xro/2.0", description="Xero Accounting API root"
    )
    xero_web_url: str = Field(
        default="https://go.xero.com",
        description="Where people open Xero: the root of the invoice links written to Dynamics",
    )
    http_timeout_seconds: float = Field(default=30.0, gt=0)
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
