from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

from dxc_shared.settings import OAuthAppSettings, ServiceSettings, TokenBrokerClientSettings
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict


class PortalApiSettings(ServiceSettings, TokenBrokerClientSettings, OAuthAppSettings):
    """Vendor URLs default to the real Xero and Microsoft endpoints; the embedded mode points
    them at the mounted sandboxes."""

    model_config = SettingsConfigDict(env_prefix="PORTAL_API_")

    port: int = 8000
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where browsers reach portal-api; OAuth redirect URIs are built from it "
        "and session cookies are Secure when it is https",
    )
    web_url: str = Field(
        default="http://127.0.0.1:5173",
        description="The portal web frontend: links in e-mails and redirects after OAuth",
    )

    xero_authorize_url: str = "https://login.xero.com/identity/connect/authorize"
    xero_connections_url: str = "https://api.xero.com/connections"
    xero_scopes: str = (
        "openid profile email offline_access accounting.invoices accounting.payments "
        "accounting.contacts accounting.settings"
    )

    dynamics_authorize_url: str = (
        "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize"
    )
    dynamics_discovery_url: str = Field(
        default="https://globaldisco.crm.dynamics.com",
        description="Global Discovery Service; its instances are the organisations to pick from",
    )

    trial_days: int = Field(default=14, ge=1)
    session_days: int = Field(default=14, ge=1)
    oauth_state_minutes: int = Field(default=15, ge=1)
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks (CIDR) of the reverse proxies in "
        "front of portal-api (the portal's nginx, the ingress). X-Forwarded-For is believed "
        "only from them; empty: the connecting address is the client's.",
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed logins per e-mail and client address within the window",
    )
    login_account_max_failures: int = Field(
        default=100,
        ge=1,
        description="Failed logins per e-mail from all addresses within the window: far above "
        "login_max_failures, so that one party's guesses cannot lock the owner out",
    )
    login_window_seconds: int = Field(default=900, ge=1)
    email_max_per_recipient: int = Field(
        default=5,
        ge=1,
        description="E-mails (confirmations, password resets) to one address within the e-mail "
        "window; beyond it the request gets the same answer but nothing is sent",
    )
    email_max_per_client: int = Field(
        default=20,
        ge=1,
        description="E-mails requested from one client address within the e-mail window",
    )
    email_window_seconds: int = Field(default=3600, ge=1)

    mailbox_dir: Path | None = Field(
        default=None,
        description="Development mailbox: each e-mail is written there as .eml and .json "
        "instead of being sent. Unset: e-mail goes out over SMTP.",
    )
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    email_from: str = "dx-connector <no-reply@dx-connector.example>"
    email_poll_seconds: float = Field(default=5.0, gt=0)
    notifications_every_seconds: float = Field(
        default=3600.0, gt=0, description="How often the daily digests and trial warnings are due"
    )
    push_coalesce_seconds: float = Field(
        default=1.0,
        gt=0,
        description="A connection's Dynamics push after this long without one becomes a sync "
        "request at once; those within this long after it become one more, when it ends",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks_parse(cls, value: str) -> str:
        _networks(value)  # fail at start, naming the setting, rather than on a request
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return _networks(self.trusted_proxies)


def _networks(value: str) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(part.strip()) for part in value.split(",") if part.strip())
