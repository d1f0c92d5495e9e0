from __future__ import annotations

from dxc_shared.dynamics import solution
from fastapi import APIRouter, Response

from portal_api.auth.dependencies import CurrentUser
from portal_api.connections.dependencies import OpenConnection, OwnedConnection, connection_router
from portal_api.context import Context, Session
from portal_api.kit.errors import error_responses
from portal_api.setup import service
from portal_api.setup.schemas import (
    ChecklistOut,
    ConnectionWithSettings,
    InstallOut,
    UninstallOut,
)

router = connection_router("setup")
solution_router = APIRouter(prefix="/v1/dynamics", tags=["setup"])


@router.post(
    "/dynamics/install",
    summary="Import the connector's solution into the chosen Dynamics 365 organisation, or a "
    "newer version over an older one (rows kept), and check the signed-in user's permissions",
    responses=error_responses(403, 409, 429, 502),
)
async def install(state: OpenConnection, session: Session, context: Context) -> InstallOut:
    return await service.install(session, context, state)


@router.delete(
    "/dynamics/install",
    summary="Delete the connector's solution from Dynamics 365: its tables (with their rows), "
    "columns, forms, views and security role",
    responses=error_responses(403, 409, 429, 502),
)
async def uninstall(state: OpenConnection, session: Session, context: Context) -> UninstallOut:
    return await service.uninstall(session, context, state)


@solution_router.get(
    "/solution",
    summary="The connector's Dynamics 365 solution (a managed solution .zip), for an "
    "administrator to import by hand under Settings > Solutions > Import",
    response_class=Response,
    responses={
        **error_responses(401),
        200: {"content": {"application/zip": {}}, "description": "The solution package"},
    },
)
async def download_solution(current: CurrentUser) -> Response:
    package = solution.build()
    return Response(
        package.content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{package.file_name}"',
            "X-Solution-Version": package.version,
        },
    )


@router.get(
    "/checklist",
    summary="Each step a connection needs before it syncs, done or not, with a tip",
)
async def checklist(state: OwnedConnection, session: Session, context: Context) -> ChecklistOut:
    return await service.checklist(session, context, state)


@router.post(
    "/refresh",
    summary="Re-read the settings and permissions from Dynamics 365",
    responses=error_responses(403, 409, 429, 502),
)
async def refresh(
    state: OpenConnection, session: Session, context: Context
) -> ConnectionWithSettings:
    return await service.refresh(session, context, state)
