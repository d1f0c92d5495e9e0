"""The contract of token-broker's API, shared by the service and its clients: what a credential
looks like from outside (never its refresh token) and the ways a token request can fail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from dxc_shared.messages import Provider


class AccessToken(BaseModel):
    access_token: str
    expires_at: datetime

    def __repr__(self) -> str:  # keep tokens out of logs and tracebacks
        return f"AccessToken(expires_at={self.expires_at.isoformat()})"

    __str__ = __repr__


class CredentialStatus(BaseModel):
    """Read from token-broker's answer, or (`from_attributes`) from its credential row, where
    the message is `status_message`."""

    model_config = ConfigDict(from_attributes=True)

    provider: Provider
    status: str
    message: str | None = Field(validation_alias=AliasChoices("message", "status_message"))
    scopes: list[str]
    access_token_expires_at: datetime | None
    updated_at: datetime


class ReauthorisationNeeded(Exception):
    def __init__(self, provider: Provider, message: str) -> None:
        super().__init__(message)
        self.provider = provider
        self.message = message


class CredentialMissing(Exception):
    pass


class AuthorisationFailed(Exception):
    """The provider refused to exchange an authorisation code; `message` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReauthorisationDetail(BaseModel):
    """The body of token-broker's 409 answer."""

    code: str = "reauthorisation_needed"
    message: str


# What vendor clients take: the access token for their next call, and (optionally) where to
# hand back a token the vendor refused before it expired.
AccessTokenSource = Callable[[], Awaitable[str]]
TokenRejected = Callable[[str], Awaitable[None]]
