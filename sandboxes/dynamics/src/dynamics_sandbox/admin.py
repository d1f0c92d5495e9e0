"""Admin API under ``/sandbox-admin/``: set up organisations, users and app registrations,
seed records, inject faults, tune limits, read the call log, reset. Not part of Dataverse."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import asdict
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sandbox_kit.faults import Fault, fault_routes

from .dataverse import base_url, sandbox_of
from .errors import DataverseError
from .identity import AppRegistration, User
from .seed import bootstrap_demo, create_organization, seed_demo
from .state import Organization, SandboxState

router = APIRouter(prefix="/sandbox-admin")


class OrgIn(BaseModel):
    unique_name: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    friendly_name: str | None = None
    tenant_id: str | None = None
    base_currency: str = "NZD"
    # IANA name: the organisation's default time zone, which users without their own follow.
    time_zone: str = "UTC"
    seed: str = Field(default="none", pattern="^(none|demo)$")


class UserIn(BaseModel):
    upn: str
    password: str = "password"
    display_name: str | None = None
    tenant_id: str | None = None
    orgs: list[str] = []
    auto_approve: bool = False
    # IANA name: the user's own time zone (Personal Options); unset, the organisation's.
    time_zone: str | None = None


class AppIn(BaseModel):
    display_name: str = "Sandbox app"
    client_id: str | None = None
    client_secret: str | None = None
    redirect_uris: list[str] = []
    tenant_id: str | None = None
    public_client: bool = False
    admin_consented: bool = False
    application_user_orgs: list[str] = []


class PrivilegesIn(BaseModel):
    denied: list[str] = []


class RolesIn(BaseModel):
    roles: list[str] | None = None  # role names; null: no role assigned (every privilege)


class LimitsIn(BaseModel):
    enabled: bool | None = None
    window_seconds: float | None = None
    requests: int | None = None
    execution_seconds: float | None = None
    concurrent: int | None = None
    cost_seconds: float | None = None


class ChangeTrackingIn(BaseModel):
    # Organization.ExpireChangeTrackingInDays (0-365 in Dataverse).
    expire_in_days: int = Field(ge=0, le=365)


class ResetIn(BaseModel):
    seed_demo: bool = False


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HTTPException(422, f"unknown time zone '{name}'") from None


def _org(sandbox: SandboxState, name: str) -> Organization:
    org = sandbox.org(name)
    if org is None:
        raise HTTPException(404, f"organisation '{name}' not found")
    return org


def org_json(org: Organization, root: str) -> dict[str, Any]:
    return {
        "id": str(org.id),
        "unique_name": org.unique_name,
        "friendly_name": org.friendly_name,
        "tenant_id": org.tenant_id,
        "url": org.url(root),
        "api_url": org.api_url(root),
        "scope": f"{org.url(root)}/user_impersonation",
        "members": {str(k): str(v) for k, v in org.members.items()},
    }


@router.post("/reset")
async def reset(request: Request, body: ResetIn | None = None) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    sandbox.reset()
    if body is not None and body.seed_demo:
        bootstrap_demo(sandbox)
    return {"orgs": sorted(sandbox.orgs)}


@router.post("/orgs", status_code=201)
async def create_org(body: OrgIn, request: Request) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    if sandbox.org(body.unique_name) is not None:
        raise HTTPException(409, f"organisation '{body.unique_name}' already exists")
    zone = _zone(body.time_zone)
    org = create_organization(
        sandbox,
        body.unique_name,
        body.friendly_name or body.unique_name,
        body.tenant_id or sandbox.settings.demo_tenant_id,
        body.base_currency,
    )
    org.engine.time_zone = zone
    if body.seed == "demo":
        seed_demo(org)
    return org_json(org, base_url(request))


@router.get("/orgs")
async def list_orgs(request: Request) -> list[dict[str, Any]]:
    root = base_url(request)
    return [org_json(o, root) for o in sandbox_of(request).orgs.values()]


@router.post("/users", status_code=201)
async def create_user(body: UserIn, request: Request) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    orgs = [_org(sandbox, name) for name in body.orgs]
    zone = _zone(body.time_zone) if body.time_zone else None
    user = sandbox.identity.user(body.upn) or sandbox.identity.add_user(
        User(
            upn=body.upn,
            password=body.password,
            display_name=body.display_name or body.upn.split("@")[0],
            tenant_id=body.tenant_id or sandbox.settings.demo_tenant_id,
            auto_approve=body.auto_approve,
        )
    )
    systemusers = {
        o.unique_name: o.add_member(user.object_id, user.display_name, user.upn) for o in orgs
    }
    if zone is not None:
        for org in orgs:
            org.engine.user_time_zones[systemusers[org.unique_name]] = zone
    return {
        "upn": user.upn,
        "object_id": str(user.object_id),
        "systemuserids": {name: str(user_id) for name, user_id in systemusers.items()},
    }


@router.post("/users/{upn}/revoke-sessions")
async def revoke_sessions(upn: str, request: Request) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    user = sandbox.identity.user(upn)
    if user is None:
        raise HTTPException(404, f"user '{upn}' not found")
    sandbox.identity.revoke_sessions(user)
    return {"upn": user.upn, "tokens_valid_from": user.tokens_valid_from.isoformat()}


@router.post("/apps", status_code=201)
async def create_app_registration(body: AppIn, request: Request) -> dict[str, Any]:
    sandbox = sandbox_of(request)
    orgs = [_org(sandbox, name) for name in body.application_user_orgs]
    secret = None if body.public_client else body.client_secret or secrets.token_urlsafe(24)
    app = sandbox.identity.add_app(
        AppRegistration(
            client_id=body.client_id or str(uuid.uuid4()),
            display_name=body.display_name,
            tenant_id=body.tenant_id or sandbox.settings.demo_tenant_id,
            redirect_uris=body.redirect_uris,
            secrets=[secret] if secret else [],
            public_client=body.public_client,
            admin_consented=body.admin_consented,
        )
    )
    for org in orgs:  # application users, for the client-credentials flow
        org.add_member(
            app.service_principal_id,
            f"# {app.display_name}",
            f"{app.client_id}@sandbox",
            application_id=app.client_id,
        )
    return {
        "client_id": app.client_id,
        "client_secret": secret,
        "service_principal_id": str(app.service_principal_id),
    }


@router.put("/orgs/{org_name}/privileges/{principal}")
async def set_privileges(
    org_name: str, principal: str, body: PrivilegesIn, request: Request
) -> dict[str, Any]:
    """`principal` is a user's UPN or an app's client id; `denied` lists privilege names."""
    sandbox = sandbox_of(request)
    org = _org(sandbox, org_name)
    object_id = _principal(sandbox, principal)
    org.denied[object_id] = set(body.denied)
    if not body.denied:
        org.denied.pop(object_id)
    return {"principal": principal, "denied": sorted(body.denied)}


@router.put("/orgs/{org_name}/roles/{principal}")
async def set_roles(
    org_name: str, principal: str, body: RolesIn, request: Request
) -> dict[str, Any]:
    """Assign security roles (by name) to a user or an app; the principal then holds only their
    privileges. `roles: null` takes them away again (the sandbox's administrator)."""
    sandbox = sandbox_of(request)
    org = _org(sandbox, org_name)
    object_id = _principal(sandbox, principal)
    if body.roles is None:
        org.user_roles.pop(object_id, None)
        return {"principal": principal, "roles": None}
    entity = org.engine.schema.entity("role")
    by_name = {str(r["name"]): r["roleid"] for r in org.engine.rows(entity)}
    unknown = [name for name in body.roles if name not in by_name]
    if unknown:
        raise HTTPException(404, f"no role named {', '.join(unknown)} in '{org_name}'")
    org.user_roles[object_id] = {by_name[name] for name in body.roles}
    return {"principal": principal, "roles": sorted(body.roles)}


def _principal(sandbox: SandboxState, principal: str) -> uuid.UUID:
    user = sandbox.identity.user(principal)
    app = sandbox.identity.apps.get(principal)
    object_id = user.object_id if user else app.service_principal_id if app else None
    if object_id is None:
        raise HTTPException(404, f"principal '{principal}' not found")
    return object_id


@router.put("/orgs/{org_name}/change-tracking")
async def set_change_tracking(
    org_name: str, body: ChangeTrackingIn, request: Request
) -> dict[str, Any]:
    """How long the organisation's delta tokens stay valid (0: expire after a second)."""
    org = _org(sandbox_of(request), org_name)
    org.expire_change_tracking_in_days = body.expire_in_days
    return {"expire_in_days": body.expire_in_days}


@router.post("/orgs/{org_name}/records/{table}", status_code=201)
async def seed_records(org_name: str, table: str, request: Request) -> dict[str, Any]:
    """Insert rows directly (Web API payload shape, ``@odata.bind`` included), bypassing auth."""
    org = _org(sandbox_of(request), org_name)
    payload = await request.json()
    items = payload if isinstance(payload, list) else [payload]
    try:
        entity = org.engine.schema.entity(table)
        with org.engine.transaction():
            ids = [
                str(org.engine.create(entity, item, trusted=True)[entity.primary_id])
                for item in items
            ]
    except DataverseError as error:
        raise HTTPException(error.status, error.body()) from None
    return {"ids": ids}


@router.get("/orgs/{org_name}/webhook-deliveries")
async def webhook_deliveries(org_name: str, request: Request) -> list[dict[str, Any]]:
    """The organisation's webhook deliveries (its asynchronous system jobs), oldest first, each
    with its attempts."""
    sandbox = sandbox_of(request)
    org = _org(sandbox, org_name)
    return [d.to_json() for d in sandbox.webhooks.deliveries if d.org == org.unique_name]


@router.get("/limits")
async def get_limits(request: Request) -> dict[str, Any]:
    return asdict(sandbox_of(request).limits.config)


@router.put("/limits")
async def set_limits(body: LimitsIn, request: Request) -> dict[str, Any]:
    limits = sandbox_of(request).limits
    for name, value in body.model_dump(exclude_none=True).items():
        setattr(limits.config, name, value)
    limits.reset()
    return asdict(limits.config)


@router.post("/faults", status_code=201)
async def add_fault(body: Fault, request: Request) -> dict[str, Any]:
    return sandbox_of(request).faults.add(body).model_dump()


router.include_router(fault_routes(lambda request: sandbox_of(request).faults))


@router.get("/calls")
async def calls(
    request: Request,
    org: str | None = None,
    method: str | None = None,
    path_contains: str | None = None,
) -> list[dict[str, Any]]:
    return [
        c.to_json()
        for c in sandbox_of(request).calls
        if (org is None or c.org == org)
        and (method is None or c.method == method.upper())
        and (path_contains is None or path_contains in c.path)
    ]


@router.delete("/calls", status_code=204)
async def clear_calls(request: Request) -> None:
    sandbox_of(request).calls.clear()
