from __future__ import annotations

from datetime import datetime

from dxc_shared.messages import Provider
from pydantic import BaseModel, Field


class AuthorizationCodeIn(BaseModel):
    code: str = Field(min_length=1, max_length=4096)
    redirect_uri: str = Field(min_length=1, max_length=2048)
    code_verifier: str = Field(min_length=43, max_length=128)


class AccessTokenRequest(BaseModel):
    resource: str | None = Field(
        default=None,
        max_length=512,
        description="Dynamics only: the organisation URL (or discovery service URL) the token "
        "is for",
    )


class AccessTokenOut(BaseModel):
    access_token: str
    expires_at: datetime


class CredentialStatusOut(BaseModel):
    provider: Provider
    status: str
    message: str | None
    scopes: list[str]
    access_token_expires_at: datetime | None
    updated_at: datetime


class ReauthorisationDetail(BaseModel):
    code: str = "reauthorisation_needed"
    message: str
