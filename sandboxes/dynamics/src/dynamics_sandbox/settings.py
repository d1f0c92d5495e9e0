"""Configuration of the Dynamics 365 sandbox (environment prefix ``DYNAMICS_SANDBOX_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from sandbox_kit.settings import SandboxSettings


class DynamicsSandboxSettings(SandboxSettings):
    model_config = SettingsConfigDict(env_prefix="DYNAMICS_SANDBOX_", extra="ignore")

    port: int = 8420
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None

    # Entra ID token lifetimes: access tokens last 60-90 minutes in Entra, refresh tokens 90 days.
    access_token_lifetime_seconds: int = 3600
    refresh_token_lifetime_days: int = 90
    auth_code_lifetime_seconds: int = 600
    # Hosts (host[:port]), besides the one a request came to, under which clients name this
    # sandbox's organisations and discovery service in scopes: e.g. a browser signs in at
    # localhost while the scope names the host services use. Other hosts are unknown resources.
    resource_hosts: list[str] = Field(default_factory=list)

    # Dataverse service-protection limits, per user per organisation.
    limits_enabled: bool = True
    limit_window_seconds: float = 300.0
    limit_requests: int = 6000
    limit_execution_seconds: float = 1200.0
    limit_concurrent: int = 52
    # Simulated server execution time charged per request towards the execution-time limit.
    request_cost_seconds: float = 0.05

    # Organization.ExpireChangeTrackingInDays of new organisations: delta tokens older than
    # this are refused (Microsoft Learn, "Use change tracking to synchronize data with
    # external systems": seven days by default).
    change_tracking_retention_days: int = 7

    # Webhook delivery (webhooks.py): an asynchronous step's failed POST is tried again after
    # each of these waits, then its system job fails; Dataverse does not publish its schedule.
    webhook_retry_delays_seconds: list[float] = Field(
        default_factory=lambda: [5.0, 30.0, 120.0, 600.0]
    )
    webhook_timeout_seconds: float = 60.0
    webhook_concurrency: int = 8

    max_page_size: int = 5000
    max_batch_requests: int = 1000
    fault_timeout_seconds: float = 120.0

    # The demo seed: an organisation that looks like a Dynamics 365 Sales org, a user and an app.
    demo_org: str = "demo"
    demo_tenant_id: str = "8c1e5b1e-0a5d-4b7e-9f59-2d1f6f2a7c10"
    demo_user: str = "alex@contoso-demo.example"
    demo_password: str = "demo"
    demo_client_id: str = "0f0c5e2a-5a6e-4b3a-9d8e-4e7f6d9a1c01"
    demo_client_secret: str = "demo-secret"
    demo_redirect_uris: list[str] = Field(
        default_factory=lambda: ["http://127.0.0.1:8000/connections/dynamics/callback"]
    )
