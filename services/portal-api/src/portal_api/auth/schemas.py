from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from portal_api.kit.text import Name, Token, no_control_characters

MIN_PASSWORD = 10


def _email(value: str) -> str:
    no_control_characters(value)
    local, at, domain = value.partition("@")
    if (
        not at
        or not local
        or "." not in domain
        or domain.startswith(".")
        or any(c.isspace() for c in value)
    ):
        raise ValueError("Enter a valid e-mail address, like name@company.com")
    return value.lower()


def _password(value: str) -> str:
    if len(value) < MIN_PASSWORD:
        raise ValueError(f"The password must have at least {MIN_PASSWORD} characters")
    if value.isdigit() or value.isalpha():
        raise ValueError("The password must mix letters with digits or symbols")
    return value


Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=320), AfterValidator(_email)
]
Password = Annotated[str, Field(max_length=128), AfterValidator(_password)]


class RegisterIn(BaseModel):
    email: Email
    name: Name
    company_name: Name


class MessageOut(BaseModel):
    message: str


class ConfirmIn(BaseModel):
    token: Token
    password: Password


class LoginIn(BaseModel):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=128)]


class PasswordResetIn(BaseModel):
    email: Email


class PasswordResetConfirmIn(BaseModel):
    token: Token
    password: Password


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    name: str
    company_name: str
    trial_ends_at: datetime
    created_at: datetime


class SignedIn(BaseModel):
    user: UserOut
    access_token: str = Field(
        description="Also accepted as `Authorization: Bearer <token>` (no CSRF header needed)"
    )
