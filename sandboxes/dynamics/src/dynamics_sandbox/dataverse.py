"""HTTP routes of an organisation's Web API and of the Global Discovery Service."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from . import dispatch
from .api_messages import ApiRequest, ApiResponse
from .errors import DataverseError
from .identity import DISCOVERY, Principal
from .state import API_VERSION, Organization, SandboxState
from .webapi import WebApi

router = APIRouter()
SUPPORTED_VERSIONS = frozenset({"v9.0", "v9.1", "v9.2"})


def sandbox_of(request: Request) -> SandboxState:
    sandbox: SandboxState = request.app.state.sandbox
    return sandbox


def base_url(request: Request) -> str:
    """The sandbox's own root URL as the caller sees it (host, scheme and mount prefix)."""
    # request.base_url would drop the prefix of a mount; root_path carries it.
    root_path = request.scope.get("root_path", "")
    return str(request.url.replace(path=root_path, query="", fragment="")).rstrip("/")


def _unauthorized(request: Request, resource_url: str) -> Response:
    # Dataverse answers 401 with an empty body and points at the authority to use.
    authority = f"{base_url(request)}/common/oauth2/authorize"
    return Response(
        status_code=401,
        headers={
            "WWW-Authenticate": f"Bearer authorization_uri={authority}, resource_id={resource_url}"
        },
    )


def authenticate(request: Request, resource: str) -> Principal | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    root_path = request.scope.get("root_path", "")
    principal = sandbox_of(request).identity.validate(header[7:].strip(), resource, root_path)
    if principal is not None:
        request.state.user = principal.name
    return principal


def _render(response: ApiResponse, extra: dict[str, str]) -> Response:
    headers = {"OData-Version": "4.0", **extra, **response.headers}
    if response.raw is not None:
        return Response(
            response.raw,
            status_code=response.status,
            headers=headers,
            media_type=response.content_type,
        )
    if response.body is None:
        return Response(status_code=response.status, headers=headers)
    content = json.dumps(response.body).encode("utf-8")
    return Response(
        content, status_code=response.status, headers=headers, media_type=response.content_type
    )


@router.api_route(
    "/orgs/{org_name}/api/data/{version}/{path:path}",
    methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
)
async def web_api(org_name: str, version: str, path: str, request: Request) -> Response:
    sandbox = sandbox_of(request)
    org = sandbox.org(org_name)
    request.state.org = org_name
    if org is None or version not in SUPPORTED_VERSIONS:
        return JSONResponse(
            {"error": {"code": "0x8006088a", "message": "Resource not found."}}, status_code=404
        )
    principal = authenticate(request, f"org:{org.unique_name}")
    if principal is None:
        return _unauthorized(request, org.url(base_url(request)))
    key = str(principal.object_id)
    try:
        if principal.object_id not in org.members:
            raise DataverseError(403, "0x80072560", "The user is not a member of the organization.")
        sandbox.limits.admit(org.unique_name, key)
    except DataverseError as error:
        return _render(ApiResponse(error.status, error.body(), dict(error.headers)), {})
    try:
        await asyncio.sleep(getattr(request.state, "latency", 0.0))
        api_request = ApiRequest(
            method=request.method,
            path=path,
            query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.body(),
        )
        api = WebApi(org, principal, org.api_url(base_url(request)), sandbox.settings)
        response = dispatch.handle(api, api_request)
    finally:
        sandbox.limits.release(org.unique_name, key)
    return _render(response, sandbox.limits.remaining(org.unique_name, key))


def instance_json(org: Organization, root: str, principal: Principal) -> dict[str, Any]:
    return {
        "Id": str(org.id),
        "UniqueName": org.unique_name,
        "UrlName": org.unique_name,
        "FriendlyName": org.friendly_name,
        "State": 0,
        "Version": org.version,
        "Url": org.url(root),
        "ApiUrl": org.url(root),
        "LastUpdated": org.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Region": org.region,
        "DatacenterId": "00000000-0000-0000-0000-000000000000",
        "TenantId": org.tenant_id,
        "EnvironmentId": str(org.environment_id),
        "Purpose": "",
        "OrganizationType": 0,
        "IsUserSysAdmin": org.denied.get(principal.object_id) is None,
        "TrialExpirationDate": None,
        "OrganizationVersion": API_VERSION,
    }


@router.get("/api/discovery/v2.0/Instances")
async def instances(request: Request) -> Response:
    sandbox = sandbox_of(request)
    principal = authenticate(request, DISCOVERY)
    root = base_url(request)
    if principal is None:
        return _unauthorized(request, root)
    reachable = [o for o in sandbox.orgs.values() if principal.object_id in o.members]
    return JSONResponse(
        {
            "@odata.context": f"{root}/api/discovery/v2.0/$metadata#Instances",
            "value": [instance_json(o, root, principal) for o in reachable],
        },
        headers={"OData-Version": "4.0"},
    )


@router.get("/api/discovery/v2.0/Instances({key})")
async def instance(key: str, request: Request) -> Response:
    """One instance by id or ``UniqueName='...'`` ("Discover user organizations", Microsoft
    Learn: ``Instances(UniqueName='myorg')``)."""
    sandbox = sandbox_of(request)
    principal = authenticate(request, DISCOVERY)
    root = base_url(request)
    if principal is None:
        return _unauthorized(request, root)
    name = key.removeprefix("UniqueName=").strip("'") if key.startswith("UniqueName=") else None
    found = next(
        (
            o
            for o in sandbox.orgs.values()
            if principal.object_id in o.members
            and (o.unique_name == name if name is not None else str(o.id) == key.strip("'"))
        ),
        None,
    )
    if found is None:
        return JSONResponse(
            {"error": {"code": "0x80040217", "message": f"No instance matches {key}."}},
            status_code=404,
            headers={"OData-Version": "4.0"},
        )
    body = {"@odata.context": f"{root}/api/discovery/v2.0/$metadata#Instances/$entity"}
    body.update(instance_json(found, root, principal))
    return JSONResponse(body, headers={"OData-Version": "4.0"})
