from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, StringConstraints

Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]


class AuthorizeOut(BaseModel):
    authorize_url: str


class XeroOrganisation(BaseModel):
    tenant_id: str
    name: str


class XeroOrganisationIn(BaseModel):
    tenant_id: Identifier


class DynamicsOrganisation(BaseModel):
    org_url: str
    name: str
    unique_name: str


class DynamicsOrganisationIn(BaseModel):
    org_url: Identifier
