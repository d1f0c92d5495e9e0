from __future__ import annotations

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
    rejected_token: str | None = Field(
        default=None,
        max_length=8192,
        description="An access token the provider has just refused (401): if it is the one "
        "held, it is not handed out again but refreshed, which shows whether the grant is gone",
    )
