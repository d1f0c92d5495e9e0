from __future__ import annotations

from pydantic import BaseModel

from portal_api.kit.text import Identifier


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
