"""Settings base: each service subclasses it with its own environment prefix, adding the mixins
for what it shares with other services."""

from __future__ import annotations

from typing import Literal, TypeVar

from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from dxc_shared.xero_budget.decisions import Limits

SettingsT = TypeVar("SettingsT", bound=BaseSettings)


class SettingsError(Exception):
    """Settings that are missing or not valid, said in one line that names the environment
    variables and never their values (pydantic's own message prints every input, secrets
    included)."""


def load_settings(settings_type: type[SettingsT]) -> SettingsT:
    """`settings_type` read from the environment, or SettingsError."""
    try:
        return settings_type()
    except ValidationError as error:
        raise SettingsError(_describe(error, settings_type)) from None


def _describe(error: ValidationError, settings_type: type[BaseSettings]) -> str:
    prefix = str(settings_type.model_config.get("env_prefix") or "")
    problems = []
    for item in error.errors(include_input=False, include_url=False):
        variable = (prefix + "_".join(str(part) for part in item["loc"])).upper()
        if item["type"] == "missing":
            problems.append(f"{variable} is required")
        else:
            problems.append(f"{variable} is not valid: {item['msg']}")
    return "; ".join(problems)


class ServiceSettings(BaseSettings):
    """What every service needs to run. Required values have no default, so a service started
    without them fails at once, naming the variables that are missing (`load_settings`)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = Field(
        description="SQLAlchemy async URL, e.g. postgresql+asyncpg://user@host/db or "
        "sqlite+aiosqlite:///path.db",
    )
    broker_url: str = Field(
        description="amqp://user:pass@host:5672/vhost for RabbitMQ, or memory:// in-process",
    )
    bus_namespace: str = Field(
        default="dxc",
        description="Prefix of every exchange and queue name, so runs can share a broker",
    )
    host: str = "0.0.0.0"
    port: int = 8000
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = "json"
    shutdown_timeout_seconds: float = Field(
        default=25.0,
        description="How long in-flight messages may take to finish after SIGTERM; keep it "
        "below the pod's termination grace period",
    )
    loop_backoff_max_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Longest wait before a crashed background loop is restarted (the wait "
        "doubles from one second on each consecutive failure)",
    )
    loop_failing_unhealthy_seconds: float = Field(
        default=180.0,
        gt=0,
        description="A background loop failing for longer than this fails /healthz, so the "
        "orchestrator restarts the process",
    )


# Mixins for settings several services share, composed into a service's settings class beside
# ServiceSettings: a field is declared once and read under each service's own prefix
# (INVOICE_SYNC_TOKEN_BROKER_URL, PAYMENT_SYNC_TOKEN_BROKER_URL, ...). Plain models, not
# BaseSettings: a BaseSettings mixin would bring its own model_config and override
# ServiceSettings' one in the merged class.


class TokenBrokerClientSettings(BaseModel):
    """How a service reaches token-broker for vendor access tokens."""

    token_broker_url: str = Field(description="token-broker's base URL, e.g. http://token-broker")
    token_broker_api_key: SecretStr = Field(
        description="Bearer key for token-broker: its TOKEN_BROKER_INTERNAL_API_KEY"
    )


class XeroApiSettings(BaseModel):
    """Where the sync workers call Xero's Accounting API and where people open what they wrote."""

    xero_api_url: str = Field(
        default="https://api.xero.com/api.xro/2.0", description="Xero Accounting API root"
    )
    xero_web_url: str = Field(
        default="https://go.xero.com",
        description="Where people open Xero: the root of the invoice links written to Dynamics",
    )
    # Xero's limits (https://developer.xero.com/documentation/guides/oauth2/limits/#api-rate-limits),
    # shared by every service through the budget (dxc_shared.xero_budget); lower only for tests.
    xero_minute_limit: int = Field(default=60, gt=0, description="Calls a minute per organisation")
    xero_day_limit: int = Field(default=5000, gt=0, description="Calls a day per organisation")
    xero_concurrent_limit: int = Field(
        default=5, gt=0, description="Calls at once per organisation"
    )
    xero_app_minute_limit: int = Field(default=10_000, gt=0, description="Calls a minute per app")

    def xero_limits(self) -> Limits:
        return Limits(
            self.xero_minute_limit,
            self.xero_day_limit,
            self.xero_concurrent_limit,
            self.xero_app_minute_limit,
        )


class VendorHttpSettings(BaseModel):
    """The HTTP client a sync worker calls Xero, Dataverse and token-broker with."""

    http_timeout_seconds: float = Field(default=30.0, gt=0)


class OAuthAppSettings(BaseModel):
    """The apps registered with Xero and Microsoft Entra ID: portal-api sends people to
    authorise them, token-broker redeems and refreshes their tokens, so both need the ids."""

    xero_client_id: str = Field(description="The Xero app's client id")
    dynamics_client_id: str = Field(description="The Entra ID app registration's client id")
