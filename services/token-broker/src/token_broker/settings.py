from dxc_shared.settings import OAuthAppSettings, ServiceSettings
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict


class TokenBrokerSettings(ServiceSettings, OAuthAppSettings):
    """Secrets have no defaults: a token-broker without its keys or client secrets refuses to
    start."""

    model_config = SettingsConfigDict(env_prefix="TOKEN_BROKER_")

    port: int = 8004
    encryption_keys: SecretStr = Field(
        description="Comma-separated Fernet keys, newest first. Tokens are encrypted with the "
        "first; the others still decrypt, so a key can be rotated in without downtime "
        "(then run token-broker-rotate-keys and drop the old key)."
    )
    internal_api_key: SecretStr = Field(
        description="Bearer key the other services present to call this one"
    )
    refresh_margin_seconds: int = Field(
        default=300, description="Refresh an access token this long before it expires"
    )

    xero_client_secret: SecretStr
    xero_token_url: str = "https://identity.xero.com/connect/token"
    xero_revocation_url: str = "https://identity.xero.com/connect/revocation"

    dynamics_client_secret: SecretStr
    dynamics_token_url: str = "https://login.microsoftonline.com/organizations/oauth2/v2.0/token"
