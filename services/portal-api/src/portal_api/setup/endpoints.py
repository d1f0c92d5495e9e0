from __future__ import annotations

from fastapi import Response, status

from portal_api.connections.dependencies import OpenConnection, OwnedConnection, connection_router
from portal_api.context import Context, Session
from portal_api.kit.errors import error_responses
from portal_api.setup import service
from portal_api.setup.schemas import ChecklistOut, ConnectionWithSettings, InstallOut

router = connection_router("setup")


@router.post(
    "/dynamics/install",
    summary="Create the connector's tables and columns in the chosen Dynamics 365 organisation "
    "(idempotent) and check the signed-in user's permissions",
    responses=error_responses(403, 409, 429, 502),
)
async def install(state: OpenConnection, session: Session, context: Context) -> InstallOut:
    return await service.install(session, context, state)


@router.delete(
    "/dynamics/push",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Uninstall the connector's webhook from Dynamics 365: invoice changes then wait for "
    "the next poll (install registers it again)",
    responses=error_responses(403, 409, 429, 502),
)
async def uninstall_push(state: OpenConnection, session: Session, context: Context) -> Response:
    await service.uninstall_push(session, context, state)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


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
