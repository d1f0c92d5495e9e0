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
