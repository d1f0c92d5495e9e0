"""Configuration of the Xero sandbox (environment prefix ``XERO_SANDBOX_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from sandbox_kit.settings import SandboxSettings


class XeroSandboxSettings(SandboxSettings):
    model_config = SettingsConfigDict(env_prefix="XERO_SANDBOX_", extra="ignore")

    port: int = 8410

    # Xero's lifetimes: access tokens 30 minutes, refresh tokens 60 days (each rotation restarts
    # the 60 days), a spent refresh token still works for a 30-minute grace period.
    access_token_lifetime_seconds: int = 1800
    refresh_token_lifetime_seconds: int = 60 * 24 * 3600
    refresh_token_grace_seconds: int = 1800
    auth_code_lifetime_seconds: int = 300
    login_session_lifetime_seconds: int = 900

    # Accounting API rate limits (Xero: per organisation 60/min, 5,000/day, 5 concurrent; per
    # app 10,000/min across all organisations).
    rate_limits_enabled: bool = True
    minute_limit: int = 60
    day_limit: int = 5000
    concurrent_limit: int = 5
    app_minute_limit: int = 10000

    # Idempotency-Key replays are remembered this long.
    idempotency_window_seconds: int = 600

    fault_timeout_seconds: float = 60.0

    # Webhooks: deliveries go to webhook_url signed with webhook_key (both settable at runtime
    # through the admin API too).
    webhook_url: str | None = None
    webhook_key: str = "sandbox-webhook-key"
    webhook_batch_delay_seconds: float = 0.2
    webhook_max_attempts: int = 5
    webhook_retry_base_seconds: float = 0.5
    webhook_timeout_seconds: float = 5.0

    # The public web address of the sandbox, for absolute links (OnlineInvoiceUrl, webhook
    # resourceUrl) generated outside a request; taken from the request when unset.
    public_base_url: str | None = None

    # The demo seed: a New Zealand organisation, a user who auto-approves and a client.
    demo_tenant_id: str = "3f7f0c52-6b7e-4d0a-9f6c-1f1d2e3a4b5c"
    demo_org_name: str = "Demo Company (NZ)"
    demo_user_email: str = "demo@xero-sandbox.example"
    demo_user_password: str = "demo"
    demo_client_id: str = "DEMOCLIENTID0000000000000000000"
    demo_client_secret: str = "demo-client-secret"
    demo_redirect_uris: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:8000/connections/xero/callback"]
    )
