"""The settings every sandbox has; each sandbox subclasses them with its own defaults and
environment prefix."""

from __future__ import annotations

import secrets

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    host: str = "127.0.0.1"
    port: int

    # HS256 key for the sandbox's tokens; random per process unless pinned.
    token_signing_key: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    access_token_lifetime_seconds: int
    auth_code_lifetime_seconds: int

    # How long a "timeout" fault holds a call before answering 504 (unless the fault says).
    fault_timeout_seconds: float

    # The demo seed: an organisation, a user who signs in without a consent page, an app.
    demo_seed: bool = True
    demo_tenant_id: str
    demo_client_id: str
    demo_client_secret: str
    demo_redirect_uris: list[str]
